// The gesture example's model and replay data. The training script is run
// again and must reproduce the committed files byte for byte, so they
// cannot go stale. The committed model must also reach the test accuracy
// that examples/gesture/MODEL.md states, counted with microq's Interpreter.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { parseModel } from "../../runtime/model.js";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { GESTURE_CLASSES, WINDOW_VALUES, generateDataset } from "../../tools/gesture/dataset.js";
import { argmax } from "../../tools/gesture/mlp.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { buildGestureModel, countInt8Correct, float32Bytes, quantizeWindow } from "../../tools/gesture/pipeline.js";

const EXAMPLE = resolve(REPOSITORY_ROOT, "examples", "gesture");
const committed = (name: string): Uint8Array => new Uint8Array(readFileSync(resolve(EXAMPLE, name)));

// Figures stated in examples/gesture/MODEL.md: correct windows of the 600 in the test split.
const FLOAT_CORRECT = 595;
const INT8_CORRECT = 595;
const TEST_WINDOWS = 600;

// NOTE: training uses Math.exp, Math.log, Math.sin and Math.cos, whose last bit ECMAScript leaves open. V8 computes them with
// its own port of fdlibm, not the C library, so Node.js versions agree; another engine may train a different model.
test("training script: reproduces committed files", () => {
  const model = buildGestureModel();
  assert.is(model.floatCorrect, FLOAT_CORRECT, "float test accuracy");
  assert.is(model.int8Correct, INT8_CORRECT, "int8 test accuracy");
  assert.is(model.testCount, TEST_WINDOWS);
  assert.ok(Buffer.from(model.tflite).equals(committed("gesture.tflite")), "gesture.tflite differs from the one the training script writes; run npm run train:gesture");
  assert.ok(Buffer.from(float32Bytes(model.recorded.windows)).equals(committed("recorded.bin")), "recorded.bin differs");
  const labels = new TextDecoder().decode(committed("recorded-labels.txt")).trimEnd().split("\n");
  assert.equal(labels, Array.from(model.recorded.labels, (label) => GESTURE_CLASSES[label]));
  assert.equal(new TextDecoder().decode(committed("labels.txt")).trimEnd().split("\n"), [...GESTURE_CLASSES]);
});

test("committed model: int8 test accuracy", () => {
  const { test: split } = generateDataset();
  assert.is(split.labels.length, TEST_WINDOWS);
  assert.is(countInt8Correct(committed("gesture.tflite"), split), INT8_CORRECT);
});

test("committed model: int8 FULLY_CONNECTED only", () => {
  const model = committed("gesture.tflite");
  assert.equal(parseModel(model).operators.map((op) => op.name), ["FULLY_CONNECTED", "FULLY_CONNECTED", "FULLY_CONNECTED"]);
  const interpreter = new Interpreter(model);
  assert.is(interpreter.inputs[0].type, "int8");
  assert.equal(interpreter.inputs[0].shape, [1, WINDOW_VALUES]);
  assert.is(interpreter.outputs[0].type, "int8");
  assert.equal(interpreter.outputs[0].shape, [1, GESTURE_CLASSES.length]);
});

test("recorded windows: classified as labelled", () => {
  const interpreter = new Interpreter(committed("gesture.tflite"));
  const input = interpreter.inputs[0];
  const bytes = committed("recorded.bin");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
  const labels = new TextDecoder().decode(committed("recorded-labels.txt")).trimEnd().split("\n");
  assert.is(samples.length, labels.length * WINDOW_VALUES);
  const quantized = new Int8Array(WINDOW_VALUES);
  labels.forEach((label, window) => {
    quantizeWindow(samples.subarray(window * WINDOW_VALUES, (window + 1) * WINDOW_VALUES), input.scale, input.zeroPoint, quantized);
    interpreter.setInput(0, quantized);
    interpreter.invoke();
    assert.is(GESTURE_CLASSES[argmax(interpreter.outputs[0].data)], label, `window ${window}`);
  });
});

test("recorded windows: same logits on XS", async () => {
  const model = committed("gesture.tflite");
  const interpreter = new Interpreter(model);
  const input = interpreter.inputs[0];
  const bytes = committed("recorded.bin");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const windows = bytes.byteLength / 4 / WINDOW_VALUES;
  for (let window = 0; window < windows; window++) {
    const samples = Float32Array.from({ length: WINDOW_VALUES }, (_, i) => view.getFloat32(4 * (window * WINDOW_VALUES + i), true));
    const quantized = new Int8Array(WINDOW_VALUES);
    quantizeWindow(samples, input.scale, input.zeroPoint, quantized);
    interpreter.setInput(0, quantized);
    interpreter.invoke();
    const xs = await runModelOnXs({ model, inputs: [new Uint8Array(quantized.buffer)] });
    assert.equal(Array.from(new Int8Array(xs.outputs[0].buffer, xs.outputs[0].byteOffset, 4)), Array.from(interpreter.outputs[0].data), `window ${window}`);
  }
});

test.run();
