// MEAN on the XS engine through the rollup bundle: the same one-operator
// models as mean.test.ts must give the outputs of the TFLM transcription,
// and invoke must allocate nothing on the XS heap.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../../tools/tflite/writer.js";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { MEAN_CASES, buildMeanModel } from "./mean_cases.js";

function outputValues(bytes: Uint8Array, type: "int8" | "int16"): number[] {
  if (type === "int16") return Array.from(new Int16Array(bytes.slice().buffer));
  return Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

for (const c of MEAN_CASES) {
  test(`mean ${c.name} on XS`, async () => {
    const built = buildMeanModel(c);
    // Two invokes, so that sums kept from the previous invoke would show.
    const result = await runModelOnXs({ model: writeModel(built.spec), inputs: [built.input], repeat: 2 });
    assert.equal(outputValues(result.outputs[0], c.type), built.expected);
  });
}

test("mean XS invoke allocates nothing", async () => {
  for (const name of ["mobilenet head 7x7x1280", "alternating axes, rank 5", "int16 rescale and zero points"]) {
    const c = MEAN_CASES.find((x) => x.name === name);
    assert.ok(c, `case ${name} exists`);
    const built = buildMeanModel(c);
    const count = await measureXsAllocations(writeModel(built.spec), 20, { inputs: [built.input] });
    assert.is(count.slots, 0, `${name}: slots`);
    assert.is(count.chunkBytes, 0, `${name}: chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${name}: chunk bytes in use`);
  }
});

test.run();
