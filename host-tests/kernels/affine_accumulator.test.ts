// The affine accumulator kernels (kernels/affine: CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, BATCH_MATMUL) against plain loops written here, on
// seeded random single-operator models run through the Interpreter.
//
// The reference computes acc = sum((x - zx) * (w - zw)) term by term over
// the in-bounds taps, without the kernels' zero-point folding. A raw int32
// output (ONNX ConvInteger / MatMulInteger) must equal acc. A uint8 or int8
// output must equal the scheme's requantization of acc, clamped to the
// type and the fused activation's bounds. The schemes themselves are tested
// elsewhere; here they only map the same acc to the same integer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { affineBatchMatMulKernel } from "../../kernels/affine/batch_matmul.js";
import { affineConv2dKernel } from "../../kernels/affine/conv2d.js";
import { affineDepthwiseConv2dKernel } from "../../kernels/affine/depthwise_conv2d.js";
import { affineFullyConnectedKernel } from "../../kernels/affine/fully_connected.js";
import { MAX_ACCUMULATOR_DEPTH } from "../../kernels/affine/accumulator_common.js";
import { Kernel } from "../../kernels/kernel.js";
import { UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, OperatorSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { Xorshift32, bytesOf, typeRange } from "./test_data.js";

/** The affine kernels by builtin code, so that the tests do not depend on the registry's order. */
const AFFINE_KERNELS = new Map<number, Kernel>([
  [3, affineConv2dKernel],
  [4, affineDepthwiseConv2dKernel],
  [9, affineFullyConnectedKernel],
  [126, affineBatchMatMulKernel],
]);

/** Schemes the requantized cases run with; each maps acc to output integers its own way. */
const SCHEMES: readonly SchemeName[] = ["tflm", "pytorch-qnnpack", "pytorch-onednn", "onnx"];

type QuantizedType = "uint8" | "int8";

function randomValues(random: Xorshift32, count: number, type: QuantizedType): number[] {
  const [min, max] = typeRange(type);
  return Array.from({ length: count }, () => random.integer(min, max));
}

/** Quantization of a weight tensor: per channel along `dimension` when `scales` has several entries. */
interface WeightQuantization {
  type: QuantizedType;
  scales: number[];
  zeroPoints: number[];
  dimension: number;
}

function randomWeightQuantization(random: Xorshift32, type: QuantizedType, channels: number, dimension: number, perChannel: boolean): WeightQuantization {
  const [min, max] = typeRange(type);
  const count = perChannel ? channels : 1;
  return {
    type,
    scales: Array.from({ length: count }, () => Math.fround(random.uniform(0.002, 0.02))),
    zeroPoints: Array.from({ length: count }, () => random.integer(min + 40, max - 40)),
    dimension,
  };
}

/** Zero point of channel c. */
function zeroPointOf(quantization: WeightQuantization, channel: number): number {
  return quantization.zeroPoints.length === 1 ? quantization.zeroPoints[0] : quantization.zeroPoints[channel];
}

function scaleOf(quantization: WeightQuantization, channel: number): number {
  return quantization.scales.length === 1 ? quantization.scales[0] : quantization.scales[channel];
}

/** Output of a case: raw int32, or requantized to a type with a scale, zero point and activation. */
type OutputForm =
  | { kind: "raw" }
  | { kind: "quantized"; type: QuantizedType; scale: number; zeroPoint: number; activation: "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1" };

function outputTensor(name: string, shape: number[], form: OutputForm): TensorSpec {
  if (form.kind === "raw") return { name, type: "int32", shape };
  return { name, type: form.type, shape, scale: [form.scale], zeroPoint: [form.zeroPoint] };
}

/** Runs a one-operator model through the Interpreter with the affine kernels and returns output 0. */
function runModel(spec: ModelSpec, inputs: Uint8Array[], scheme: SchemeName): number[] {
  const interpreter = new Interpreter(writeModel(spec), {
    resolveKernel: (code) => AFFINE_KERNELS.get(code),
    requantization: scheme,
  });
  inputs.forEach((bytes, i) => interpreter.setInput(i, bytes));
  // Twice, so that a kernel keeping state between invokes fails.
  interpreter.invoke();
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data as ArrayLike<number>);
}

/**
 * Maps reference accumulators to expected outputs: unchanged for a raw
 * output, else the scheme's requantization clamped to the type range and
 * the activation bounds quantized by the scheme (TFLite's rule).
 */
function expectedOutputs(
  accumulators: readonly number[],
  channels: number,
  form: OutputForm,
  scheme: SchemeName,
  layer: { kind: "conv" | "fully_connected"; inputScale: number; weights: WeightQuantization; bias: Int32Array | Float32Array | null },
): number[] {
  if (form.kind === "raw") return accumulators.slice();
  const requantization = schemeByName(scheme);
  const requantizer = requantization.accumulator({
    kind: layer.kind,
    inputScale: layer.inputScale,
    weightScales: layer.weights.scales,
    outputScale: form.scale,
    outputZeroPoint: form.zeroPoint,
    channels,
    bias: layer.bias,
  });
  let [low, high] = typeRange(form.type);
  const quantize = (real: number) => requantization.quantizeReal(real, form.scale, form.zeroPoint);
  if (form.activation !== "NONE") low = Math.max(low, quantize(form.activation === "RELU_N1_TO_1" ? -1 : 0));
  if (form.activation === "RELU6") high = Math.min(high, quantize(6));
  if (form.activation === "RELU_N1_TO_1") high = Math.min(high, quantize(1));
  return accumulators.map((acc, i) => Math.min(high, Math.max(low, requantizer.requantize(acc, i % channels))));
}

/** TFLite's SAME or VALID output size and leading padding. */
function padding(mode: "SAME" | "VALID", inputSize: number, filter: number, stride: number, dilation: number): { size: number; before: number } {
  const effective = (filter - 1) * dilation + 1;
  const size = mode === "SAME" ? Math.ceil(inputSize / stride) : Math.floor((inputSize - effective) / stride) + 1;
  const total = Math.max((size - 1) * stride + effective - inputSize, 0);
  return { size, before: Math.floor(total / 2) };
}

// ---------------------------------------------------------------------------
// Convolution

interface ConvCase {
  name: string;
  seed: number;
  depthwise: boolean;
  batches: number;
  height: number;
  width: number;
  inputDepth: number;
  /** Output channels (depthwise: inputDepth * multiplier). */
  channels: number;
  /** Input channels one filter reads (conv only; groups = inputDepth / filterDepth). */
  filterDepth: number;
  filterHeight: number;
  filterWidth: number;
  stride: [number, number];
  dilation: [number, number];
  padding: "SAME" | "VALID";
  inputType: QuantizedType;
  weightType: QuantizedType;
  perChannel: boolean;
  bias: "none" | "int32" | "float32";
  output: OutputForm;
}

interface BuiltLayer {
  spec: ModelSpec;
  inputs: Uint8Array[];
  accumulators: number[];
  channels: number;
  layer: { kind: "conv" | "fully_connected"; inputScale: number; weights: WeightQuantization; bias: Int32Array | Float32Array | null };
}

/** Runs the built model with every scheme of SCHEMES (tflm alone for a raw int32 output) and compares it with the reference. */
function checkEveryScheme(built: BuiltLayer, output: OutputForm): void {
  const schemes = output.kind === "raw" ? (["tflm"] as const) : SCHEMES;
  for (const scheme of schemes) {
    const actual = runModel(built.spec, built.inputs, scheme);
    const expected = expectedOutputs(built.accumulators, built.channels, output, scheme, built.layer);
    assert.equal(actual, expected, `scheme ${scheme}`);
  }
}

function randomBias(random: Xorshift32, kind: "none" | "int32" | "float32", channels: number): Int32Array | Float32Array | null {
  if (kind === "int32") return Int32Array.from({ length: channels }, () => random.integer(-3000, 3000));
  if (kind === "float32") return Float32Array.from({ length: channels }, () => random.uniform(-0.5, 0.5));
  return null;
}

function buildConv(c: ConvCase): BuiltLayer {
  const random = new Xorshift32(c.seed);
  const [inMin, inMax] = typeRange(c.inputType);
  const inputScale = Math.fround(random.uniform(0.01, 0.05));
  const inputZeroPoint = random.integer(inMin + 30, inMax - 30);
  const input = randomValues(random, c.batches * c.height * c.width * c.inputDepth, c.inputType);
  const filterDepth = c.depthwise ? 1 : c.filterDepth;
  const taps = c.filterHeight * c.filterWidth;
  const weights = randomValues(random, c.channels * taps * filterDepth, c.weightType);
  const weightQuantization = randomWeightQuantization(random, c.weightType, c.channels, c.depthwise ? 3 : 0, c.perChannel);
  const bias = randomBias(random, c.bias, c.channels);

  const vertical = padding(c.padding, c.height, c.filterHeight, c.stride[0], c.dilation[0]);
  const horizontal = padding(c.padding, c.width, c.filterWidth, c.stride[1], c.dilation[1]);
  const groups = c.inputDepth / filterDepth;
  const multiplier = c.channels / c.inputDepth;
  const channelsPerGroup = c.channels / groups;

  // Plain loops over NHWC input and OHWI (or [1, H, W, C * M]) weights.
  const accumulators: number[] = [];
  for (let b = 0; b < c.batches; b++) {
    for (let outY = 0; outY < vertical.size; outY++) {
      for (let outX = 0; outX < horizontal.size; outX++) {
        for (let channel = 0; channel < c.channels; channel++) {
          const zw = zeroPointOf(weightQuantization, channel);
          let acc = 0;
          for (let fy = 0; fy < c.filterHeight; fy++) {
            for (let fx = 0; fx < c.filterWidth; fx++) {
              const inY = outY * c.stride[0] - vertical.before + fy * c.dilation[0];
              const inX = outX * c.stride[1] - horizontal.before + fx * c.dilation[1];
              if (inY < 0 || inY >= c.height || inX < 0 || inX >= c.width) continue;
              for (let k = 0; k < filterDepth; k++) {
                const inChannel = c.depthwise ? Math.floor(channel / multiplier) : Math.floor(channel / channelsPerGroup) * filterDepth + k;
                const x = input[((b * c.height + inY) * c.width + inX) * c.inputDepth + inChannel];
                const w = c.depthwise
                  ? weights[(fy * c.filterWidth + fx) * c.channels + channel]
                  : weights[((channel * c.filterHeight + fy) * c.filterWidth + fx) * filterDepth + k];
                acc += (x - inputZeroPoint) * (w - zw);
              }
            }
          }
          accumulators.push(acc);
        }
      }
    }
  }

  const tensors: TensorSpec[] = [
    { name: "input", type: c.inputType, shape: [c.batches, c.height, c.width, c.inputDepth], scale: [inputScale], zeroPoint: [inputZeroPoint] },
    {
      name: "weights",
      type: c.weightType,
      shape: c.depthwise ? [1, c.filterHeight, c.filterWidth, c.channels] : [c.channels, c.filterHeight, c.filterWidth, filterDepth],
      data: bytesOf(c.weightType, weights),
      scale: weightQuantization.scales,
      zeroPoint: weightQuantization.zeroPoints,
      quantizedDimension: weightQuantization.dimension,
    },
    outputTensor("output", [c.batches, vertical.size, horizontal.size, c.channels], c.output),
  ];
  const inputs = [0, 1, -1];
  if (bias !== null) {
    tensors.push({ name: "bias", type: bias instanceof Int32Array ? "int32" : "float32", shape: [c.channels], data: new Uint8Array(bias.buffer) });
    inputs[2] = 3;
  }
  const fields = {
    padding: c.padding,
    stride_h: c.stride[0],
    stride_w: c.stride[1],
    dilation_h_factor: c.dilation[0],
    dilation_w_factor: c.dilation[1],
    fused_activation_function: c.output.kind === "raw" ? "NONE" : c.output.activation,
  };
  const operator: OperatorSpec = c.depthwise
    ? { op: "DEPTHWISE_CONV_2D", inputs, outputs: [2], options: { type: "DepthwiseConv2DOptions", fields: { ...fields, depth_multiplier: multiplier } } }
    : { op: "CONV_2D", inputs, outputs: [2], options: { type: "Conv2DOptions", fields } };
  return {
    spec: { tensors, operators: [operator], inputs: [0], outputs: [2] },
    inputs: [bytesOf(c.inputType, input)],
    accumulators,
    channels: c.channels,
    layer: { kind: "conv", inputScale, weights: weightQuantization, bias },
  };
}

const RAW: OutputForm = { kind: "raw" };
const UINT8_RELU6: OutputForm = { kind: "quantized", type: "uint8", scale: 0.05, zeroPoint: 37, activation: "RELU6" };
const INT8_NONE: OutputForm = { kind: "quantized", type: "int8", scale: 0.11, zeroPoint: -5, activation: "NONE" };
const UINT8_RELU: OutputForm = { kind: "quantized", type: "uint8", scale: 0.08, zeroPoint: 120, activation: "RELU" };
const INT8_N1_TO_1: OutputForm = { kind: "quantized", type: "int8", scale: 0.01, zeroPoint: 3, activation: "RELU_N1_TO_1" };

const CONV_BASE = {
  depthwise: false,
  batches: 2,
  height: 7,
  width: 6,
  inputDepth: 4,
  channels: 6,
  filterDepth: 2,
  filterHeight: 3,
  filterWidth: 2,
  stride: [2, 1] as [number, number],
  dilation: [1, 2] as [number, number],
  padding: "SAME" as const,
  inputType: "uint8" as const,
  weightType: "uint8" as const,
  perChannel: true,
  bias: "none" as const,
  output: RAW,
};

const CONV_CASES: ConvCase[] = [
  { ...CONV_BASE, name: "conv int32: 2 groups, stride, dilation, SAME, per-channel zero points", seed: 11 },
  { ...CONV_BASE, name: "conv int32: int8 input and weights, VALID", seed: 12, inputType: "int8", weightType: "int8", padding: "VALID", dilation: [2, 1] },
  { ...CONV_BASE, name: "conv int32: 1x1 stride 2, 4 groups, per-tensor zero point", seed: 13, filterHeight: 1, filterWidth: 1, filterDepth: 1, channels: 8, stride: [2, 2], perChannel: false },
  { ...CONV_BASE, name: "conv int32: 3x3 over 4 groups of 1 channel", seed: 17, filterHeight: 3, filterWidth: 3, filterDepth: 1, channels: 4, stride: [1, 1], dilation: [1, 1] },
  { ...CONV_BASE, name: "conv uint8: one group, float bias, RELU6", seed: 14, filterDepth: 4, bias: "float32", output: UINT8_RELU6 },
  { ...CONV_BASE, name: "conv int8 out: int32 bias, int8 weights, stride 3", seed: 15, weightType: "int8", stride: [3, 3], dilation: [1, 1], bias: "int32", output: INT8_NONE },
  { ...CONV_BASE, name: "conv uint8: 1x1 in place, float bias, RELU", seed: 16, filterHeight: 1, filterWidth: 1, filterDepth: 4, stride: [1, 1], bias: "float32", output: UINT8_RELU },
  { ...CONV_BASE, name: "depthwise int32: multiplier 2, stride 2, dilation 2, SAME", seed: 21, depthwise: true, channels: 8, filterHeight: 3, filterWidth: 3, stride: [2, 2], dilation: [2, 2] },
  { ...CONV_BASE, name: "depthwise int32: int8, multiplier 1, VALID", seed: 22, depthwise: true, channels: 4, inputType: "int8", weightType: "int8", padding: "VALID", stride: [1, 1], dilation: [1, 1] },
  { ...CONV_BASE, name: "depthwise uint8: per-tensor weights, float bias, RELU", seed: 23, depthwise: true, channels: 4, filterHeight: 3, filterWidth: 3, perChannel: false, bias: "float32", output: UINT8_RELU },
  { ...CONV_BASE, name: "depthwise int8 out: multiplier 3, int32 bias, RELU_N1_TO_1", seed: 24, depthwise: true, channels: 12, stride: [1, 2], bias: "int32", output: INT8_N1_TO_1 },
];

for (const c of CONV_CASES) {
  test(c.name, () => {
    const built = buildConv(c);
    checkEveryScheme(built, c.output);
    if (c.output.kind === "quantized") {
      // The case must reach the clamp bounds and values between them, or it tests too little.
      const distinct = new Set(expectedOutputs(built.accumulators, built.channels, c.output, "tflm", built.layer));
      assert.ok(distinct.size > 10, `only ${distinct.size} distinct outputs`);
    }
  });
}

// ---------------------------------------------------------------------------
// Fully connected

interface FullyConnectedCase {
  name: string;
  seed: number;
  inputShape: number[];
  units: number;
  keepNumDims: boolean;
  inputType: QuantizedType;
  weightType: QuantizedType;
  perChannel: boolean;
  bias: "none" | "int32" | "float32";
  output: OutputForm;
}

function buildFullyConnected(c: FullyConnectedCase): BuiltLayer {
  const random = new Xorshift32(c.seed);
  const [inMin, inMax] = typeRange(c.inputType);
  const depth = c.inputShape[c.inputShape.length - 1];
  const batches = c.inputShape.reduce((product, dimension) => product * dimension, 1) / depth;
  const inputScale = Math.fround(random.uniform(0.01, 0.05));
  const inputZeroPoint = random.integer(inMin + 30, inMax - 30);
  const input = randomValues(random, batches * depth, c.inputType);
  const weights = randomValues(random, c.units * depth, c.weightType);
  const weightQuantization = randomWeightQuantization(random, c.weightType, c.units, 0, c.perChannel);
  const bias = randomBias(random, c.bias, c.units);

  const accumulators: number[] = [];
  for (let b = 0; b < batches; b++) {
    for (let unit = 0; unit < c.units; unit++) {
      let acc = 0;
      for (let k = 0; k < depth; k++) {
        acc += (input[b * depth + k] - inputZeroPoint) * (weights[unit * depth + k] - zeroPointOf(weightQuantization, unit));
      }
      accumulators.push(acc);
    }
  }

  const outputShape = c.keepNumDims ? [...c.inputShape.slice(0, -1), c.units] : [batches, c.units];
  const tensors: TensorSpec[] = [
    { name: "input", type: c.inputType, shape: c.inputShape, scale: [inputScale], zeroPoint: [inputZeroPoint] },
    {
      name: "weights",
      type: c.weightType,
      shape: [c.units, depth],
      data: bytesOf(c.weightType, weights),
      scale: weightQuantization.scales,
      zeroPoint: weightQuantization.zeroPoints,
    },
    outputTensor("output", outputShape, c.output),
  ];
  const inputs = [0, 1, -1];
  if (bias !== null) {
    tensors.push({ name: "bias", type: bias instanceof Int32Array ? "int32" : "float32", shape: [c.units], data: new Uint8Array(bias.buffer) });
    inputs[2] = 3;
  }
  const operator: OperatorSpec = {
    op: "FULLY_CONNECTED",
    inputs,
    outputs: [2],
    options: {
      type: "FullyConnectedOptions",
      fields: { fused_activation_function: c.output.kind === "raw" ? "NONE" : c.output.activation, keep_num_dims: c.keepNumDims },
    },
  };
  return {
    spec: { tensors, operators: [operator], inputs: [0], outputs: [2] },
    inputs: [bytesOf(c.inputType, input)],
    accumulators,
    channels: c.units,
    layer: { kind: "fully_connected", inputScale, weights: weightQuantization, bias },
  };
}

const FULLY_CONNECTED_CASES: FullyConnectedCase[] = [
  { name: "fully connected int32: rank 3, keep_num_dims, zero points", seed: 31, inputShape: [2, 3, 10], units: 7, keepNumDims: true, inputType: "uint8", weightType: "uint8", perChannel: true, bias: "none", output: RAW },
  { name: "fully connected int32: rank 4 flattened, int8", seed: 32, inputShape: [3, 2, 2, 5], units: 4, keepNumDims: false, inputType: "int8", weightType: "int8", perChannel: false, bias: "none", output: RAW },
  { name: "fully connected uint8: per-channel, float bias, RELU", seed: 33, inputShape: [4, 32], units: 16, keepNumDims: false, inputType: "uint8", weightType: "int8", perChannel: true, bias: "float32", output: UINT8_RELU },
  { name: "fully connected int8 out: int32 bias, uint8 weights", seed: 34, inputShape: [5, 9], units: 6, keepNumDims: false, inputType: "int8", weightType: "uint8", perChannel: false, bias: "int32", output: INT8_NONE },
];

for (const c of FULLY_CONNECTED_CASES) {
  test(c.name, () => checkEveryScheme(buildFullyConnected(c), c.output));
}

// ---------------------------------------------------------------------------
// Batch matrix product

interface BatchMatMulCase {
  name: string;
  seed: number;
  /** Stored shapes: A [..., M, K] or [..., K, M] with adjX; B [..., K, N] or [..., N, K] with adjY. */
  lhsShape: number[];
  rhsShape: number[];
  adjX: boolean;
  adjY: boolean;
  /** B stored in the model (true) or a second graph input. */
  constantRhs: boolean;
  lhsType: QuantizedType;
  rhsType: QuantizedType;
  perChannel: boolean;
  output: OutputForm;
}

function buildBatchMatMul(c: BatchMatMulCase): BuiltLayer {
  const random = new Xorshift32(c.seed);
  const lhsRank = c.lhsShape.length;
  const rhsRank = c.rhsShape.length;
  const rows = c.adjX ? c.lhsShape[lhsRank - 1] : c.lhsShape[lhsRank - 2];
  const depth = c.adjX ? c.lhsShape[lhsRank - 2] : c.lhsShape[lhsRank - 1];
  const columns = c.adjY ? c.rhsShape[rhsRank - 2] : c.rhsShape[rhsRank - 1];
  const count = (shape: number[]) => shape.reduce((product, dimension) => product * dimension, 1);
  const [lhsMin, lhsMax] = typeRange(c.lhsType);
  const lhsScale = Math.fround(random.uniform(0.01, 0.05));
  const lhsZeroPoint = random.integer(lhsMin + 30, lhsMax - 30);
  const lhs = randomValues(random, count(c.lhsShape), c.lhsType);
  const rhs = randomValues(random, count(c.rhsShape), c.rhsType);
  const rhsQuantization = randomWeightQuantization(random, c.rhsType, columns, c.adjY ? rhsRank - 2 : rhsRank - 1, c.perChannel);

  // Broadcast of the leading dimensions, written out with numpy's rule.
  const rank = Math.max(lhsRank, rhsRank);
  const lhsLeading = [...Array(rank - lhsRank).fill(1), ...c.lhsShape.slice(0, -2)];
  const rhsLeading = [...Array(rank - rhsRank).fill(1), ...c.rhsShape.slice(0, -2)];
  const leading = lhsLeading.map((d, i) => Math.max(d, rhsLeading[i]));
  const batches = count(leading);
  const accumulators: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const coordinates: number[] = [];
    let rest = batch;
    for (let i = leading.length - 1; i >= 0; i--) {
      coordinates.unshift(rest % leading[i]);
      rest = Math.floor(rest / leading[i]);
    }
    const matrixIndex = (dims: number[]) => dims.reduce((index, d, i) => index * d + (d === 1 ? 0 : coordinates[i]), 0);
    const lhsBase = matrixIndex(lhsLeading) * rows * depth;
    const rhsBase = matrixIndex(rhsLeading) * depth * columns;
    for (let m = 0; m < rows; m++) {
      for (let n = 0; n < columns; n++) {
        let acc = 0;
        for (let k = 0; k < depth; k++) {
          const a = lhs[lhsBase + (c.adjX ? k * rows + m : m * depth + k)];
          const b = rhs[rhsBase + (c.adjY ? n * depth + k : k * columns + n)];
          acc += (a - lhsZeroPoint) * (b - zeroPointOf(rhsQuantization, n));
        }
        accumulators.push(acc);
      }
    }
  }

  const tensors: TensorSpec[] = [
    { name: "lhs", type: c.lhsType, shape: c.lhsShape, scale: [lhsScale], zeroPoint: [lhsZeroPoint] },
    {
      name: "rhs",
      type: c.rhsType,
      shape: c.rhsShape,
      data: c.constantRhs ? bytesOf(c.rhsType, rhs) : undefined,
      scale: rhsQuantization.scales,
      zeroPoint: rhsQuantization.zeroPoints,
      quantizedDimension: rhsQuantization.dimension,
    },
    outputTensor("output", [...leading, rows, columns], c.output),
  ];
  const operator: OperatorSpec = {
    op: "BATCH_MATMUL",
    inputs: [0, 1],
    outputs: [2],
    options: { type: "BatchMatMulOptions", fields: { adj_x: c.adjX, adj_y: c.adjY } },
  };
  const inputs = [bytesOf(c.lhsType, lhs)];
  if (!c.constantRhs) inputs.push(bytesOf(c.rhsType, rhs));
  return {
    spec: { tensors, operators: [operator], inputs: c.constantRhs ? [0] : [0, 1], outputs: [2] },
    inputs,
    accumulators,
    channels: columns,
    layer: { kind: "fully_connected", inputScale: lhsScale, weights: rhsQuantization, bias: null },
  };
}

const BATCH_MATMUL_BASE = {
  constantRhs: true,
  lhsType: "uint8" as const,
  rhsType: "uint8" as const,
  perChannel: true,
  output: RAW,
};

const BATCH_MATMUL_CASES: BatchMatMulCase[] = [
  { ...BATCH_MATMUL_BASE, name: "batch matmul int32: broadcast, constant B", seed: 41, lhsShape: [2, 1, 3, 5], rhsShape: [3, 5, 4], adjX: false, adjY: false },
  { ...BATCH_MATMUL_BASE, name: "batch matmul int32: adj_x", seed: 42, lhsShape: [2, 1, 5, 3], rhsShape: [3, 5, 4], adjX: true, adjY: false },
  { ...BATCH_MATMUL_BASE, name: "batch matmul int32: adj_y", seed: 43, lhsShape: [2, 1, 3, 5], rhsShape: [3, 4, 5], adjX: false, adjY: true },
  { ...BATCH_MATMUL_BASE, name: "batch matmul int32: adj_x and adj_y, int8", seed: 44, lhsShape: [4, 5, 3], rhsShape: [1, 4, 5], adjX: true, adjY: true, lhsType: "int8", rhsType: "int8" },
  { ...BATCH_MATMUL_BASE, name: "batch matmul int32: variable B, rank 5", seed: 45, lhsShape: [2, 1, 2, 3, 6], rhsShape: [3, 1, 6, 2], adjX: false, adjY: false, constantRhs: false, perChannel: false },
  { ...BATCH_MATMUL_BASE, name: "batch matmul uint8: variable B, adj_y", seed: 46, lhsShape: [3, 4, 8], rhsShape: [3, 5, 8], adjX: false, adjY: true, constantRhs: false, perChannel: false, output: { kind: "quantized", type: "uint8", scale: 0.02, zeroPoint: 128, activation: "NONE" } },
  { ...BATCH_MATMUL_BASE, name: "batch matmul int8 out: constant per-channel B", seed: 47, lhsShape: [2, 4, 7], rhsShape: [7, 6], adjX: false, adjY: false, rhsType: "int8", output: INT8_NONE },
];

for (const c of BATCH_MATMUL_CASES) {
  test(c.name, () => checkEveryScheme(buildBatchMatMul(c), c.output));
}

// ---------------------------------------------------------------------------
// Accumulator range and rejected layers

/** Builds a fully connected layer of one unit over `depth` equal inputs and weights, with a raw int32 output. */
function extremeFullyConnected(depth: number, x: number, zx: number, w: number, zw: number): ModelSpec {
  return {
    tensors: [
      { name: "input", type: "uint8", shape: [1, depth], scale: [1], zeroPoint: [zx] },
      { name: "weights", type: "uint8", shape: [1, depth], data: new Uint8Array(depth).fill(w), scale: [1], zeroPoint: [zw] },
      { name: "output", type: "int32", shape: [1, 1] },
    ],
    operators: [{ op: "FULLY_CONNECTED", inputs: [0, 1, -1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
}

test("accumulator extremes at the maximum depth", () => {
  const depth = MAX_ACCUMULATOR_DEPTH;
  // (255 - 0) * (255 - 0), (0 - 255) * (0 - 255) and (0 - 255) * (255 - 0), depth times.
  const cases: Array<[number, number, number, number, number]> = [
    [255, 0, 255, 0, 65025 * depth],
    [0, 255, 0, 255, 65025 * depth],
    [0, 255, 255, 0, -65025 * depth],
  ];
  for (const [x, zx, w, zw, expected] of cases) {
    const actual = runModel(extremeFullyConnected(depth, x, zx, w, zw), [new Uint8Array(depth).fill(x)], "tflm");
    assert.equal(actual, [expected], `x ${x}, zx ${zx}, w ${w}, zw ${zw}`);
  }
  assert.ok(65025 * depth <= 0x7fffffff, "the bound fits int32");
});

/** Asserts that building an interpreter for the spec throws UnsupportedError with a message containing `fragment`. */
function assertUnsupported(spec: ModelSpec, fragment: string): void {
  try {
    new Interpreter(writeModel(spec), { resolveKernel: (code) => AFFINE_KERNELS.get(code) });
  } catch (error) {
    assert.instance(error, UnsupportedError);
    assert.match((error as Error).message, fragment);
    return;
  }
  assert.unreachable(`expected UnsupportedError mentioning "${fragment}"`);
}

test("accumulator deeper than int32 allows is rejected", () => {
  const depth = MAX_ACCUMULATOR_DEPTH + 1;
  assertUnsupported(extremeFullyConnected(depth, 0, 0, 0, 0), `sums ${depth} products per output`);
});

test("raw int32 output with bias is rejected", () => {
  const spec = extremeFullyConnected(4, 0, 0, 0, 0);
  const withBias: ModelSpec = {
    ...spec,
    tensors: [...spec.tensors, { name: "bias", type: "int32", shape: [1], data: new Uint8Array(4) }],
    operators: [{ op: "FULLY_CONNECTED", inputs: [0, 1, 3], outputs: [2] }],
  };
  assertUnsupported(withBias, "has a bias");
});

test("raw int32 output with RELU is rejected", () => {
  const spec = extremeFullyConnected(4, 0, 0, 0, 0);
  const withRelu: ModelSpec = {
    ...spec,
    operators: [
      { op: "FULLY_CONNECTED", inputs: [0, 1, -1], outputs: [2], options: { type: "FullyConnectedOptions", fields: { fused_activation_function: "RELU" } } },
    ],
  };
  assertUnsupported(withRelu, "fused activation RELU");
});

test("weights computed at run time are rejected", () => {
  const spec: ModelSpec = {
    tensors: [
      { name: "input", type: "uint8", shape: [1, 4], scale: [1], zeroPoint: [0] },
      { name: "weights", type: "uint8", shape: [2, 4], scale: [1], zeroPoint: [0] },
      { name: "output", type: "int32", shape: [1, 2] },
    ],
    operators: [{ op: "FULLY_CONNECTED", inputs: [0, 1, -1], outputs: [2] }],
    inputs: [0, 1],
    outputs: [2],
  };
  assertUnsupported(spec, "computed at run time");
});

// ---------------------------------------------------------------------------
// Allocation

function bySeed<T extends { seed: number }>(cases: readonly T[], seed: number): T {
  const found = cases.find((c) => c.seed === seed);
  if (found === undefined) throw new Error(`no case with seed ${seed}`);
  return found;
}

test("XS invoke allocates nothing", async () => {
  // Uint8 models, so that the bundle's registry gives them to the affine kernels.
  const layers: Array<[string, BuiltLayer, SchemeName]> = [
    ["conv with weight zero points", buildConv(bySeed(CONV_CASES, 14)), "pytorch-onednn"],
    ["conv 1x1 in place", buildConv(bySeed(CONV_CASES, 16)), "pytorch-qnnpack"],
    ["depthwise", buildConv(bySeed(CONV_CASES, 23)), "pytorch-qnnpack"],
    ["depthwise int32", buildConv(bySeed(CONV_CASES, 21)), "onnx"],
    ["fully connected", buildFullyConnected(bySeed(FULLY_CONNECTED_CASES, 31)), "onnx"],
    ["batch matmul, variable B", buildBatchMatMul(bySeed(BATCH_MATMUL_CASES, 46)), "onnx"],
  ];
  for (const [name, built, scheme] of layers) {
    const spec: ModelSpec = { ...built.spec, metadata: { microq_requantization: new TextEncoder().encode(scheme) } };
    const count = await measureXsAllocations(writeModel(spec), 20, { inputs: built.inputs });
    assert.is(count.slots, 0, `${name}: slots`);
    assert.is(count.chunkBytes, 0, `${name}: chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${name}: chunk bytes in use`);
  }
});

test.run();
