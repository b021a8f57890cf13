// The float reference of tools/reference/ on tiny cases computed by hand,
// independent of microq's kernels and of TFLM. The expected numbers are
// worked out in the comments above each case.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseModel } from "../../runtime/model.js";
import { Activation, Padding } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { conv2dReference } from "../../tools/reference/conv2d.js";
import { depthwiseConv2dReference } from "../../tools/reference/depthwise_conv2d.js";
import { dequantizeReference } from "../../tools/reference/dequantize.js";
import { fullyConnectedReference } from "../../tools/reference/fully_connected.js";
import { referenceLayer } from "../../tools/reference/layer.js";
import { pool2dReference } from "../../tools/reference/pooling.js";
import { requantize } from "../../tools/reference/quantization.js";
import { quantizeReference } from "../../tools/reference/quantize.js";
import { reshapeReference } from "../../tools/reference/reshape.js";
import { softmaxReference } from "../../tools/reference/softmax.js";
import { FloatReferenceError, ReferenceTensor, realValues } from "../../tools/reference/tensor.js";
import { writeModel } from "../../tools/tflite/writer.js";

function quantized(
  shape: number[],
  values: number[],
  scale: number[],
  zeroPoint: number[] = scale.map(() => 0),
  quantizedDimension = 0,
): ReferenceTensor {
  return { type: TensorType.INT8, shape, values: Float64Array.from(values), scale, zeroPoint, quantizedDimension };
}

function int32Bias(values: number[]): ReferenceTensor {
  return { type: TensorType.INT32, shape: [values.length], values: Float64Array.from(values), scale: [], zeroPoint: [], quantizedDimension: 0 };
}

function float32(shape: number[], values: number[]): ReferenceTensor {
  return { type: TensorType.FLOAT32, shape, values: Float64Array.from(values), scale: [], zeroPoint: [], quantizedDimension: 0 };
}

function assertClose(actual: ArrayLike<number>, expected: number[], label: string, tolerance = 1e-9): void {
  assert.is(actual.length, expected.length, `${label}: element count`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

const convOptions = (padding: number, activation: number = Activation.NONE) => ({
  padding,
  strideWidth: 1,
  strideHeight: 1,
  activation,
  dilationWidth: 1,
  dilationHeight: 1,
});

// A 3x3 input with scale 0.5 and zero point 1: q = 1, 3, ..., 17 is the real
// 0, 1, ..., 8 in row-major order. The 2x2 filter (scale 0.25, q 4, 8, 0, -4)
// is the real [[1, 2], [0, -1]]. The bias q 8 is 8 * 0.5 * 0.25 = 1.
const convInput = quantized([1, 3, 3, 1], [1, 3, 5, 7, 9, 11, 13, 15, 17], [0.5], [1]);
const convWeights = quantized([1, 2, 2, 1], [4, 8, 0, -4], [0.25]);
const convBias = int32Bias([8]);

test("conv2d 2x2 VALID by hand", () => {
  // out(y, x) = x(y, x) + 2 x(y, x+1) - x(y+1, x+1) + 1:
  // (0,0): 0 + 2 - 4 + 1 = -1, (0,1): 1 + 4 - 5 + 1 = 1,
  // (1,0): 3 + 8 - 7 + 1 = 5,  (1,1): 4 + 10 - 8 + 1 = 7.
  const result = conv2dReference(convInput, convWeights, convBias, convOptions(Padding.VALID));
  assert.equal(result.shape, [1, 2, 2, 1]);
  assertClose(result.values, [-1, 1, 5, 7], "VALID");
});

test("conv2d RELU clamps negatives", () => {
  const result = conv2dReference(convInput, convWeights, convBias, convOptions(Padding.VALID, Activation.RELU));
  assertClose(result.values, [0, 1, 5, 7], "RELU");
});

test("conv2d SAME pads with real zero", () => {
  // SAME keeps 3x3 and pads one row below and one column right. A padding
  // tap adds 0, not the input zero point's q 0 (real -0.5):
  // (0,2): 2 * 1 + 5 * 0 + 1 = 3, (2,0): 6 + 2 * 7 + 1 = 21, (2,2): 8 + 1 = 9.
  const result = conv2dReference(convInput, convWeights, convBias, convOptions(Padding.SAME));
  assert.equal(result.shape, [1, 3, 3, 1]);
  assertClose([result.values[2], result.values[6], result.values[8]], [3, 21, 9], "SAME edges");
});

test("conv2d per-channel scales and bias", () => {
  // Channel 1 has weight scale 0.5 and q 2 everywhere (real 1), bias q 4:
  // 4 * 0.5 * 0.5 = 1. Its outputs are window sums plus 1: 0 + 1 + 3 + 4 + 1
  // = 9, then 13, 21 and 25. Channel 0 is the case above.
  const weights = quantized([2, 2, 2, 1], [4, 8, 0, -4, 2, 2, 2, 2], [0.25, 0.5], [0, 0], 0);
  const result = conv2dReference(convInput, weights, int32Bias([8, 4]), convOptions(Padding.VALID));
  assert.equal(result.shape, [1, 2, 2, 2]);
  assertClose(result.values, [-1, 9, 1, 13, 5, 21, 7, 25], "per-channel");
});

test("conv2d requantized to int8", () => {
  // Output scale 0.5, zero point -10: -1 -> -12, 1 -> -8, 5 -> 0, 7 -> 4.
  const result = conv2dReference(convInput, convWeights, convBias, convOptions(Padding.VALID));
  const output = requantize(result.values, { type: TensorType.INT8, scale: 0.5, zeroPoint: -10 });
  assert.equal(Array.from(output), [-12, -8, 0, 4]);
});

test("depthwise conv2d multiplier 2 by hand", () => {
  // Input real [1, 2, 3, 4] (2x2, one channel). Channel 0 weights real
  // [1, 0, 0, 1] at scale 1, channel 1 real [0, 1, -1, 0] at scale 0.5
  // (q 0, 2, -2, 0). Biases q 1 and 2 are 1 * 1 * 1 = 1 and 2 * 1 * 0.5 = 1.
  // Channel 0: 1 + 4 + 1 = 6. Channel 1: 2 - 3 + 1 = 0.
  const input = quantized([1, 2, 2, 1], [1, 2, 3, 4], [1]);
  const weights = quantized([1, 2, 2, 2], [1, 0, 0, 2, 0, -2, 1, 0], [1, 0.5], [0, 0], 3);
  const options = { ...convOptions(Padding.VALID), depthMultiplier: 2 };
  const result = depthwiseConv2dReference(input, weights, int32Bias([1, 2]), options);
  assert.equal(result.shape, [1, 1, 1, 2]);
  assertClose(result.values, [6, 0], "multiplier 2");
});

test("depthwise conv2d channel mapping", () => {
  // Input channels real [2, 3], 1x1 filter real [1, 2, 3, 4], multiplier 2:
  // output c reads input channel floor(c / 2): [2, 4, 9, 12].
  const input = quantized([1, 1, 1, 2], [2, 3], [1]);
  const weights = quantized([1, 1, 1, 4], [1, 2, 3, 4], [1]);
  const result = depthwiseConv2dReference(input, weights, null, { ...convOptions(Padding.VALID), depthMultiplier: 2 });
  assertClose(result.values, [2, 4, 9, 12], "channel mapping");
});

test("fully connected batch 2 by hand", () => {
  // Input scale 0.5: rows real [1, 2, 3] and [0, 0, 1]. Weights real
  // [[1, 0, -1], [2, 2, 2]] at scale 1. Biases q 4 and -8 are 2 and -4.
  // Row 0: [1 - 3 + 2, 2 + 4 + 6 - 4] = [0, 8]. Row 1: [-1 + 2, 2 - 4] = [1, -2].
  const input = quantized([2, 3], [2, 4, 6, 0, 0, 2], [0.5]);
  const weights = quantized([2, 3], [1, 0, -1, 2, 2, 2], [1]);
  const options = { activation: Activation.NONE, weightsFormat: 0, keepNumDims: false };
  const result = fullyConnectedReference(input, weights, int32Bias([4, -8]), options);
  assert.equal(result.shape, [2, 2]);
  assertClose(result.values, [0, 8, 1, -2], "batch 2");
  const relu6 = fullyConnectedReference(input, weights, int32Bias([4, -8]), { ...options, activation: Activation.RELU6 });
  assertClose(relu6.values, [0, 6, 1, 0], "RELU6");
});

// A 2x3 input real [[1, 2, 3], [4, 5, 6]], 2x2 window, stride 1, SAME: the
// output stays 2x3, with one padding row below and one column right.
const poolInput = quantized([1, 2, 3, 1], [1, 2, 3, 4, 5, 6], [1]);
const poolOptions = { padding: Padding.SAME, strideWidth: 1, strideHeight: 1, filterWidth: 2, filterHeight: 2, activation: Activation.NONE };

test("average pool excludes padding by hand", () => {
  // (0,0): (1 + 2 + 4 + 5) / 4 = 3, (0,2): (3 + 6) / 2 = 4.5,
  // (1,0): (4 + 5) / 2 = 4.5, (1,2): 6 / 1 = 6.
  const result = pool2dReference("average", poolInput, poolOptions);
  assert.equal(result.shape, [1, 2, 3, 1]);
  assertClose(result.values, [3, 4, 4.5, 4.5, 5.5, 6], "average");
});

test("max pool by hand", () => {
  const result = pool2dReference("max", poolInput, poolOptions);
  assertClose(result.values, [5, 6, 6, 5, 6, 6], "max");
});

test("softmax by hand", () => {
  // Logits real [0, 1, 2] (scale 0.5, q 0, 2, 4). With e = 2.718281828 the
  // sum 1 + e + e^2 is 11.107337927, so the outputs are 0.0900306,
  // 0.2447285 and 0.6652410. As int8 with scale 1/256 and zero point -128:
  // 23.05 -> -105, 62.65 -> -65, 170.30 -> 42.
  const input = quantized([1, 3], [0, 2, 4], [0.5]);
  const result = softmaxReference(input, { beta: 1 });
  assertClose(result.values, [0.0900306, 0.2447285, 0.665241], "beta 1", 1e-7);
  assert.equal(Array.from(requantize(result.values, { type: TensorType.INT8, scale: 1 / 256, zeroPoint: -128 })), [-105, -65, 42]);

  // beta 2 on logits [0, 0.5, 1] is the same distribution.
  const halved = softmaxReference(quantized([1, 3], [0, 1, 2], [0.5]), { beta: 2 });
  assertClose(halved.values, [0.0900306, 0.2447285, 0.665241], "beta 2", 1e-7);
});

test("softmax rows are independent", () => {
  // Row 1 has equal logits, so each output is 1/3.
  const result = softmaxReference(quantized([2, 3], [0, 2, 4, 7, 7, 7], [0.5]), { beta: 1 });
  assertClose(Array.from(result.values).slice(3), [1 / 3, 1 / 3, 1 / 3], "row 1");
});

test("reshape keeps values", () => {
  const result = reshapeReference(quantized([1, 2, 2], [1, -2, 3, -4], [0.5], [-1]), [4]);
  assert.equal(result.shape, [4]);
  assertClose(result.values, [1, -0.5, 2, -1.5], "reshape");
  assert.throws(() => reshapeReference(quantized([4], [1, 2, 3, 4], [1]), [3]), (error: Error) => error instanceof FloatReferenceError);
});

test("quantize float32 to int8", () => {
  // Scale 0.5, zero point 3: 0.5 -> 1 + 3 = 4. -1.25 -> -2.5, a tie rounded
  // away from zero to -3, so 0. 100 -> 203, clamped to 127. -100 -> -128.
  const result = quantizeReference(float32([4], [0.5, -1.25, 100, -100]));
  assert.equal(Array.from(requantize(result.values, { type: TensorType.INT8, scale: 0.5, zeroPoint: 3 })), [4, 0, 127, -128]);
});

test("quantize int8 to int8", () => {
  // Input scale 0.5, zero point -128: q -128, 0, 127 are 0, 64, 127.5.
  // Output scale 1, zero point 0: 0, 64, and 127.5 rounds to 128, clamped to 127.
  const result = quantizeReference(quantized([3], [-128, 0, 127], [0.5], [-128]));
  assert.equal(Array.from(requantize(result.values, { type: TensorType.INT8, scale: 1, zeroPoint: 0 })), [0, 64, 127]);
});

test("dequantize by hand", () => {
  // Scale 0.25, zero point 1: q -128, 0, 5 are -32.25, -0.25, 1.
  assertClose(dequantizeReference(quantized([3], [-128, 0, 5], [0.25], [1])).values, [-32.25, -0.25, 1], "dequantize");
});

test("per-channel dequantization along dimension 1", () => {
  // Shape [2, 2] with scales [1, 10] on dimension 1: q [1, 2, 3, 4] is [1, 20, 3, 40].
  assertClose(realValues(quantized([2, 2], [1, 2, 3, 4], [1, 10], [0, 0], 1)), [1, 20, 3, 40], "dimension 1");
  // The same scales on dimension 0: [1, 2, 30, 40].
  assertClose(realValues(quantized([2, 2], [1, 2, 3, 4], [1, 10], [0, 0], 0)), [1, 2, 30, 40], "dimension 0");
});

test("layer from a one-operator model", () => {
  // The 2x2 VALID conv above as a one-operator model with RELU and output
  // scale 0.5, zero point -10: [0, 1, 5, 7] -> [-10, -8, 0, 4].
  const bytes = writeModel({
    tensors: [
      { name: "input", type: "int8", shape: [1, 3, 3, 1], scale: [0.5], zeroPoint: [1] },
      { name: "weights", type: "int8", shape: [1, 2, 2, 1], data: Uint8Array.from([4, 8, 0, 0xfc]), scale: [0.25], zeroPoint: [0] },
      { name: "bias", type: "int32", shape: [1], data: Uint8Array.from([8, 0, 0, 0]), scale: [0.125], zeroPoint: [0] },
      { name: "output", type: "int8", shape: [1, 2, 2, 1], scale: [0.5], zeroPoint: [-10] },
    ],
    operators: [
      {
        op: "CONV_2D",
        inputs: [0, 1, 2],
        outputs: [3],
        options: { type: "Conv2DOptions", fields: { padding: "VALID", stride_w: 1, stride_h: 1, fused_activation_function: "RELU" } },
      },
    ],
    inputs: [0],
    outputs: [3],
  });
  const model = parseModel(bytes);
  const input = Uint8Array.from(Int8Array.from([1, 3, 5, 7, 9, 11, 13, 15, 17]));
  const reference = referenceLayer(model, model.operators[0], (index) => {
    assert.is(index, 0, "only the activation input is requested");
    return input;
  });
  assert.equal(Array.from(reference.expected), [-10, -8, 0, 4]);
  assert.is(reference.lsb, 1);
});

test.run();
