// Structurally valid but hostile models, built with the TFLite writer: each
// must load fast or fail with a typed MicroqError whose one-line message
// names the problem. Cases come from a review that found each of them
// hanging, allocating gigabytes or running silently wrong.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { readFixture, tflmModel } from "../fixtures.js";

function activation(name: string, shape: number[], scale = 0.05, zeroPoint = 0): TensorSpec {
  return { name, type: "int8", shape, scale: [scale], zeroPoint: [zeroPoint] };
}

function poolModel(shape: number[], filter: number): Uint8Array {
  return writeModel({
    tensors: [activation("in", shape), activation("out", shape)],
    operators: [
      {
        op: "MAX_POOL_2D",
        inputs: [0],
        outputs: [1],
        options: { type: "Pool2DOptions", fields: { padding: "SAME", stride_w: 1, stride_h: 1, filter_width: filter, filter_height: filter } },
      },
    ],
    inputs: [0],
    outputs: [1],
  });
}

test("pool filter of 2^31 - 1 loads at once", async () => {
  const microq = await loadBundle();
  const interpreter = new microq.Interpreter(poolModel([1, 4, 4, 1], 0x7fffffff));
  interpreter.inputs[0].data.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  interpreter.invoke();
  // Every window covers the whole 4x4 input, so every output is its maximum.
  assert.equal(Array.from(interpreter.outputs[0].data), new Array(16).fill(16));
});

test("empty tensor with a huge dimension is rejected", async () => {
  const microq = await loadBundle();
  assert.throws(() => new microq.Interpreter(poolModel([1, 0, 0x7fffffff, 1], 1)), (error: Error) => {
    return error instanceof microq.InvalidModelError && /spans more than/.test(error.message);
  });
});

test("work limit rejects a huge convolution", async () => {
  const microq = await loadBundle();
  const channels = 64;
  const model = writeModel({
    tensors: [
      activation("in", [1, 1024, 1024, channels]),
      { name: "w", type: "int8", shape: [channels, 3, 3, channels], data: new Uint8Array(channels * 9 * channels), scale: [0.01], zeroPoint: [0] },
      activation("out", [1, 1024, 1024, channels]),
    ],
    operators: [
      { op: "CONV_2D", inputs: [0, 1, -1], outputs: [2], options: { type: "Conv2DOptions", fields: { padding: "SAME", stride_w: 1, stride_h: 1 } } },
    ],
    inputs: [0],
    outputs: [2],
  });
  assert.throws(
    () => new microq.Interpreter(model, { maxArenaBytes: 2 ** 40 }),
    (error: Error) => error instanceof microq.UnsupportedError && /multiply-accumulates per invoke, more than the limit/.test(error.message),
  );
});

function zeroPointModel(zeroPoints: number[]): Uint8Array {
  const scales = zeroPoints.map(() => 0.05);
  return writeModel({
    tensors: [
      { name: "in", type: "int32", shape: [1, zeroPoints.length], scale: scales, zeroPoint: zeroPoints, quantizedDimension: 1 },
      activation("out", [1, zeroPoints.length]),
    ],
    operators: [],
    inputs: [0],
    outputs: [1],
  });
}

test("zero points at the int32 limits parse", async () => {
  const microq = await loadBundle();
  const tensor = microq.parseModel(zeroPointModel([-0x80000000, 0x7fffffff])).tensors[0];
  assert.ok(tensor.zeroPoint instanceof Int32Array);
  assert.equal(Array.from(tensor.zeroPoint), [-2147483648, 2147483647]);
  assert.ok(tensor.scale instanceof Float32Array);
  assert.equal(Array.from(tensor.scale), [Math.fround(0.05), Math.fround(0.05)]);
});

for (const [zeroPoints, index, value] of [
  [[0, 0x80000000], 1, "2147483648"],
  [[-0x80000001, 0], 0, "-2147483649"],
  [[2 ** 52, 0], 0, "4503599627370496"],
] as const) {
  test(`zero point ${value} is rejected at parse`, async () => {
    const microq = await loadBundle();
    assert.throws(() => microq.parseModel(zeroPointModel([...zeroPoints])), (error: Error) => {
      return (
        error instanceof microq.InvalidModelError &&
        error.message.includes(`tensor 0 "in" zero_point[${index}] is ${value}, outside the int32 range`)
      );
    });
  });
}

test("graph input stored as a constant is rejected", async () => {
  const microq = await loadBundle();
  const model = writeModel({
    tensors: [
      { name: "in", type: "int8", shape: [1, 4], data: new Uint8Array([7, 7, 7, 7]), scale: [0.05], zeroPoint: [0] },
      activation("out", [1, 4]),
    ],
    operators: [{ op: "RESHAPE", inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
  });
  assert.throws(
    () => new microq.Interpreter(model),
    (error: Error) => error instanceof microq.InvalidModelError && /is a constant stored in the model/.test(error.message),
  );
});

test("arena option must be an ArrayBuffer", async () => {
  const microq = await loadBundle();
  const model = readFixture(tflmModel("hello_world_int8").model);
  for (const arena of [new Uint8Array(4096), 4096, null, "arena"]) {
    assert.throws(
      () => new microq.Interpreter(model, { arena } as never),
      (error: Error) => error instanceof microq.InvalidInputError && /options.arena must be an ArrayBuffer/.test(error.message),
      `arena ${String(arena)}`,
    );
  }
  const interpreter = new microq.Interpreter(model, null);
  assert.ok(interpreter.arenaBytes > 0, "null options mean defaults");
});

test("control characters in names stay out of messages", async () => {
  const microq = await loadBundle();
  const model = writeModel({
    tensors: [activation("in\nput\u001b[31m", [1, 4]), activation("out", [1, 5])],
    operators: [{ op: "RESHAPE", inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
  });
  try {
    new microq.Interpreter(model);
    assert.unreachable("a reshape from 4 to 5 elements must be rejected");
  } catch (error) {
    assert.instance(error, microq.MicroqError);
    assert.not.match((error as Error).message, /[\u0000-\u001f]/, "no control characters");
  }
});

test("SVDF state not marked variable is named", async () => {
  const microq = await loadBundle();
  const q = (scale: number, zeroPoint = 0) => ({ scale: [scale], zeroPoint: [zeroPoint] });
  const model = writeModel({
    tensors: [
      { name: "input", type: "int8", shape: [1, 4], ...q(0.1) },
      { name: "weights_feature", type: "int8", shape: [2, 4], ...q(0.01), data: new Uint8Array(8).fill(1) },
      { name: "weights_time", type: "int16", shape: [2, 3], ...q(0.001), data: new Uint8Array(new Int16Array(6).fill(1).buffer) },
      // The state of a 2-filter, 3-step memory, without is_variable.
      { name: "state", type: "int16", shape: [1, 6], ...q(0.01) },
      { name: "output", type: "int8", shape: [1, 2], ...q(0.1) },
    ],
    operators: [{ op: "SVDF", inputs: [0, 1, 2, -1, 3], outputs: [4], options: { type: "SVDFOptions", fields: { rank: 1 } } }],
    inputs: [0],
    outputs: [4],
  });
  try {
    new microq.Interpreter(model);
    assert.unreachable("a state tensor without is_variable must be rejected");
  } catch (error) {
    assert.instance(error, microq.InvalidModelError);
    assert.match((error as Error).message, /keeps its state in tensor 3 "state", which is not a variable tensor/);
  }
});

test("unsupported operators are summarized by name", async () => {
  const microq = await loadBundle();
  // A chain of seven EXP operators, which microq lacks.
  const tensors: TensorSpec[] = [];
  for (let i = 0; i < 8; i++) tensors.push({ name: `t${i}`, type: "int8", shape: [1, 4], scale: [0.1], zeroPoint: [0] });
  const model = writeModel({
    tensors,
    operators: Array.from({ length: 7 }, (_, i) => ({ op: "EXP", inputs: [i], outputs: [i + 1] })),
    inputs: [0],
    outputs: [7],
  });
  try {
    new microq.Interpreter(model);
    assert.unreachable("a model of EXP operators must be rejected");
  } catch (error) {
    assert.instance(error, microq.UnsupportedError);
    const message = (error as Error).message;
    assert.match(message, /not implemented: EXP x7/);
    assert.ok(message.length < 400, `message of ${message.length} characters`);
    assert.is((error as InstanceType<typeof microq.UnsupportedError>).problems.length, 7, "one problem per operator");
  }
});

test.run();
