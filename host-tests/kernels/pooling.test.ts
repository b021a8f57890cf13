// AVERAGE_POOL_2D and MAX_POOL_2D: bit-exact against TFLM's reference kernel
// on person_detect's average pool (its rand0 dump, commit 90b983c2). On
// hand-built tensors with padding, strides and fused activations, they must
// equal a direct transcription of TFLM's reference loops, which checks the
// bounds of each tap and divides with C's truncation.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { averagePool2dKernel, maxPool2dKernel } from "../../kernels/pooling.js";
import { Kernel } from "../../kernels/kernel.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Activation, Padding } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { bytesOf, handOperator, prepareLayer, readDumpIndex, runDumpedLayer, runLayer, tensorDef } from "./layer_harness.js";

const AVERAGE_POOL_2D = 1;
const MAX_POOL_2D = 17;
const POOL2D_OPTIONS = 5;

test("person_detect average pool matches TFLM", () => {
  const dumped = readDumpIndex("person_detect").find((t) => t.producer_op_index === 27);
  assert.ok(dumped, "the dump has the output of operator 27");
  assert.is(dumped.producer_op, "AVERAGE_POOL_2D");
  const [actual, expected] = runDumpedLayer(averagePool2dKernel, "person_detect", 27);
  assert.equal(Array.from(new Int8Array(actual.buffer)), Array.from(new Int8Array(expected.slice().buffer)));
});

// ---------------------------------------------------------------------------
// Hand-built tensors.

interface PoolCase {
  name: string;
  shape: [number, number, number, number];
  filter: [number, number];
  stride: [number, number];
  padding: number;
  activation: number;
  /** Expected clamp range of the activation, computed by hand for scale 0.05 and zero point -10. */
  range: [number, number];
  type: number;
}

const SCALE = 0.05;
const ZERO_POINT = -10;
// RELU: zero_point + round(0 / 0.05) = -10. RELU6: -10 + round(6 / 0.05) = 110.
// RELU_N1_TO_1: -10 + round(-1 / 0.05) = -30 and -10 + round(1 / 0.05) = 10.
const CASES: PoolCase[] = [
  { name: "3x3 stride 2 SAME", shape: [1, 5, 7, 3], filter: [3, 3], stride: [2, 2], padding: Padding.SAME, activation: Activation.NONE, range: [-128, 127], type: TensorType.INT8 },
  { name: "2x3 stride 1 SAME", shape: [2, 4, 4, 2], filter: [2, 3], stride: [1, 1], padding: Padding.SAME, activation: Activation.RELU, range: [-10, 127], type: TensorType.INT8 },
  { name: "3x2 stride 2x1 VALID", shape: [1, 6, 5, 4], filter: [3, 2], stride: [2, 1], padding: Padding.VALID, activation: Activation.RELU6, range: [-10, 110], type: TensorType.INT8 },
  { name: "global VALID", shape: [1, 6, 6, 4], filter: [6, 6], stride: [1, 1], padding: Padding.VALID, activation: Activation.RELU_N1_TO_1, range: [-30, 10], type: TensorType.INT8 },
  { name: "5x5 stride 3 SAME", shape: [1, 7, 8, 2], filter: [5, 5], stride: [3, 3], padding: Padding.SAME, activation: Activation.NONE, range: [-128, 127], type: TensorType.INT8 },
  { name: "int16 3x3 stride 2 SAME", shape: [1, 5, 7, 3], filter: [3, 3], stride: [2, 2], padding: Padding.SAME, activation: Activation.NONE, range: [-32768, 32767], type: TensorType.INT16 },
  { name: "int16 RELU6", shape: [1, 4, 4, 2], filter: [2, 2], stride: [2, 2], padding: Padding.VALID, activation: Activation.RELU6, range: [-10, 110], type: TensorType.INT16 },
];

function outputSize(inputSize: number, filter: number, stride: number, padding: number): number {
  return padding === Padding.SAME ? Math.ceil(inputSize / stride) : Math.floor((inputSize - filter) / stride) + 1;
}

function paddingBefore(inputSize: number, filter: number, stride: number, padding: number): number {
  if (padding === Padding.VALID) return 0;
  const total = Math.max((outputSize(inputSize, filter, stride, padding) - 1) * stride + filter - inputSize, 0);
  return Math.floor(total / 2);
}

/** TFLM's reference pooling loops: each tap is bounds checked, and the average divides with truncation. */
function referencePool(c: PoolCase, input: ArrayLike<number>, kind: "average" | "max"): number[] {
  const [batches, height, width, channels] = c.shape;
  const [filterHeight, filterWidth] = c.filter;
  const [strideHeight, strideWidth] = c.stride;
  const outHeight = outputSize(height, filterHeight, strideHeight, c.padding);
  const outWidth = outputSize(width, filterWidth, strideWidth, c.padding);
  const padTop = paddingBefore(height, filterHeight, strideHeight, c.padding);
  const padLeft = paddingBefore(width, filterWidth, strideWidth, c.padding);
  const typeMin = c.type === TensorType.INT16 ? -32768 : -128;
  const result: number[] = [];
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        for (let ch = 0; ch < channels; ch++) {
          let sum = 0;
          let count = 0;
          let max = typeMin;
          for (let fy = 0; fy < filterHeight; fy++) {
            for (let fx = 0; fx < filterWidth; fx++) {
              const y = oy * strideHeight - padTop + fy;
              const x = ox * strideWidth - padLeft + fx;
              if (y < 0 || y >= height || x < 0 || x >= width) continue;
              const value = input[((b * height + y) * width + x) * channels + ch];
              sum += value;
              count++;
              max = Math.max(max, value);
            }
          }
          let value: number;
          if (kind === "max") {
            value = max;
          } else {
            const half = Math.trunc(count / 2);
            value = sum > 0 ? Math.trunc((sum + half) / count) : Math.trunc((sum - half) / count);
          }
          result.push(Math.min(c.range[1], Math.max(c.range[0], value)));
        }
      }
    }
  }
  return result;
}

function poolSetup(c: PoolCase, builtinCode: number, outputOverrides: { scale?: number; zeroPoint?: number; shape?: number[]; type?: number } = {}) {
  const [batches, height, width, channels] = c.shape;
  const outHeight = outputSize(height, c.filter[0], c.stride[0], c.padding);
  const outWidth = outputSize(width, c.filter[1], c.stride[1], c.padding);
  const input = tensorDef(0, c.type, c.shape, [SCALE], [ZERO_POINT]);
  const output = tensorDef(
    1,
    outputOverrides.type ?? c.type,
    outputOverrides.shape ?? [batches, outHeight, outWidth, channels],
    [outputOverrides.scale ?? SCALE],
    [outputOverrides.zeroPoint ?? ZERO_POINT],
  );
  return handOperator(builtinCode === AVERAGE_POOL_2D ? "AVERAGE_POOL_2D" : "MAX_POOL_2D", builtinCode, [input, output], {
    optionsType: POOL2D_OPTIONS,
    fields: [
      ["int32", c.padding],
      ["int32", c.stride[1]],
      ["int32", c.stride[0]],
      ["int32", c.filter[1]],
      ["int32", c.filter[0]],
      ["int32", c.activation],
    ],
  });
}

/** Seeded values over the whole range of the type, so failures reproduce. */
function randomValues(count: number, type: number, seed: number): Int8Array | Int16Array {
  const values = type === TensorType.INT16 ? new Int16Array(count) : new Int8Array(count);
  let state = seed | 0;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = state;
  }
  return values;
}

function runPool(kernel: Kernel, builtinCode: number, c: PoolCase, input: Int8Array | Int16Array): number[] {
  const output = runLayer(kernel, poolSetup(c, builtinCode), new Map([[0, bytesOf(input)]])).get(1)!;
  return Array.from(c.type === TensorType.INT16 ? new Int16Array(output.buffer) : new Int8Array(output.buffer));
}

test("average pool rounds half away from zero", () => {
  const c: PoolCase = { name: "2x2", shape: [1, 2, 2, 1], filter: [2, 2], stride: [2, 2], padding: Padding.VALID, activation: Activation.NONE, range: [-128, 127], type: TensorType.INT8 };
  // 10/4 = 2.5, -10/4 = -2.5, 11/4 = 2.75, -3/4 = -0.75, 2/4 = 0.5, -2/4 = -0.5, 1/4 = 0.25
  const rows: Array<[number[], number]> = [
    [[1, 2, 3, 4], 3],
    [[-1, -2, -3, -4], -3],
    [[1, 2, 3, 5], 3],
    [[-1, -1, -1, 0], -1],
    [[1, 1, 0, 0], 1],
    [[-1, -1, 0, 0], -1],
    [[1, 0, 0, 0], 0],
    [[127, 127, 127, 127], 127],
    [[-128, -128, -128, -128], -128],
  ];
  for (const [values, expected] of rows) {
    assert.equal(runPool(averagePool2dKernel, AVERAGE_POOL_2D, c, Int8Array.from(values)), [expected], `average of ${values}`);
  }
});

test("average pool divides edge windows by in-bounds taps", () => {
  // 3x3 SAME on a 2x2 input: every window contains the 4 input elements.
  const c: PoolCase = { name: "edge", shape: [1, 2, 2, 1], filter: [3, 3], stride: [1, 1], padding: Padding.SAME, activation: Activation.NONE, range: [-128, 127], type: TensorType.INT8 };
  assert.equal(runPool(averagePool2dKernel, AVERAGE_POOL_2D, c, Int8Array.from([4, 8, 12, 16])), [10, 10, 10, 10]);
});

test("max pool clamps to the activation range", () => {
  // RELU6 at scale 0.05 and zero point -10 clamps to [-10, 110].
  const c: PoolCase = { name: "relu6", shape: [1, 2, 4, 1], filter: [2, 2], stride: [2, 2], padding: Padding.VALID, activation: Activation.RELU6, range: [-10, 110], type: TensorType.INT8 };
  const input = Int8Array.from([-50, -20, 120, 0, -30, -11, 5, 127]);
  // Windows [-50, -20, -30, -11] and [120, 0, 5, 127]: maxima -11 and 127,
  // averages -27.75 and 63.
  assert.equal(runPool(maxPool2dKernel, MAX_POOL_2D, c, input), [-10, 110]);
  assert.equal(runPool(averagePool2dKernel, AVERAGE_POOL_2D, c, input), [-10, 63]);
});

for (const c of CASES) {
  test(`average pool ${c.name} matches reference`, () => {
    const [batches, height, width, channels] = c.shape;
    const input = randomValues(batches * height * width * channels, c.type, 0x9e3779b9);
    assert.equal(runPool(averagePool2dKernel, AVERAGE_POOL_2D, c, input), referencePool(c, input, "average"));
  });

  test(`max pool ${c.name} matches reference`, () => {
    const [batches, height, width, channels] = c.shape;
    const input = randomValues(batches * height * width * channels, c.type, 0x7f4a7c15);
    assert.equal(runPool(maxPool2dKernel, MAX_POOL_2D, c, input), referencePool(c, input, "max"));
  });
}

test("pooling counts in-bounds taps as macs", () => {
  // 1x5x7x3 with a 3x3 window, stride 2, SAME, padding 1 before: the three
  // output rows see 2, 3 and 2 input rows, the four output columns 2, 3, 3
  // and 2 input columns, for each of the 3 channels.
  const taps = 3 * (2 + 3 + 2) * (2 + 3 + 3 + 2);
  assert.is(prepareLayer(averagePool2dKernel, poolSetup(CASES[0], AVERAGE_POOL_2D)).prepared.macs, taps);
  assert.is(prepareLayer(maxPool2dKernel, poolSetup(CASES[0], MAX_POOL_2D)).prepared.macs, taps);
});

// ---------------------------------------------------------------------------
// Prepare.

const isUnsupported = (error: unknown) => error instanceof UnsupportedError;
const isInvalid = (error: unknown) => error instanceof InvalidModelError;

test("pooling accepts scales within 1e-6", () => {
  prepareLayer(averagePool2dKernel, poolSetup(CASES[0], AVERAGE_POOL_2D, { scale: SCALE + 5e-7 }));
});

test("pooling rejects different scales", () => {
  assert.throws(() => prepareLayer(averagePool2dKernel, poolSetup(CASES[0], AVERAGE_POOL_2D, { scale: SCALE + 2e-6 })), isUnsupported);
  assert.throws(() => prepareLayer(maxPool2dKernel, poolSetup(CASES[0], MAX_POOL_2D, { scale: SCALE * 2 })), isUnsupported);
});

test("pooling rejects different zero points", () => {
  assert.throws(() => prepareLayer(averagePool2dKernel, poolSetup(CASES[0], AVERAGE_POOL_2D, { zeroPoint: ZERO_POINT + 1 })), isUnsupported);
});

test("pooling rejects a wrong output shape", () => {
  assert.throws(() => prepareLayer(averagePool2dKernel, poolSetup(CASES[0], AVERAGE_POOL_2D, { shape: [1, 3, 3, 3] })), isInvalid);
});

test("pooling rejects mixed types", () => {
  assert.throws(() => prepareLayer(maxPool2dKernel, poolSetup(CASES[0], MAX_POOL_2D, { type: TensorType.INT16 })), isUnsupported);
});

test("pooling rejects uint8", () => {
  const c: PoolCase = { ...CASES[0], type: TensorType.UINT8 };
  assert.throws(() => prepareLayer(averagePool2dKernel, poolSetup(c, AVERAGE_POOL_2D)), isUnsupported);
});

test("pooling rejects a zero stride", () => {
  const c: PoolCase = { ...CASES[0], stride: [0, 2] };
  assert.throws(() => prepareLayer(averagePool2dKernel, poolSetup(c, AVERAGE_POOL_2D, { shape: [1, 1, 4, 3] })), isInvalid);
});

test.run();
