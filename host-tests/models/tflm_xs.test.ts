// Whole models on the XS engine, through the same rollup bundle as Node:
// every TFLM golden case of the supported models must match byte for byte.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

const MODELS = ["hello_world_int8", "person_detect", "micro_speech_quantized"];

for (const name of MODELS) {
  test(`${name}: TFLM cases bit-exact on XS`, async () => {
    const entry = tflmModel(name);
    const model = readFixture(entry.model);
    for (const c of entry.cases) {
      const result = await runModelOnXs({ model, inputs: c.inputs.map(readFixture) });
      c.outputs.forEach((path, i) => {
        assert.equal(asInt8(result.outputs[i]), asInt8(readFixture(path)), `${name} ${c.case} output ${i}`);
      });
    }
  });
}

test("person_detect: TFLM image scores on XS", async () => {
  const entry = tflmModel("person_detect");
  const model = readFixture(entry.model);
  const expected: Record<string, number[]> = { image_person: [-113, 113], image_no_person: [57, -57] };
  for (const [caseName, scores] of Object.entries(expected)) {
    const c = entry.cases.find((x) => x.case === caseName);
    assert.ok(c, `case ${caseName} exists`);
    const result = await runModelOnXs({ model, inputs: c.inputs.map(readFixture) });
    assert.equal(asInt8(result.outputs[0]), scores, caseName);
  }
});

test.run();
