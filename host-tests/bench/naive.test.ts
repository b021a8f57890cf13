// The naive baseline (dist/microq-naive.js) must be bit-exact with TFLM like
// microq itself: every TFLM golden case of the fixture models, and every
// intermediate tensor of person_detect's case rand0, byte for byte.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NAIVE_BUNDLE_PATH } from "../../tools/bench/bundles.js";
import { TFLM_FIXTURES, asInt8, readFixture, tflmModel } from "../fixtures.js";

type NaiveMicroq = typeof import("../../bench/naive/index.js");

/** BuiltinOperator codes of the TFLite schema. */
const CONV_2D = 3;
const DEPTHWISE_CONV_2D = 4;
const FULLY_CONNECTED = 9;
const SOFTMAX = 25;

function loadNaiveBundle(): Promise<NaiveMicroq> {
  return import(pathToFileURL(NAIVE_BUNDLE_PATH).href) as Promise<NaiveMicroq>;
}

test("resolver: naive conv, depthwise and fully connected", async () => {
  const naive = await loadNaiveBundle();
  for (const code of [CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED]) {
    const kernel = naive.resolveNaiveKernel(code);
    assert.ok(kernel !== undefined, `kernel for code ${code}`);
    assert.is(kernel, naive.naiveKernels.get(code), `naive kernel for code ${code}`);
    assert.is.not(kernel, naive.findKernel(code), `code ${code} is not microq's kernel`);
  }
});

test("resolver: other operators fall back to microq", async () => {
  const naive = await loadNaiveBundle();
  assert.is(naive.resolveNaiveKernel(SOFTMAX), naive.findKernel(SOFTMAX));
  assert.is(naive.resolveNaiveKernel(-1), undefined, "custom operator");
  assert.is(naive.resolveNaiveKernel(999), undefined, "unknown code");
});

for (const name of ["hello_world_int8", "micro_speech_quantized", "person_detect"]) {
  test(`${name}: naive TFLM cases bit-exact`, async () => {
    const naive = await loadNaiveBundle();
    const entry = tflmModel(name);
    const interpreter = new naive.Interpreter(readFixture(entry.model), { resolveKernel: naive.resolveNaiveKernel });
    for (const c of entry.cases) {
      c.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
      interpreter.invoke();
      c.outputs.forEach((path, i) => {
        assert.equal(asInt8(interpreter.outputs[i].bytes), asInt8(readFixture(path)), `${name} ${c.case} output ${i}`);
      });
    }
  });
}

test("person_detect: naive layers match TFLM dump", async () => {
  const naive = await loadNaiveBundle();
  const entry = tflmModel("person_detect");
  const interpreter = new naive.Interpreter(readFixture(entry.model), { resolveKernel: naive.resolveNaiveKernel });
  const dumpDir = resolve(TFLM_FIXTURES, "dumps", "person_detect", "rand0");
  const index = JSON.parse(readFileSync(resolve(dumpDir, "index.json"), "utf8")) as {
    tensors: Array<{ index: number; file: string; producer_op_index: number | null; producer_op: string | null }>;
  };
  const rand0 = entry.cases.find((c) => c.case === "rand0");
  assert.ok(rand0, "case rand0 exists");

  let compared = 0;
  for (const tensor of index.tensors) {
    if (tensor.producer_op_index === null) continue;
    // A later operator may reuse a tensor's memory, so each layer is read
    // right after the operator that writes it, from a fresh input.
    rand0.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
    interpreter.invokeUntil(tensor.producer_op_index + 1);
    const expected = new Uint8Array(readFileSync(resolve(dumpDir, tensor.file)));
    assert.equal(
      asInt8(interpreter.tensorBytes(tensor.index)),
      asInt8(expected),
      `tensor ${tensor.index} from operator ${tensor.producer_op_index} (${tensor.producer_op})`,
    );
    compared++;
  }
  assert.ok(compared > 0, "at least one layer compared");
});

test.run();
