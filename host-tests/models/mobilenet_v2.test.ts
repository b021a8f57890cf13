// mobilenet_v2_quantized_1x3x224x224 on Node.js through the rollup bundle.
// The outputs must equal TFLM's golden outputs byte for byte, and the dog
// image's top-1 class must be TFLM's, index 258. The global average pool
// (MEAN over axes 1 and 2) must equal the BigInt transcription of TFLM's MEAN
// on the layer's real input. The fixtures have no layer dumps for this model,
// so that input comes from microq's own previous layers.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { readFixture, tflmModel } from "../fixtures.js";
import { referenceMean } from "../kernels/mean_reference.js";

const MODEL = "mobilenet_v2_quantized_1x3x224x224";
const DOG_CASE = "real_pytorch_dog";
const DOG_TOP1 = 258;

/** The MEAN operator of the model and its tensors, from `microq inspect`. */
const MEAN_OPERATOR = 81;
const MEAN_INPUT = 98;
const MEAN_OUTPUT = 63;

function int8Values(bytes: Uint8Array): number[] {
  return Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Returns the index of the largest value, the first one on a tie. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function newInterpreter() {
  const microq = await loadBundle();
  return new microq.Interpreter(readFixture(tflmModel(MODEL).model));
}

test("mobilenet_v2 TFLM cases bit-exact", async () => {
  const entry = tflmModel(MODEL);
  const interpreter = await newInterpreter();
  assert.is(entry.cases.length, 4);
  for (const c of entry.cases) {
    interpreter.resetState();
    interpreter.inputs[0].bytes.set(readFixture(c.inputs[0]));
    interpreter.invoke();
    assert.equal(int8Values(interpreter.outputs[0].bytes), int8Values(readFixture(c.outputs[0])), `case ${c.case}`);
  }
});

test("mobilenet_v2 dog top-1 is 258", async () => {
  const dog = tflmModel(MODEL).cases.find((c) => c.case === DOG_CASE);
  assert.ok(dog, `case ${DOG_CASE} exists`);
  assert.is(argmax(int8Values(readFixture(dog.outputs[0]))), DOG_TOP1, "TFLM's golden output");

  const interpreter = await newInterpreter();
  interpreter.inputs[0].bytes.set(readFixture(dog.inputs[0]));
  interpreter.invoke();
  assert.is(argmax(int8Values(interpreter.outputs[0].bytes)), DOG_TOP1, "microq's output");
});

test("mobilenet_v2 global average pool matches TFLM MEAN", async () => {
  const interpreter = await newInterpreter();
  const input = interpreter.model.tensors[MEAN_INPUT];
  const output = interpreter.model.tensors[MEAN_OUTPUT];
  assert.is(interpreter.model.operators[MEAN_OPERATOR].name, "MEAN");
  assert.equal(interpreter.model.operators[MEAN_OPERATOR].inputs[0], MEAN_INPUT);
  assert.equal(input.shape, [1, 7, 7, 1280]);
  assert.equal(output.shape, [1, 1, 1, 1280]);

  for (const c of tflmModel(MODEL).cases) {
    interpreter.resetState();
    interpreter.inputs[0].bytes.set(readFixture(c.inputs[0]));
    interpreter.invokeUntil(MEAN_OPERATOR);
    const pooled = int8Values(interpreter.tensorBytes(MEAN_INPUT));
    const expected = referenceMean({
      type: "int8",
      shape: input.shape,
      values: pooled,
      axes: [1, 2],
      inputScale: input.scale[0],
      inputZeroPoint: input.zeroPoint[0],
      outputScale: output.scale[0],
      outputZeroPoint: output.zeroPoint[0],
    });
    interpreter.invokeOperator(MEAN_OPERATOR);
    assert.equal(int8Values(interpreter.tensorBytes(MEAN_OUTPUT)), expected, `case ${c.case}`);
  }
});

test.run();
