// Whole models on Node.js through the rollup bundle: every TFLM golden case
// of the models this runtime supports must match byte for byte, and every
// intermediate tensor of case rand0 must match TFLM's dump.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { TFLM_FIXTURES, asInt8, readFixture, tflmModel } from "../fixtures.js";

const MODELS = ["hello_world_int8", "person_detect", "micro_speech_quantized"];

for (const name of MODELS) {
  test(`${name}: TFLM cases bit-exact`, async () => {
    const microq = await loadBundle();
    const entry = tflmModel(name);
    const interpreter = new microq.Interpreter(readFixture(entry.model));
    for (const c of entry.cases) {
      c.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
      interpreter.invoke();
      c.outputs.forEach((path, i) => {
        assert.equal(asInt8(interpreter.outputs[i].bytes), asInt8(readFixture(path)), `${name} ${c.case} output ${i}`);
      });
    }
  });

  test(`${name}: layers match TFLM dump`, async () => {
    const microq = await loadBundle();
    const entry = tflmModel(name);
    const interpreter = new microq.Interpreter(readFixture(entry.model));
    const dumpDir = resolve(TFLM_FIXTURES, "dumps", name, "rand0");
    const index = JSON.parse(readFileSync(resolve(dumpDir, "index.json"), "utf8")) as {
      tensors: Array<{ index: number; file: string; producer_op_index: number | null; producer_op: string | null }>;
    };
    const rand0 = entry.cases.find((c) => c.case === "rand0");
    assert.ok(rand0, "case rand0 exists");
    let compared = 0;
    for (const tensor of index.tensors) {
      if (tensor.producer_op_index === null) continue;
      // Later operators may reuse an earlier tensor's memory, so each layer
      // is checked right after the operator that produces it, from a fresh input.
      rand0.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
      interpreter.invokeUntil(tensor.producer_op_index + 1);
      const expected = new Uint8Array(readFileSync(resolve(dumpDir, tensor.file)));
      assert.equal(
        asInt8(interpreter.tensorBytes(tensor.index)),
        asInt8(expected),
        `${name} tensor ${tensor.index} from operator ${tensor.producer_op_index} (${tensor.producer_op})`,
      );
      compared++;
    }
    assert.ok(compared > 0, "at least one layer compared");
  });
}

test("person_detect: arena equals live activations", async () => {
  const microq = await loadBundle();
  const interpreter = new microq.Interpreter(readFixture(tflmModel("person_detect").model));
  // The largest set of tensors alive at once: a 48x48x8 input and a 48x48x16 output.
  assert.is(interpreter.arenaBytes, 48 * 48 * 8 + 48 * 48 * 16);
  assert.ok(interpreter.arenaBytes < tflmModel("person_detect").tflm_arena_used_bytes);
});

test.run();
