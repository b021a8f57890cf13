// Whole models on QuickJS (the WebAssembly build in quickjs-emscripten), through the same
// rollup bundle as Node and XS: the TFLM golden cases must match byte for byte. Of
// person_detect, only the two image cases run, because one invoke there took 0.9 s on a
// 2-core Linux VM.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { QuickJsError, runModelOnQuickJs } from "../../tools/quickjs/engine.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

/** Returns the value `promise` rejects with, or undefined when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

for (const name of ["hello_world_int8", "micro_speech_quantized", "keyword_scrambled_8bit", "trained_lstm_int8", "dtln_noise_suppression"]) {
  test(`${name}: TFLM cases bit-exact on QuickJS`, async () => {
    const entry = tflmModel(name);
    const model = readFixture(entry.model);
    for (const c of entry.cases) {
      const result = await runModelOnQuickJs({ model, inputs: c.inputs.map(readFixture) });
      assert.is(result.outputs.length, c.outputs.length, `${name} ${c.case} output count`);
      c.outputs.forEach((path, i) => {
        assert.equal(asInt8(result.outputs[i]), asInt8(readFixture(path)), `${name} ${c.case} output ${i}`);
      });
    }
  });
}

test("person_detect: TFLM image scores on QuickJS", async () => {
  const entry = tflmModel("person_detect");
  const model = readFixture(entry.model);
  const expected: Record<string, number[]> = { image_person: [-113, 113], image_no_person: [57, -57] };
  for (const [caseName, scores] of Object.entries(expected)) {
    const c = entry.cases.find((x) => x.case === caseName);
    assert.ok(c, `case ${caseName} exists`);
    const result = await runModelOnQuickJs({ model, inputs: c.inputs.map(readFixture) });
    assert.equal(asInt8(result.outputs[0]), scores, `${caseName} scores`);
    assert.equal(asInt8(result.outputs[0]), asInt8(readFixture(c.outputs[0])), `${caseName} golden output`);
  }
});

test("truncated model: rejects with InvalidModelError", async () => {
  const model = readFixture(tflmModel("hello_world_int8").model).subarray(0, 1500);

  // The message must be the one the same bundle throws on Node.
  const microq = await loadBundle();
  let nodeError: unknown;
  try {
    new microq.Interpreter(model);
  } catch (error) {
    nodeError = error;
  }
  assert.instance(nodeError, microq.InvalidModelError, "Node rejects the truncated model");

  const quickJsError = await rejectionOf(runModelOnQuickJs({ model, inputs: [new Uint8Array(1)] }));
  assert.instance(quickJsError, QuickJsError, "QuickJS run rejects");
  const error = quickJsError as QuickJsError;
  assert.is(error.message, (nodeError as Error).message);
  assert.is(error.code, "INVALID_MODEL");
  assert.is(error.quickJsName, "InvalidModelError");
});

test("person_detect: timeout stops the run", async () => {
  const entry = tflmModel("person_detect");
  const c = entry.cases.find((x) => x.case === "image_person");
  assert.ok(c, "case image_person exists");
  const request = { model: readFixture(entry.model), inputs: c.inputs.map(readFixture), timeoutMs: 200 };
  const started = Date.now();
  const error = await rejectionOf(runModelOnQuickJs(request));
  const elapsedMs = Date.now() - started;

  assert.instance(error, Error, "the run rejects");
  assert.match((error as Error).message, "timed out after 200 ms");
  assert.ok(elapsedMs < 2000, `the run stopped ${elapsedMs} ms after it started`);
});

test("person_detect: memory limit stops the run", async () => {
  const entry = tflmModel("person_detect");
  const c = entry.cases.find((x) => x.case === "image_person");
  assert.ok(c, "case image_person exists");
  // 64 KiB cannot hold both the loaded bundle and the 55 KB arena of person_detect.
  const request = { model: readFixture(entry.model), inputs: c.inputs.map(readFixture), memoryLimitBytes: 64 * 1024 };
  const error = await rejectionOf(runModelOnQuickJs(request));

  assert.instance(error, Error, "the run rejects");
  assert.match((error as Error).message, "ran out of memory");
  assert.match((error as Error).message, "65536 bytes");
});

test.run();
