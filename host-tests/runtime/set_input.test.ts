// Interpreter.setInput: input data of the wrong type or size is rejected
// with InvalidInputError before anything is written.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

async function microSpeech() {
  const microq = await loadBundle();
  const entry = tflmModel("micro_speech_quantized");
  return { microq, entry, interpreter: new microq.Interpreter(readFixture(entry.model)) };
}

test("setInput: typed array gives golden output", async () => {
  const { entry, interpreter } = await microSpeech();
  const c = entry.cases[0];
  const raw = readFixture(c.inputs[0]);
  interpreter.setInput(0, new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  interpreter.invoke();
  assert.equal(asInt8(interpreter.outputs[0].bytes), asInt8(readFixture(c.outputs[0])));
});

test("setInput: raw bytes give golden output", async () => {
  const { entry, interpreter } = await microSpeech();
  const c = entry.cases[1];
  interpreter.setInput(0, readFixture(c.inputs[0]));
  interpreter.invoke();
  assert.equal(asInt8(interpreter.outputs[0].bytes), asInt8(readFixture(c.outputs[0])));
});

test("setInput: wrong size or type rejected", async () => {
  const { microq, interpreter } = await microSpeech();
  interpreter.inputs[0].bytes.fill(7);
  const wrong: ArrayBufferView[] = [new Int8Array(1959), new Int8Array(1961), new Int16Array(1960), new Uint8Array(10), new Float32Array(1960)];
  for (const data of wrong) {
    try {
      interpreter.setInput(0, data);
      assert.unreachable(`${data.constructor.name} of ${data.byteLength} bytes must be rejected`);
    } catch (error) {
      assert.instance(error, microq.InvalidInputError);
      assert.match((error as Error).message, /int8 \[1,1960\] \(1960 elements, 1960 bytes\)/);
      assert.match((error as Error).message, /pass an Int8Array of 1960 elements or a Uint8Array of 1960 bytes/);
    }
  }
  assert.ok(interpreter.inputs[0].bytes.every((value: number) => value === 7), "nothing written");
});

test("setInput: index out of range rejected", async () => {
  const { microq, interpreter } = await microSpeech();
  assert.throws(
    () => interpreter.setInput(1, new Int8Array(1960)),
    (error: Error) => error instanceof microq.InvalidInputError && /input index 1 is out of range; the model has 1 input tensor$/.test(error.message),
  );
});

test.run();
