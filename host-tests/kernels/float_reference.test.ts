// Int8 kernels against the float reference of tools/reference/, which is
// independent of the kernels and of TFLM. Single-operator models with seeded random weights,
// biases, scales and zero points run through the Interpreter. Each output is
// compared with the dequantized computation, done in double and requantized
// with round-to-nearest.
//
// A correct integer kernel differs from that reference by at most 1 LSB,
// and only near a rounding tie. The fixed-point rescale of conv, depthwise
// conv and fully connected can move the value by less than its effective
// multiplier (see tieWindow below). Average pooling differs only at exact
// ties, max pooling and reshape are exact, and softmax is held to 0.01 LSB
// from a tie. A kernel that is off systematically (wrong rounding, a
// dropped bias, a shifted padding) fails the tie or count checks even where
// each error is 1 LSB.
//
// Set MICROQ_FLOAT_REFERENCE_STATS=1 to print the worst error of each case.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { Activation as ActivationCode, Padding as PaddingCode } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { conv2dReference } from "../../tools/reference/conv2d.js";
import { depthwiseConv2dReference } from "../../tools/reference/depthwise_conv2d.js";
import { fullyConnectedReference } from "../../tools/reference/fully_connected.js";
import { pool2dReference } from "../../tools/reference/pooling.js";
import { softmaxReference } from "../../tools/reference/softmax.js";
import { ReferenceTensor } from "../../tools/reference/tensor.js";
import { ModelSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { Xorshift32 } from "./test_data.js";

type Activation = "NONE" | "RELU" | "RELU6";
type Padding = "SAME" | "VALID";

const PADDING_CODES: Record<Padding, number> = { SAME: PaddingCode.SAME, VALID: PaddingCode.VALID };

// Quantization in real terms.

interface Quantization {
  /** Scale as stored in the model, a float32 value. */
  scale: number;
  zeroPoint: number;
}

function activate(x: number, activation: Activation): number {
  if (activation === "RELU") return Math.max(x, 0);
  if (activation === "RELU6") return Math.min(Math.max(x, 0), 6);
  return x;
}

/**
 * Output quantization calibrated on the reference results themselves, as a
 * converter calibrates on sample data, with the range shrunk by 10% so that
 * the largest values saturate. Zero stays exactly representable.
 */
function calibrateOutput(values: Float64Array): Quantization {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  min *= 0.9;
  max *= 0.9;
  if (max - min < 1e-6) max = min + 1e-3;
  const scale = Math.fround((max - min) / 255);
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - min / scale)));
  return { scale, zeroPoint };
}

/** Output size and leading padding of one spatial axis, from the TFLite definitions of SAME and VALID. */
function spatialOutput(padding: Padding, inputSize: number, filterSize: number, stride: number, dilation: number): { size: number; before: number } {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  const size = padding === "SAME" ? Math.ceil(inputSize / stride) : Math.ceil((inputSize - effectiveFilter + 1) / stride);
  const total = Math.max((size - 1) * stride + effectiveFilter - inputSize, 0);
  return { size, before: Math.floor(total / 2) };
}

// Comparison with the reference.

interface Reference {
  /** Exact output in quantized units before rounding: real / outputScale + outputZeroPoint. */
  values: Float64Array;
  /**
   * Per element, how far from a rounding tie (x.5) the value may be for the
   * kernel to round the other way. 0 where the kernel must match exactly.
   */
  tieWindows: Float64Array;
}

interface ErrorStats {
  count: number;
  maxError: number;
  oneLsbCount: number;
}

const statsByCase = new Map<string, ErrorStats>();

/** Distance of x from the nearest rounding tie k + 0.5. */
function tieDistance(x: number): number {
  return Math.abs(x - Math.floor(x) - 0.5);
}

function expectedInt8(value: number): number {
  return Math.min(127, Math.max(-128, Math.round(value)));
}

/**
 * Asserts that every output is within 1 LSB of the rounded reference, that
 * each 1-LSB difference lies within its element's tie window, and that no
 * more than max(2, maxOneLsbFraction * count) outputs differ at all.
 */
function assertMatchesReference(label: string, actual: ArrayLike<number>, reference: Reference, maxOneLsbFraction: number): ErrorStats {
  assert.is(actual.length, reference.values.length, `${label}: output element count`);
  let maxError = 0;
  let oneLsbCount = 0;
  for (let i = 0; i < actual.length; i++) {
    const value = reference.values[i];
    const expected = expectedInt8(value);
    const error = Math.abs(actual[i] - expected);
    if (error > 1) {
      assert.unreachable(`${label}: output ${i} is ${actual[i]}, the reference is ${value.toFixed(4)} (rounds to ${expected})`);
    }
    if (error === 1) {
      oneLsbCount++;
      const distance = tieDistance(value);
      if (distance > reference.tieWindows[i]) {
        assert.unreachable(
          `${label}: output ${i} is ${actual[i]}, the reference ${value.toFixed(4)} rounds to ${expected} and is ` +
            `${distance.toFixed(4)} from a rounding tie, outside the allowed ${reference.tieWindows[i].toExponential(2)}`,
        );
      }
    }
    maxError = Math.max(maxError, error);
  }
  const allowed = Math.max(2, Math.floor(maxOneLsbFraction * actual.length));
  assert.ok(oneLsbCount <= allowed, `${label}: ${oneLsbCount} of ${actual.length} outputs differ by 1 LSB, more than the ${allowed} allowed`);
  return { count: actual.length, maxError, oneLsbCount };
}

/** Runs assertMatchesReference and records its statistics for the optional summary. */
function checkCase(label: string, actual: ArrayLike<number>, reference: Reference, maxOneLsbFraction: number): void {
  statsByCase.set(label, assertMatchesReference(label, actual, reference, maxOneLsbFraction));
}

/**
 * Allowed distance from a tie for a rescale by `multiplier` (input scale
 * times weight scale over output scale). The kernel first rounds
 * acc * multiplierQ31 / 2^31 to an integer whose unit is 2^exponent output
 * LSBs, with multiplier in [2^(exponent-1), 2^exponent). That rounding
 * moves the value by at most half of 2^exponent, which is at most the
 * multiplier, and the final rounding shift then decides the output. The
 * slack covers the float32 activation bounds and fully connected's float32
 * product of the input and weight scales, about 2^-24 relative on values
 * below 256.
 */
function tieWindow(multiplier: number): number {
  return Math.min(multiplier, 0.5) + 1e-4;
}

// The share of outputs allowed to differ by 1 LSB after a rescale. In 200
// seeded variants of every case below, at most 1.7% of a case's outputs
// differed (0.08% overall).
const RESCALE_ONE_LSB_FRACTION = 0.05;

// Single-operator models.

function bytesOf(array: Int8Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Runs a one-operator model: tensor 0 is the input, the last tensor the output. */
function runModel(spec: ModelSpec, input: Int8Array): Int8Array {
  const interpreter = new Interpreter(writeModel(spec));
  interpreter.inputs[0].data.set(input);
  interpreter.invoke();
  return Int8Array.from(interpreter.outputs[0].data as Int8Array);
}

function activationTensor(name: string, shape: number[], quantization: Quantization): TensorSpec {
  return { name, type: "int8", shape, scale: [quantization.scale], zeroPoint: [quantization.zeroPoint] };
}

/** Quantized weights and bias of a conv-like layer. */
interface Layer {
  weights: Int8Array;
  weightScales: number[];
  /** Bias quantized with scale inputScale * weightScale[channel], as converters store it. */
  bias: Int32Array;
}

/**
 * Random symmetric int8 weights, scales in [0.001, 0.05] (one per channel,
 * or one for the tensor), and a float bias in [-1, 1] quantized to int32.
 */
function randomLayer(random: Xorshift32, weightCount: number, channels: number, perChannel: boolean, inputScale: number): Layer {
  const weights = random.int8Array(weightCount, -127, 127);
  const scaleCount = perChannel ? channels : 1;
  const weightScales = Array.from({ length: scaleCount }, () => Math.fround(random.uniform(0.001, 0.05)));
  const channelScale = (channel: number) => weightScales[perChannel ? channel : 0];
  const bias = Int32Array.from({ length: channels }, (_, c) => Math.round(random.uniform(-1, 1) / (inputScale * channelScale(c))));
  return { weights, weightScales, bias };
}

function weightTensors(layer: Layer, shape: number[], channels: number, quantizedDimension: number, inputScale: number): TensorSpec[] {
  return [
    {
      name: "weights",
      type: "int8",
      shape,
      data: bytesOf(layer.weights),
      scale: layer.weightScales,
      zeroPoint: layer.weightScales.map(() => 0),
      quantizedDimension,
    },
    {
      name: "bias",
      type: "int32",
      shape: [channels],
      data: bytesOf(layer.bias),
      // The kernels add the integer bias to an accumulator of scale
      // inputScale * weightScale. The stored float32 bias scale is only
      // checked for consistency (by TFLM's per-tensor fully connected).
      scale: layer.weightScales.map((s) => Math.fround(inputScale * s)),
      zeroPoint: layer.weightScales.map(() => 0),
      quantizedDimension: 0,
    },
  ];
}

// The same tensors as the shared float reference reads them.

function referenceActivation(shape: readonly number[], values: Int8Array, quantization: Quantization): ReferenceTensor {
  return {
    type: TensorType.INT8,
    shape,
    values: Float64Array.from(values),
    scale: [quantization.scale],
    zeroPoint: [quantization.zeroPoint],
    quantizedDimension: 0,
  };
}

function referenceWeights(layer: Layer, shape: number[], quantizedDimension: number): ReferenceTensor {
  return {
    type: TensorType.INT8,
    shape,
    values: Float64Array.from(layer.weights),
    scale: layer.weightScales,
    zeroPoint: layer.weightScales.map(() => 0),
    quantizedDimension,
  };
}

function referenceBias(layer: Layer): ReferenceTensor {
  return { type: TensorType.INT32, shape: [layer.bias.length], values: Float64Array.from(layer.bias), scale: [], zeroPoint: [], quantizedDimension: 0 };
}

/** Random input quantization: scale in [0.01, 0.1], any int8 zero point. */
function randomInputQuantization(random: Xorshift32): Quantization {
  return { scale: Math.fround(random.uniform(0.01, 0.1)), zeroPoint: random.integer(-128, 127) };
}

/**
 * Requantizes real pre-activation results, channel last: activation in real
 * terms, output quantization calibrated on the pre-activation range, and
 * per-channel tie windows from inputScale * weightScale / outputScale.
 * Calibrating before the activation puts the RELU and RELU6 bounds inside
 * the int8 range, where they clamp. A converter calibrating after a fused
 * RELU puts the lower bound at -128, where int8 saturation hides it.
 */
function requantizeLayer(
  label: string,
  preActivation: Float64Array,
  activation: Activation,
  inputScale: number,
  weightScales: number[],
  channels: number,
): { output: Quantization; reference: Reference } {
  const output = calibrateOutput(preActivation);
  assertActivationClamps(label, activation, preActivation, output);
  const activated = preActivation.map((x) => activate(x, activation));
  const values = activated.map((x) => x / output.scale + output.zeroPoint);
  const tieWindows = Float64Array.from(values, (_, i) => {
    const weightScale = weightScales.length > 1 ? weightScales[i % channels] : weightScales[0];
    return tieWindow((inputScale * weightScale) / output.scale);
  });
  return { output, reference: { values, tieWindows } };
}

/**
 * Asserts that the fused activation's bounds lie inside the int8 range and
 * that some values fall beyond them, so that the case tests the clamping.
 */
function assertActivationClamps(label: string, activation: Activation, realValues: Float64Array, output: Quantization): void {
  if (activation === "NONE") return;
  assert.ok(output.zeroPoint > -128, `${label}: the RELU lower bound is the int8 minimum, so the case cannot test it`);
  assert.ok(
    realValues.some((x) => x < 0),
    `${label}: no value is negative, so the case does not test the RELU lower bound`,
  );
  if (activation === "RELU6") {
    assert.ok(6 / output.scale + output.zeroPoint < 127, `${label}: 6.0 quantizes beyond 127, so the case cannot test the RELU6 bound`);
    assert.ok(
      realValues.some((x) => x > 6),
      `${label}: no value exceeds 6, so the case does not test the RELU6 bound`,
    );
  }
}

// CONV_2D

interface ConvCase {
  name: string;
  /** [batches, height, width, depth] */
  inputShape: [number, number, number, number];
  filterHeight: number;
  filterWidth: number;
  outputChannels: number;
  /** Input depth over filter depth, 1 for an ordinary convolution. */
  groups: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padding: Padding;
  activation: Activation;
  perChannel: boolean;
}

const CONV_CASES: ConvCase[] = [
  {
    name: "3x3 stride 1 SAME per-channel",
    inputShape: [1, 7, 7, 3],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 8,
    groups: 1,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "NONE",
    perChannel: true,
  },
  {
    name: "3x3 stride 2 VALID per-tensor RELU",
    inputShape: [1, 9, 8, 4],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 6,
    groups: 1,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "VALID",
    activation: "RELU",
    perChannel: false,
  },
  {
    name: "3x3 stride 2 SAME batch 2 RELU6",
    inputShape: [2, 8, 9, 3],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 5,
    groups: 1,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "RELU6",
    perChannel: true,
  },
  {
    name: "3x3 dilation 2 SAME",
    inputShape: [1, 9, 9, 2],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 4,
    groups: 1,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 2,
    dilationWidth: 2,
    padding: "SAME",
    activation: "NONE",
    perChannel: true,
  },
  {
    name: "2x3 dilation 2 stride (1,2) VALID RELU",
    inputShape: [1, 10, 11, 3],
    filterHeight: 2,
    filterWidth: 3,
    outputChannels: 4,
    groups: 1,
    strideHeight: 1,
    strideWidth: 2,
    dilationHeight: 2,
    dilationWidth: 2,
    padding: "VALID",
    activation: "RELU",
    perChannel: false,
  },
  {
    name: "5x3 stride (2,1) SAME RELU6 per-tensor",
    inputShape: [1, 8, 6, 4],
    filterHeight: 5,
    filterWidth: 3,
    outputChannels: 4,
    groups: 1,
    strideHeight: 2,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "RELU6",
    perChannel: false,
  },
  {
    name: "2 groups SAME per-channel",
    inputShape: [1, 6, 6, 4],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 6,
    groups: 2,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "NONE",
    perChannel: true,
  },
  {
    name: "3 groups stride 2 VALID RELU6 per-tensor",
    inputShape: [1, 7, 7, 6],
    filterHeight: 3,
    filterWidth: 3,
    outputChannels: 9,
    groups: 3,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "VALID",
    activation: "RELU6",
    perChannel: false,
  },
  {
    name: "1x1 pointwise per-channel RELU",
    inputShape: [1, 5, 5, 16],
    filterHeight: 1,
    filterWidth: 1,
    outputChannels: 8,
    groups: 1,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "VALID",
    activation: "RELU",
    perChannel: true,
  },
];

/** Real pre-activation output of a convolution, NHWC, from the shared float reference. */
function convReference(c: ConvCase, inputValues: Int8Array, input: Quantization, layer: Layer): { shape: number[]; values: Float64Array } {
  const filterDepth = c.inputShape[3] / c.groups;
  return conv2dReference(
    referenceActivation(c.inputShape, inputValues, input),
    referenceWeights(layer, [c.outputChannels, c.filterHeight, c.filterWidth, filterDepth], 0),
    referenceBias(layer),
    {
      padding: PADDING_CODES[c.padding],
      strideWidth: c.strideWidth,
      strideHeight: c.strideHeight,
      activation: ActivationCode.NONE,
      dilationWidth: c.dilationWidth,
      dilationHeight: c.dilationHeight,
    },
  );
}

function runConvCase(c: ConvCase, seed: number): { actual: Int8Array; reference: Reference } {
  const random = new Xorshift32(seed);
  const [batches, inputHeight, inputWidth, inputDepth] = c.inputShape;
  const filterDepth = inputDepth / c.groups;
  const input = randomInputQuantization(random);
  const inputValues = random.int8Array(batches * inputHeight * inputWidth * inputDepth);
  const weightsPerChannel = c.filterHeight * c.filterWidth * filterDepth;
  const layer = randomLayer(random, c.outputChannels * weightsPerChannel, c.outputChannels, c.perChannel, input.scale);

  const vertical = spatialOutput(c.padding, inputHeight, c.filterHeight, c.strideHeight, c.dilationHeight);
  const horizontal = spatialOutput(c.padding, inputWidth, c.filterWidth, c.strideWidth, c.dilationWidth);
  const real = convReference(c, inputValues, input, layer);
  assert.equal(real.shape, [batches, vertical.size, horizontal.size, c.outputChannels], `CONV_2D ${c.name}: reference output shape`);
  const preActivation = real.values;
  const { output, reference } = requantizeLayer(`CONV_2D ${c.name}`, preActivation, c.activation, input.scale, layer.weightScales, c.outputChannels);

  const spec: ModelSpec = {
    tensors: [
      activationTensor("input", [...c.inputShape], input),
      ...weightTensors(layer, [c.outputChannels, c.filterHeight, c.filterWidth, filterDepth], c.outputChannels, 0, input.scale),
      activationTensor("output", [batches, vertical.size, horizontal.size, c.outputChannels], output),
    ],
    operators: [
      {
        op: "CONV_2D",
        version: 3,
        inputs: [0, 1, 2],
        outputs: [3],
        options: {
          type: "Conv2DOptions",
          fields: {
            padding: c.padding,
            stride_w: c.strideWidth,
            stride_h: c.strideHeight,
            fused_activation_function: c.activation,
            dilation_w_factor: c.dilationWidth,
            dilation_h_factor: c.dilationHeight,
          },
        },
      },
    ],
    inputs: [0],
    outputs: [3],
  };
  return { actual: runModel(spec, inputValues), reference };
}

CONV_CASES.forEach((c, i) => {
  test(`CONV_2D ${c.name}`, () => {
    const label = `CONV_2D ${c.name}`;
    const { actual, reference } = runConvCase(c, 1000 + i);
    checkCase(label, actual, reference, RESCALE_ONE_LSB_FRACTION);
  });
});

// DEPTHWISE_CONV_2D

interface DepthwiseCase {
  name: string;
  inputShape: [number, number, number, number];
  filterHeight: number;
  filterWidth: number;
  depthMultiplier: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padding: Padding;
  activation: Activation;
  perChannel: boolean;
}

const DEPTHWISE_CASES: DepthwiseCase[] = [
  {
    name: "multiplier 1 3x3 SAME per-channel",
    inputShape: [1, 7, 7, 4],
    filterHeight: 3,
    filterWidth: 3,
    depthMultiplier: 1,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "NONE",
    perChannel: true,
  },
  {
    name: "multiplier 2 stride 2 VALID RELU",
    inputShape: [1, 9, 8, 3],
    filterHeight: 3,
    filterWidth: 3,
    depthMultiplier: 2,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "VALID",
    activation: "RELU",
    perChannel: true,
  },
  {
    name: "multiplier 2 stride 2 dilation 2 SAME batch 2 RELU6 per-tensor",
    inputShape: [2, 9, 9, 2],
    filterHeight: 3,
    filterWidth: 3,
    depthMultiplier: 2,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 2,
    dilationWidth: 2,
    padding: "SAME",
    activation: "RELU6",
    perChannel: false,
  },
  {
    name: "multiplier 1 dilation (2,3) stride (1,2) VALID",
    inputShape: [1, 11, 12, 5],
    filterHeight: 3,
    filterWidth: 2,
    depthMultiplier: 1,
    strideHeight: 1,
    strideWidth: 2,
    dilationHeight: 2,
    dilationWidth: 3,
    padding: "VALID",
    activation: "NONE",
    perChannel: true,
  },
  {
    name: "multiplier 4 5x5 SAME RELU6 per-channel",
    inputShape: [1, 6, 5, 1],
    filterHeight: 5,
    filterWidth: 5,
    depthMultiplier: 4,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padding: "SAME",
    activation: "RELU6",
    perChannel: true,
  },
];

/** Real pre-activation output of a depthwise convolution, NHWC, from the shared float reference. */
function depthwiseReference(c: DepthwiseCase, inputValues: Int8Array, input: Quantization, layer: Layer): { shape: number[]; values: Float64Array } {
  const outputChannels = c.inputShape[3] * c.depthMultiplier;
  return depthwiseConv2dReference(
    referenceActivation(c.inputShape, inputValues, input),
    referenceWeights(layer, [1, c.filterHeight, c.filterWidth, outputChannels], 3),
    referenceBias(layer),
    {
      padding: PADDING_CODES[c.padding],
      strideWidth: c.strideWidth,
      strideHeight: c.strideHeight,
      depthMultiplier: c.depthMultiplier,
      activation: ActivationCode.NONE,
      dilationWidth: c.dilationWidth,
      dilationHeight: c.dilationHeight,
    },
  );
}

DEPTHWISE_CASES.forEach((c, i) => {
  test(`DEPTHWISE_CONV_2D ${c.name}`, () => {
    const label = `DEPTHWISE_CONV_2D ${c.name}`;
    const random = new Xorshift32(2000 + i);
    const [batches, inputHeight, inputWidth, inputDepth] = c.inputShape;
    const outputChannels = inputDepth * c.depthMultiplier;
    const input = randomInputQuantization(random);
    const inputValues = random.int8Array(batches * inputHeight * inputWidth * inputDepth);
    const layer = randomLayer(random, c.filterHeight * c.filterWidth * outputChannels, outputChannels, c.perChannel, input.scale);

    const vertical = spatialOutput(c.padding, inputHeight, c.filterHeight, c.strideHeight, c.dilationHeight);
    const horizontal = spatialOutput(c.padding, inputWidth, c.filterWidth, c.strideWidth, c.dilationWidth);
    const real = depthwiseReference(c, inputValues, input, layer);
    assert.equal(real.shape, [batches, vertical.size, horizontal.size, outputChannels], `${label}: reference output shape`);
    const preActivation = real.values;
    const { output, reference } = requantizeLayer(label, preActivation, c.activation, input.scale, layer.weightScales, outputChannels);

    const spec: ModelSpec = {
      tensors: [
        activationTensor("input", [...c.inputShape], input),
        ...weightTensors(layer, [1, c.filterHeight, c.filterWidth, outputChannels], outputChannels, 3, input.scale),
        activationTensor("output", [batches, vertical.size, horizontal.size, outputChannels], output),
      ],
      operators: [
        {
          op: "DEPTHWISE_CONV_2D",
          version: 3,
          inputs: [0, 1, 2],
          outputs: [3],
          options: {
            type: "DepthwiseConv2DOptions",
            fields: {
              padding: c.padding,
              stride_w: c.strideWidth,
              stride_h: c.strideHeight,
              depth_multiplier: c.depthMultiplier,
              fused_activation_function: c.activation,
              dilation_w_factor: c.dilationWidth,
              dilation_h_factor: c.dilationHeight,
            },
          },
        },
      ],
      inputs: [0],
      outputs: [3],
    };
    checkCase(label, runModel(spec, inputValues), reference, RESCALE_ONE_LSB_FRACTION);
  });
});

// FULLY_CONNECTED

interface FullyConnectedCase {
  name: string;
  /** Any shape whose element count is batches * depth. FULLY_CONNECTED flattens it. */
  inputShape: number[];
  batches: number;
  depth: number;
  units: number;
  activation: Activation;
  perChannel: boolean;
  /** Share of outputs allowed to differ by 1 LSB, when not RESCALE_ONE_LSB_FRACTION. */
  maxOneLsbFraction?: number;
}

const FULLY_CONNECTED_CASES: FullyConnectedCase[] = [
  { name: "per-tensor batch 1", inputShape: [1, 64], batches: 1, depth: 64, units: 10, activation: "NONE", perChannel: false },
  { name: "per-channel batch 3 RELU", inputShape: [3, 33], batches: 3, depth: 33, units: 7, activation: "RELU", perChannel: true },
  { name: "per-tensor batch 4 RELU6", inputShape: [4, 128], batches: 4, depth: 128, units: 16, activation: "RELU6", perChannel: false },
  { name: "per-channel 4-D input", inputShape: [1, 4, 4, 2], batches: 1, depth: 32, units: 12, activation: "NONE", perChannel: true },
  // With one input per unit the output range is narrow, so the effective
  // multiplier (about 0.1) and with it the tie windows are wide: a quarter
  // of the outputs can lie within them, and only the tie check applies.
  {
    name: "per-tensor batch 2 depth 1",
    inputShape: [2, 1],
    batches: 2,
    depth: 1,
    units: 5,
    activation: "NONE",
    perChannel: false,
    maxOneLsbFraction: 1,
  },
];

FULLY_CONNECTED_CASES.forEach((c, i) => {
  test(`FULLY_CONNECTED ${c.name}`, () => {
    const label = `FULLY_CONNECTED ${c.name}`;
    const random = new Xorshift32(3000 + i);
    const input = randomInputQuantization(random);
    const inputValues = random.int8Array(c.batches * c.depth);
    const layer = randomLayer(random, c.units * c.depth, c.units, c.perChannel, input.scale);

    const real = fullyConnectedReference(
      referenceActivation(c.inputShape, inputValues, input),
      referenceWeights(layer, [c.units, c.depth], 0),
      referenceBias(layer),
      { activation: ActivationCode.NONE, weightsFormat: 0, keepNumDims: false },
    );
    assert.equal(real.shape, [c.batches, c.units], `${label}: reference output shape`);
    const preActivation = real.values;
    const { output, reference } = requantizeLayer(label, preActivation, c.activation, input.scale, layer.weightScales, c.units);

    const spec: ModelSpec = {
      tensors: [
        activationTensor("input", c.inputShape, input),
        ...weightTensors(layer, [c.units, c.depth], c.units, 0, input.scale),
        activationTensor("output", [c.batches, c.units], output),
      ],
      operators: [
        {
          op: "FULLY_CONNECTED",
          version: 4,
          inputs: [0, 1, 2],
          outputs: [3],
          options: { type: "FullyConnectedOptions", fields: { fused_activation_function: c.activation } },
        },
      ],
      inputs: [0],
      outputs: [3],
    };
    checkCase(label, runModel(spec, inputValues), reference, c.maxOneLsbFraction ?? RESCALE_ONE_LSB_FRACTION);
  });
});

// AVERAGE_POOL_2D and MAX_POOL_2D

interface PoolCase {
  name: string;
  inputShape: [number, number, number, number];
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padding: Padding;
  activation: Activation;
  /**
   * Quantization of both input and output, which TFLM requires to be equal.
   * With RELU the zero point sits high, so that whole windows fall below it.
   * With RELU6 the scale puts 6.0 at 25.3 LSB above the zero point, inside
   * the range of window averages and away from a rounding tie.
   */
  quantization: Quantization;
}

const POOL_CASES: PoolCase[] = [
  {
    name: "2x2 stride 2 VALID",
    inputShape: [1, 8, 8, 3],
    filterHeight: 2,
    filterWidth: 2,
    strideHeight: 2,
    strideWidth: 2,
    padding: "VALID",
    activation: "NONE",
    quantization: { scale: Math.fround(0.05), zeroPoint: -20 },
  },
  {
    name: "3x3 stride 2 SAME RELU",
    inputShape: [1, 7, 9, 4],
    filterHeight: 3,
    filterWidth: 3,
    strideHeight: 2,
    strideWidth: 2,
    padding: "SAME",
    activation: "RELU",
    quantization: { scale: Math.fround(0.05), zeroPoint: 70 },
  },
  {
    name: "3x2 stride 1 SAME batch 2 RELU6",
    inputShape: [2, 6, 6, 2],
    filterHeight: 3,
    filterWidth: 2,
    strideHeight: 1,
    strideWidth: 1,
    padding: "SAME",
    activation: "RELU6",
    quantization: { scale: Math.fround(6 / 25.3), zeroPoint: 20 },
  },
  {
    name: "global 5x5 VALID",
    inputShape: [1, 5, 5, 8],
    filterHeight: 5,
    filterWidth: 5,
    strideHeight: 1,
    strideWidth: 1,
    padding: "VALID",
    activation: "NONE",
    quantization: { scale: Math.fround(0.02), zeroPoint: 5 },
  },
  {
    name: "4x4 stride 3 SAME",
    inputShape: [1, 10, 11, 3],
    filterHeight: 4,
    filterWidth: 4,
    strideHeight: 3,
    strideWidth: 3,
    padding: "SAME",
    activation: "NONE",
    quantization: { scale: Math.fround(0.1), zeroPoint: -128 },
  },
];

type PoolKind = "AVERAGE_POOL_2D" | "MAX_POOL_2D";

function runPoolCase(kind: PoolKind, c: PoolCase, seed: number): { actual: Int8Array; reference: Reference } {
  const random = new Xorshift32(seed);
  const [batches, inputHeight, inputWidth, channels] = c.inputShape;
  const quantization = c.quantization;
  const inputValues = random.int8Array(batches * inputHeight * inputWidth * channels);

  const vertical = spatialOutput(c.padding, inputHeight, c.filterHeight, c.strideHeight, 1);
  const horizontal = spatialOutput(c.padding, inputWidth, c.filterWidth, c.strideWidth, 1);
  // Padding taps are left out of both the maximum and the average.
  const real = pool2dReference(kind === "MAX_POOL_2D" ? "max" : "average", referenceActivation(c.inputShape, inputValues, quantization), {
    padding: PADDING_CODES[c.padding],
    strideWidth: c.strideWidth,
    strideHeight: c.strideHeight,
    filterWidth: c.filterWidth,
    filterHeight: c.filterHeight,
    activation: ActivationCode.NONE,
  });
  assert.equal(real.shape, [batches, vertical.size, horizontal.size, channels], `${kind} ${c.name}: reference output shape`);
  const pooled = real.values;
  assertActivationClamps(`${kind} ${c.name}`, c.activation, pooled, quantization);
  const values = pooled.map((x) => activate(x, c.activation) / quantization.scale + quantization.zeroPoint);
  // An average, a sum of quantized values over the tap count, may land
  // exactly on a tie. A maximum is an input value, so it must match exactly.
  const tieWindows = new Float64Array(values.length).fill(kind === "MAX_POOL_2D" ? 0 : 1e-9);

  const spec: ModelSpec = {
    tensors: [
      activationTensor("input", [...c.inputShape], quantization),
      activationTensor("output", [batches, vertical.size, horizontal.size, channels], quantization),
    ],
    operators: [
      {
        op: kind,
        inputs: [0],
        outputs: [1],
        options: {
          type: "Pool2DOptions",
          fields: {
            padding: c.padding,
            stride_w: c.strideWidth,
            stride_h: c.strideHeight,
            filter_width: c.filterWidth,
            filter_height: c.filterHeight,
            fused_activation_function: c.activation,
          },
        },
      },
    ],
    inputs: [0],
    outputs: [1],
  };
  return { actual: runModel(spec, inputValues), reference: { values, tieWindows } };
}

POOL_CASES.forEach((c, i) => {
  test(`AVERAGE_POOL_2D ${c.name}`, () => {
    const { actual, reference } = runPoolCase("AVERAGE_POOL_2D", c, 4000 + i);
    // Exact ties are common in averages of few taps, so their count is not bounded.
    checkCase(`AVERAGE_POOL_2D ${c.name}`, actual, reference, 1);
  });

  test(`MAX_POOL_2D ${c.name}`, () => {
    const { actual, reference } = runPoolCase("MAX_POOL_2D", c, 5000 + i);
    checkCase(`MAX_POOL_2D ${c.name}`, actual, reference, 0);
  });
});

// SOFTMAX

interface SoftmaxCase {
  name: string;
  /** Softmax runs along the last axis. */
  shape: number[];
  beta: number;
  inputScale: number;
}

const SOFTMAX_CASES: SoftmaxCase[] = [
  { name: "10 classes beta 1", shape: [1, 10], beta: 1, inputScale: 0.1 },
  { name: "batch 4 of 32 flat distribution", shape: [4, 32], beta: 1, inputScale: 0.02 },
  { name: "batch 3 of 5 sharp beta 0.5", shape: [3, 5], beta: 0.5, inputScale: 0.25 },
  { name: "1001 classes", shape: [1, 1001], beta: 1, inputScale: 0.08 },
  { name: "4-D input", shape: [1, 2, 2, 8], beta: 1, inputScale: 0.0625 },
];

/**
 * Tie window of softmax, an estimate with margin. In 200 seeded variants of
 * the cases below (237,200 outputs) no output differed from the rounded
 * reference, so the fixed-point exp, sum and reciprocal err by well under
 * 0.01 LSB on such inputs.
 */
const SOFTMAX_TIE_WINDOW = 0.01;

SOFTMAX_CASES.forEach((c, i) => {
  test(`SOFTMAX ${c.name}`, () => {
    const random = new Xorshift32(6000 + i);
    const input: Quantization = { scale: Math.fround(c.inputScale), zeroPoint: random.integer(-128, 127) };
    // TFLM's int8 softmax requires exactly this output quantization.
    const output: Quantization = { scale: 1 / 256, zeroPoint: -128 };
    const elementCount = c.shape.reduce((a, b) => a * b, 1);
    const inputValues = random.int8Array(elementCount);

    const probabilities = softmaxReference(referenceActivation(c.shape, inputValues, input), { beta: c.beta }).values;
    const values = probabilities.map((p) => p / output.scale + output.zeroPoint);
    const tieWindows = new Float64Array(elementCount).fill(SOFTMAX_TIE_WINDOW);

    const spec: ModelSpec = {
      tensors: [activationTensor("input", c.shape, input), activationTensor("output", c.shape, output)],
      operators: [{ op: "SOFTMAX", inputs: [0], outputs: [1], options: { type: "SoftmaxOptions", fields: { beta: c.beta } } }],
      inputs: [0],
      outputs: [1],
    };
    checkCase(`SOFTMAX ${c.name}`, runModel(spec, inputValues), { values, tieWindows }, RESCALE_ONE_LSB_FRACTION);
  });
});

// RESHAPE: dequantizing and requantizing with one scale is the identity.

test("RESHAPE new_shape option", () => {
  const random = new Xorshift32(7000);
  const quantization = randomInputQuantization(random);
  const inputValues = random.int8Array(24);
  const spec: ModelSpec = {
    tensors: [activationTensor("input", [1, 2, 3, 4], quantization), activationTensor("output", [1, 24], quantization)],
    operators: [{ op: "RESHAPE", inputs: [0], outputs: [1], options: { type: "ReshapeOptions", fields: { new_shape: [1, 24] } } }],
    inputs: [0],
    outputs: [1],
  };
  assert.equal(Array.from(runModel(spec, inputValues)), Array.from(inputValues));
});

test("RESHAPE shape input", () => {
  const random = new Xorshift32(7001);
  const quantization = randomInputQuantization(random);
  const inputValues = random.int8Array(24);
  const spec: ModelSpec = {
    tensors: [
      activationTensor("input", [2, 3, 4], quantization),
      { name: "shape", type: "int32", shape: [2], data: bytesOf(Int32Array.from([6, -1])) },
      activationTensor("output", [6, 4], quantization),
    ],
    operators: [{ op: "RESHAPE", inputs: [0, 1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
  assert.equal(Array.from(runModel(spec, inputValues)), Array.from(inputValues));
});

// The checks themselves must reject wrong kernels.

/**
 * Asserts that `check` fails with a message matching `message`. uvu's
 * assert.throws passes its own assertion errors through instead of
 * catching them, so this catches them itself.
 */
function assertRejects(check: () => unknown, message: RegExp): void {
  let failure: Error | undefined;
  try {
    check();
  } catch (error) {
    failure = error as Error;
  }
  assert.ok(failure !== undefined, "the check accepted wrong outputs");
  assert.match(failure.message, message);
}

test("checks reject outputs off by one everywhere", () => {
  const { actual, reference } = runConvCase(CONV_CASES[0], 1000);
  const shifted = actual.map((v) => Math.min(v + 1, 127));
  assertRejects(() => assertMatchesReference("shifted", shifted, reference, RESCALE_ONE_LSB_FRACTION), /from a rounding tie/);
});

test("checks reject rounding toward zero", () => {
  const { reference } = runConvCase(CONV_CASES[0], 1000);
  const truncated = reference.values.map((v) => Math.min(127, Math.max(-128, Math.trunc(v))));
  assertRejects(() => assertMatchesReference("truncated", truncated, reference, RESCALE_ONE_LSB_FRACTION), /from a rounding tie/);
});

test("checks reject too many near-tie differences", () => {
  const { reference } = runConvCase(CONV_CASES[0], 1000);
  // Every output rounded the other way, as if each value sat on a tie.
  const flipped = reference.values.map((v) => Math.min(127, Math.max(-128, Math.round(v) + (v - Math.floor(v) < 0.5 ? 1 : -1))));
  const everywhere: Reference = { values: reference.values, tieWindows: new Float64Array(reference.values.length).fill(0.5) };
  assertRejects(() => assertMatchesReference("flipped", flipped, everywhere, RESCALE_ONE_LSB_FRACTION), /differ by 1 LSB, more than/);
});

test("checks reject one output off by two", () => {
  const { actual, reference } = runConvCase(CONV_CASES[0], 1000);
  const index = actual.findIndex((v) => v < 100 && v > -100);
  const wrong = Int8Array.from(actual);
  wrong[index] += 2;
  assertRejects(() => assertMatchesReference("off by two", wrong, reference, RESCALE_ONE_LSB_FRACTION), /off by two: output/);
});

test.after(() => {
  if (process.env.MICROQ_FLOAT_REFERENCE_STATS !== "1") return;
  for (const [label, stats] of statsByCase) {
    console.log(`${label}: max error ${stats.maxError} LSB, ${stats.oneLsbCount} of ${stats.count} outputs differ by 1 LSB`);
  }
});

test.run();
