// Checks every path of the optimized CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED kernels bit for bit against the naive baseline
// (bench/naive), a line-by-line port of TFLM's reference loops that passes
// TFLM's golden tests, on seeded random single-operator models.
//
// Each case names the path its shape selects. The optimized interpreter runs
// on an arena filled with random bytes and invokes twice, so that a kernel
// reading memory it did not write, or keeping state between invokes, fails.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createGemmPlan, gemm } from "../../kernels/gemm.js";
import { EXACT_FORM, NARROW_FORM, WIDE_FORM, accumulatorBound, prepareRequantization } from "../../kernels/requantize.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { ModelSpec, OperatorSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { resolveNaiveKernel } from "../../bench/naive/resolver.js";
import { Xorshift32 } from "./test_data.js";

type Activation = "NONE" | "RELU" | "RELU6";
type Padding = "SAME" | "VALID";

/** Seeds each case runs with. */
const SEEDS = [1, 2, 3];

/** How the random data of a case is drawn. */
interface DataRanges {
  /** Weights are uniform in [-weightMax, weightMax]. Default 127. */
  weightMax?: number;
  /** Inputs are uniform in zeroPoint + [-inputSpread, inputSpread], clipped to int8. Default 255 (the whole range). */
  inputSpread?: number;
  /** Biases are uniform in [-biasMax, biasMax]. Default 5000. */
  biasMax?: number;
  /**
   * Output scale over input scale times weight scale. Default: chosen so
   * that one standard deviation of the accumulator spans about 40 output
   * steps. Above 0.5 the channel's shift is positive, which makes the
   * kernels requantize with multiplyByQuantizedMultiplier.
   */
  effectiveScale?: number;
  /** Input zero point; random when omitted. */
  inputZeroPoint?: number;
  /** Whether the outputs may all be equal, for cases that test saturation. */
  mayBeConstant?: boolean;
}

interface Generated {
  model: Uint8Array;
  input: Int8Array;
}

function bytesOf(array: Int8Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/**
 * Draws the input, weights and bias of a conv-like operator and returns
 * the tensors of a model whose tensor 0 is the input and tensor 3 the output.
 * patchLength is the number of weights per output value.
 */
function conventionalTensors(
  random: Xorshift32,
  ranges: DataRanges,
  inputShape: number[],
  weightShape: number[],
  outputShape: number[],
  channels: number,
  quantizedDimension: number,
  patchLength: number,
  perChannel: boolean,
): { tensors: TensorSpec[]; input: Int8Array } {
  const weightMax = ranges.weightMax ?? 127;
  const inputSpread = ranges.inputSpread ?? 255;
  const biasMax = ranges.biasMax ?? 5000;
  const inputZeroPoint = ranges.inputZeroPoint ?? random.integer(-128, 127);
  const inputScale = Math.fround(random.uniform(0.01, 0.1));

  const input = Int8Array.from({ length: elementCount(inputShape) }, () => {
    const value = inputZeroPoint + random.integer(-inputSpread, inputSpread);
    return Math.min(127, Math.max(-128, value));
  });
  const weights = Int8Array.from({ length: elementCount(weightShape) }, () => random.integer(-weightMax, weightMax));
  const bias = Int32Array.from({ length: channels }, () => random.integer(-biasMax, biasMax));
  const weightScales = Array.from({ length: perChannel ? channels : 1 }, () => Math.fround(random.uniform(0.002, 0.02)));

  let meanSquareInput = 0;
  for (const x of input) meanSquareInput += (x - inputZeroPoint) ** 2;
  meanSquareInput /= Math.max(1, input.length);
  let meanSquareWeight = 0;
  for (const w of weights) meanSquareWeight += w * w;
  meanSquareWeight /= Math.max(1, weights.length);
  const accumulatorSpread = Math.sqrt(patchLength * meanSquareInput * meanSquareWeight) + 1;
  const meanWeightScale = weightScales.reduce((sum, s) => sum + s, 0) / weightScales.length;
  const effectiveScale = ranges.effectiveScale ?? 40 / accumulatorSpread;
  const outputScale = Math.fround((inputScale * meanWeightScale) / effectiveScale);

  const tensors: TensorSpec[] = [
    { name: "input", type: "int8", shape: inputShape, scale: [inputScale], zeroPoint: [inputZeroPoint] },
    {
      name: "weights",
      type: "int8",
      shape: weightShape,
      data: bytesOf(weights),
      scale: weightScales,
      zeroPoint: weightScales.map(() => 0),
      quantizedDimension,
    },
    {
      name: "bias",
      type: "int32",
      shape: [channels],
      data: bytesOf(bias),
      scale: weightScales.map((s) => Math.fround(inputScale * s)),
      zeroPoint: weightScales.map(() => 0),
    },
    { name: "output", type: "int8", shape: outputShape, scale: [outputScale], zeroPoint: [random.integer(-20, 20)] },
  ];
  return { tensors, input };
}

function singleOperatorModel(tensors: TensorSpec[], operator: OperatorSpec): Uint8Array {
  const spec: ModelSpec = { tensors, operators: [operator], inputs: [0], outputs: [3] };
  return writeModel(spec);
}

/** Output size of one spatial axis, from the TFLite definitions of SAME and VALID. */
function outputSize(padding: Padding, inputSize: number, filterSize: number, stride: number, dilation: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  return padding === "SAME" ? Math.ceil(inputSize / stride) : Math.ceil((inputSize - effectiveFilter + 1) / stride);
}

// Cases.

interface ConvCase extends DataRanges {
  name: string;
  /** [batches, height, width, depth] */
  input: [number, number, number, number];
  filter: [number, number];
  outputChannels: number;
  groups?: number;
  stride?: [number, number];
  dilation?: [number, number];
  padding: Padding;
  activation?: Activation;
  perChannel?: boolean;
}

interface DepthwiseCase extends DataRanges {
  name: string;
  input: [number, number, number, number];
  filter: [number, number];
  depthMultiplier: number;
  stride?: [number, number];
  dilation?: [number, number];
  padding: Padding;
  activation?: Activation;
  perChannel?: boolean;
}

interface FullyConnectedCase extends DataRanges {
  name: string;
  batches: number;
  depth: number;
  units: number;
  activation?: Activation;
  perChannel?: boolean;
}

const CONV_CASES: ConvCase[] = [
  // Pointwise path: the input tensor is the product's left operand.
  { name: "pointwise, 8-, 4- and 1-row tiles", input: [1, 1, 23, 16], filter: [1, 1], outputChannels: 24, padding: "VALID" },
  { name: "pointwise, batch 2, RELU6", input: [2, 3, 5, 8], filter: [1, 1], outputChannels: 16, padding: "SAME", activation: "RELU6" },
  { name: "pointwise, 3 output channels", input: [1, 4, 5, 12], filter: [1, 1], outputChannels: 3, padding: "VALID" },
  { name: "pointwise, 11 output channels, per-tensor", input: [1, 6, 6, 32], filter: [1, 1], outputChannels: 11, padding: "VALID", perChannel: false },
  { name: "pointwise, input zero point -128, RELU", input: [1, 9, 4, 4], filter: [1, 1], outputChannels: 9, padding: "VALID", activation: "RELU", inputZeroPoint: -128 },
  // Patches path.
  { name: "patches, 1x1 depth 6", input: [1, 5, 5, 6], filter: [1, 1], outputChannels: 8, padding: "VALID" },
  { name: "patches, 1x1 stride 2", input: [1, 7, 6, 8], filter: [1, 1], outputChannels: 10, stride: [2, 2], padding: "SAME" },
  { name: "patches, 3x3 SAME", input: [1, 7, 7, 3], filter: [3, 3], outputChannels: 8, padding: "SAME" },
  { name: "patches, 3x3 stride 2 VALID RELU", input: [1, 9, 8, 4], filter: [3, 3], outputChannels: 6, stride: [2, 2], padding: "VALID", activation: "RELU" },
  { name: "patches, 3x3 stride 2 SAME batch 2", input: [2, 8, 9, 3], filter: [3, 3], outputChannels: 5, stride: [2, 2], padding: "SAME" },
  { name: "patches, 3x3 dilation 2", input: [1, 9, 9, 2], filter: [3, 3], outputChannels: 4, dilation: [2, 2], padding: "SAME" },
  { name: "patches, 5x3 stride (2,1) per-tensor", input: [1, 8, 6, 4], filter: [5, 3], outputChannels: 12, stride: [2, 1], padding: "SAME", perChannel: false },
  { name: "patches, 2 groups", input: [1, 6, 6, 4], filter: [3, 3], outputChannels: 6, groups: 2, padding: "SAME" },
  { name: "patches, 3 groups of 9 channels", input: [1, 7, 7, 6], filter: [3, 3], outputChannels: 27, groups: 3, stride: [2, 2], padding: "VALID" },
  { name: "patches, several passes", input: [1, 12, 11, 32], filter: [3, 3], outputChannels: 17, padding: "SAME" },
  { name: "patches, input zero point 127", input: [1, 6, 5, 5], filter: [2, 2], outputChannels: 8, padding: "SAME", inputZeroPoint: 127 },
  // Requantization by multiplyByQuantizedMultiplier.
  { name: "pointwise, shift above 0", input: [1, 5, 5, 8], filter: [1, 1], outputChannels: 9, padding: "VALID", weightMax: 3, inputSpread: 4, biasMax: 20, effectiveScale: 1.5 },
  { name: "patches, shift above 0", input: [1, 5, 5, 2], filter: [3, 3], outputChannels: 8, padding: "SAME", weightMax: 2, inputSpread: 3, biasMax: 20, effectiveScale: 0.75 },
  { name: "pointwise, bias near 2^30", input: [1, 4, 4, 8], filter: [1, 1], outputChannels: 8, padding: "VALID", biasMax: 1 << 30, mayBeConstant: true },
];

const DEPTHWISE_CASES: DepthwiseCase[] = [
  // 3x3 path.
  { name: "3x3 stride 1 SAME", input: [1, 7, 6, 5], filter: [3, 3], depthMultiplier: 1, padding: "SAME" },
  { name: "3x3 stride 2 SAME, even size", input: [1, 8, 8, 4], filter: [3, 3], depthMultiplier: 1, stride: [2, 2], padding: "SAME" },
  { name: "3x3 stride 2 SAME, odd size, RELU6", input: [1, 7, 9, 3], filter: [3, 3], depthMultiplier: 1, stride: [2, 2], padding: "SAME", activation: "RELU6" },
  { name: "3x3 stride 1 VALID per-tensor", input: [1, 6, 7, 4], filter: [3, 3], depthMultiplier: 1, padding: "VALID", perChannel: false },
  { name: "3x3 stride 2 VALID, last column read", input: [1, 8, 9, 2], filter: [3, 3], depthMultiplier: 1, stride: [2, 2], padding: "VALID" },
  { name: "3x3 strides (3,1) and multiplier 2", input: [1, 8, 5, 3], filter: [3, 3], depthMultiplier: 2, stride: [3, 1], padding: "SAME" },
  { name: "3x3 depth 1 multiplier 8, batch 2", input: [2, 6, 6, 1], filter: [3, 3], depthMultiplier: 8, stride: [2, 2], padding: "SAME" },
  { name: "3x3 on a 1x1 input", input: [1, 1, 1, 3], filter: [3, 3], depthMultiplier: 1, padding: "SAME" },
  { name: "3x3 on a 2x1 input, stride 2", input: [1, 2, 1, 2], filter: [3, 3], depthMultiplier: 1, stride: [2, 2], padding: "SAME" },
  { name: "3x3, input zero point -128", input: [1, 5, 5, 4], filter: [3, 3], depthMultiplier: 1, padding: "SAME", inputZeroPoint: -128 },
  { name: "3x3, shift above 0", input: [1, 5, 4, 3], filter: [3, 3], depthMultiplier: 1, padding: "SAME", weightMax: 3, inputSpread: 4, biasMax: 20, effectiveScale: 0.9 },
  // Patches path: one input channel.
  { name: "patches, depth 1, 10x8 stride 2", input: [1, 20, 16, 1], filter: [10, 8], depthMultiplier: 8, stride: [2, 2], padding: "SAME" },
  { name: "patches, depth 1, multiplier 3, 5x5", input: [1, 9, 7, 1], filter: [5, 5], depthMultiplier: 3, padding: "VALID" },
  { name: "patches, depth 1, 3x3 stride 3", input: [2, 7, 7, 1], filter: [3, 3], depthMultiplier: 10, stride: [3, 3], padding: "SAME" },
  // General path.
  { name: "general, 5x5", input: [1, 8, 7, 4], filter: [5, 5], depthMultiplier: 1, padding: "SAME" },
  { name: "general, 3x3 dilation 2", input: [1, 9, 9, 3], filter: [3, 3], depthMultiplier: 1, dilation: [2, 2], padding: "SAME" },
  { name: "general, 2x2 multiplier 2, batch 2", input: [2, 5, 6, 3], filter: [2, 2], depthMultiplier: 2, padding: "VALID" },
  { name: "general, 3x3 stride 3", input: [1, 9, 10, 2], filter: [3, 3], depthMultiplier: 1, stride: [1, 3], padding: "SAME" },
  { name: "general, shift above 0", input: [1, 5, 5, 2], filter: [2, 3], depthMultiplier: 1, padding: "SAME", weightMax: 3, inputSpread: 4, biasMax: 20, effectiveScale: 0.9 },
];

const FULLY_CONNECTED_CASES: FullyConnectedCase[] = [
  { name: "one row, 20 units", batches: 1, depth: 64, units: 20 },
  { name: "13 rows: 8-, 4- and 1-row tiles", batches: 13, depth: 12, units: 16, activation: "RELU" },
  { name: "depth 7, copied rows", batches: 3, depth: 7, units: 9 },
  { name: "depth 1", batches: 1, depth: 1, units: 16 },
  { name: "3 units, per-tensor", batches: 2, depth: 40, units: 3, perChannel: false },
  { name: "shift above 0", batches: 5, depth: 8, units: 10, weightMax: 3, inputSpread: 4, biasMax: 20, effectiveScale: 1.5 },
];

// Model builders.

function convModel(c: ConvCase, random: Xorshift32): Generated {
  const [batches, height, width, depth] = c.input;
  const [filterHeight, filterWidth] = c.filter;
  const groups = c.groups ?? 1;
  const [strideHeight, strideWidth] = c.stride ?? [1, 1];
  const [dilationHeight, dilationWidth] = c.dilation ?? [1, 1];
  const filterDepth = depth / groups;
  const outputHeight = outputSize(c.padding, height, filterHeight, strideHeight, dilationHeight);
  const outputWidth = outputSize(c.padding, width, filterWidth, strideWidth, dilationWidth);
  const { tensors, input } = conventionalTensors(
    random,
    c,
    [...c.input],
    [c.outputChannels, filterHeight, filterWidth, filterDepth],
    [batches, outputHeight, outputWidth, c.outputChannels],
    c.outputChannels,
    0,
    filterHeight * filterWidth * filterDepth,
    c.perChannel ?? true,
  );
  const model = singleOperatorModel(tensors, {
    op: "CONV_2D",
    inputs: [0, 1, 2],
    outputs: [3],
    options: {
      type: "Conv2DOptions",
      fields: {
        padding: c.padding,
        stride_h: strideHeight,
        stride_w: strideWidth,
        dilation_h_factor: dilationHeight,
        dilation_w_factor: dilationWidth,
        fused_activation_function: c.activation ?? "NONE",
      },
    },
  });
  return { model, input };
}

function depthwiseModel(c: DepthwiseCase, random: Xorshift32): Generated {
  const [batches, height, width, depth] = c.input;
  const [filterHeight, filterWidth] = c.filter;
  const [strideHeight, strideWidth] = c.stride ?? [1, 1];
  const [dilationHeight, dilationWidth] = c.dilation ?? [1, 1];
  const channels = depth * c.depthMultiplier;
  const outputHeight = outputSize(c.padding, height, filterHeight, strideHeight, dilationHeight);
  const outputWidth = outputSize(c.padding, width, filterWidth, strideWidth, dilationWidth);
  const { tensors, input } = conventionalTensors(
    random,
    c,
    [...c.input],
    [1, filterHeight, filterWidth, channels],
    [batches, outputHeight, outputWidth, channels],
    channels,
    3,
    filterHeight * filterWidth,
    c.perChannel ?? true,
  );
  const model = singleOperatorModel(tensors, {
    op: "DEPTHWISE_CONV_2D",
    inputs: [0, 1, 2],
    outputs: [3],
    options: {
      type: "DepthwiseConv2DOptions",
      fields: {
        padding: c.padding,
        stride_h: strideHeight,
        stride_w: strideWidth,
        depth_multiplier: c.depthMultiplier,
        dilation_h_factor: dilationHeight,
        dilation_w_factor: dilationWidth,
        fused_activation_function: c.activation ?? "NONE",
      },
    },
  });
  return { model, input };
}

function fullyConnectedModel(c: FullyConnectedCase, random: Xorshift32): Generated {
  const { tensors, input } = conventionalTensors(
    random,
    c,
    [c.batches, c.depth],
    [c.units, c.depth],
    [c.batches, c.units],
    c.units,
    0,
    c.depth,
    c.perChannel ?? true,
  );
  const model = singleOperatorModel(tensors, {
    op: "FULLY_CONNECTED",
    inputs: [0, 1, 2],
    outputs: [3],
    options: { type: "FullyConnectedOptions", fields: { fused_activation_function: c.activation ?? "NONE" } },
  });
  return { model, input };
}

// Running and comparing.

function invokeOnce(interpreter: Interpreter, input: Int8Array): Int8Array {
  interpreter.inputs[0].data.set(input);
  interpreter.invoke();
  return Int8Array.from(interpreter.outputs[0].data as Int8Array);
}

/** Runs the model with the reference kernels and with microq's kernels, and asserts equal outputs. */
function assertMatchesReference(label: string, generated: Generated, random: Xorshift32, mayBeConstant: boolean): void {
  const reference = new Interpreter(generated.model, { resolveKernel: resolveNaiveKernel });
  const expected = invokeOnce(reference, generated.input);

  // The optimized kernels may request scratch memory that the reference does not.
  const arena = new ArrayBuffer(new Interpreter(generated.model).arenaBytes);
  const arenaBytes = new Uint8Array(arena);
  for (let i = 0; i < arenaBytes.length; i++) arenaBytes[i] = random.integer(0, 255);
  const optimized = new Interpreter(generated.model, { arena });
  const first = invokeOnce(optimized, generated.input);
  const second = invokeOnce(optimized, generated.input);

  if (!mayBeConstant) {
    const distinct = new Set(expected).size;
    assert.ok(distinct >= Math.min(8, Math.ceil(expected.length / 2)), `${label}: the reference output has only ${distinct} distinct values, too few to test the kernel`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (first[i] !== expected[i]) assert.unreachable(`${label}: output ${i} is ${first[i]}, the reference gives ${expected[i]}`);
  }
  assert.equal(second, first, `${label}: the second invoke differs from the first`);
}

for (const c of CONV_CASES) {
  test(`CONV_2D ${c.name}`, () => {
    for (const seed of SEEDS) {
      const random = new Xorshift32(seed * 7919 + 1);
      assertMatchesReference(`${c.name}, seed ${seed}`, convModel(c, random), random, c.mayBeConstant ?? false);
    }
  });
}

for (const c of DEPTHWISE_CASES) {
  test(`DEPTHWISE_CONV_2D ${c.name}`, () => {
    for (const seed of SEEDS) {
      const random = new Xorshift32(seed * 7919 + 2);
      assertMatchesReference(`${c.name}, seed ${seed}`, depthwiseModel(c, random), random, c.mayBeConstant ?? false);
    }
  });
}

for (const c of FULLY_CONNECTED_CASES) {
  test(`FULLY_CONNECTED ${c.name}`, () => {
    for (const seed of SEEDS) {
      const random = new Xorshift32(seed * 7919 + 3);
      assertMatchesReference(`${c.name}, seed ${seed}`, fullyConnectedModel(c, random), random, c.mayBeConstant ?? false);
    }
  });
}

// The requantization forms and their accumulator bound.

test("accumulatorBound is reached and never exceeded", () => {
  const random = new Xorshift32(21);
  for (let trial = 0; trial < 200; trial++) {
    const weights = Array.from({ length: random.integer(1, 6) }, () => random.integer(-128, 127));
    const bias = random.integer(-100000, 100000);
    const zeroPoint = random.integer(-128, 127);
    const positiveSum = weights.filter((w) => w > 0).reduce((sum, w) => sum + w, 0);
    const negativeSum = weights.filter((w) => w < 0).reduce((sum, w) => sum + w, 0);
    const bound = accumulatorBound(bias, positiveSum, negativeSum, zeroPoint);
    // Each tap's extreme is at an end of the input range or, for a skipped padding tap, 0.
    let largest = 0;
    for (let choice = 0; choice < 3 ** weights.length; choice++) {
      let acc = bias;
      let rest = choice;
      for (const w of weights) {
        const offsets = [-128 - zeroPoint, 127 - zeroPoint, 0];
        acc += w * offsets[rest % 3];
        rest = Math.floor(rest / 3);
      }
      assert.ok(Math.abs(acc) <= bound, `trial ${trial}: |${acc}| exceeds the bound ${bound}`);
      largest = Math.max(largest, Math.abs(acc));
    }
    assert.is(largest, bound, `trial ${trial}: the bound is not reached`);
  }
});

test("prepareRequantization picks forms by bound and shift", () => {
  // [bias, positive weight sum, negative weight sum, input zero point, shift, expected form]
  const cases: Array<[number, number, number, number, number, number]> = [
    [0, 2056, 0, -128, -8, NARROW_FORM], // 2056 * 255 = 524280 <= 2^19
    [8, 2056, 0, -128, -8, NARROW_FORM], // exactly 2^19
    [9, 2056, 0, -128, -8, WIDE_FORM], // 2^19 + 1
    [0, 0, -2056, 127, -8, NARROW_FORM], // -2056 * -255 = 524280
    [0, 1000, -1000, 0, -8, NARROW_FORM], // 1000 * 128 + 1000 * 127 = 255000
    [-(1 << 29), 0, 0, 0, -8, WIDE_FORM], // exactly 2^29
    [-(1 << 29) - 1, 0, 0, 0, -8, EXACT_FORM],
    [0, 100, -100, -128, 0, EXACT_FORM], // no right shift
    [0, 100, -100, -128, 3, EXACT_FORM], // a left shift
  ];
  for (const [bias, positiveSum, negativeSum, zeroPoint, shift, expected] of cases) {
    const requantization = prepareRequantization(
      Int32Array.of(bias),
      { positiveSums: Int32Array.of(positiveSum), negativeSums: Int32Array.of(negativeSum) },
      zeroPoint,
      Int32Array.of(0x50000000),
      Int32Array.of(shift),
    );
    const label = `bias ${bias}, weight sums ${positiveSum} and ${negativeSum}, zero point ${zeroPoint}, shift ${shift}`;
    assert.is(requantization.forms[0], expected, label);
    assert.is(requantization.foldedBias[0], bias - zeroPoint * (positiveSum + negativeSum), `${label}: folded bias`);
  }
});

/**
 * Requantizes each accumulator with the gemm tile of one form: zero
 * weights make the accumulator equal to the folded bias of its channel.
 */
function requantizeThroughGemm(accumulators: Int32Array, multiplier: number, shift: number, form: number): Int8Array {
  const channels = accumulators.length;
  const requantization = {
    foldedBias: accumulators,
    multipliers: new Int32Array(channels).fill(multiplier),
    shifts: new Int32Array(channels).fill(shift),
    forms: new Uint8Array(channels).fill(form),
    byteLength: 0,
  };
  const plan = createGemmPlan(new Int32Array(channels), 1, requantization, 3, -128, 127);
  const out = new Int8Array(channels);
  gemm(plan, new Int32Array(1), 0, 1, 1, out, 0, channels, 0, channels);
  return out;
}

test("requantization forms match multiplyByQuantizedMultiplier", () => {
  const random = new Xorshift32(22);
  const forms: Array<[string, number, number]> = [
    ["NARROW_FORM", NARROW_FORM, 1 << 19],
    ["WIDE_FORM", WIDE_FORM, 1 << 29],
    ["EXACT_FORM", EXACT_FORM, 1 << 29],
  ];
  for (const [name, form, limit] of forms) {
    for (let trial = 0; trial < 300; trial++) {
      let multiplier = random.integer(0x40000000, 0x7fffffff);
      // With 2^30, acc * multiplier + 2^30 is a multiple of 2^31 for every odd
      // acc, which is a tie of saturatingRoundingDoublingHighMul itself.
      if (trial % 3 === 0) multiplier = 0x40000000;
      if (trial === 1) multiplier = 0x7fffffff;
      const shift = -random.integer(1, 31);
      const accumulators = Int32Array.from({ length: 24 }, (_, i) => {
        if (i < 4) return [limit, -limit, limit - 1, -limit + 1][i];
        if (i < 8) return random.integer(-300, 300) * 2 + 1;
        // Values whose scaled result lies near a rounding tie k + 0.5.
        const scale = multiplier / 2 ** (31 - shift);
        const target = (random.integer(-120, 120) + 0.5) / scale;
        const acc = Math.round(target) + random.integer(-1, 1);
        return Math.max(-limit, Math.min(limit, acc));
      });
      const actual = requantizeThroughGemm(accumulators, multiplier, shift, form);
      accumulators.forEach((acc, i) => {
        const expected = Math.max(-128, Math.min(127, multiplyByQuantizedMultiplier(acc, multiplier, shift) + 3));
        if (actual[i] !== expected) {
          assert.unreachable(`${name}: acc ${acc}, multiplier ${multiplier}, shift ${shift} gives ${actual[i]}, expected ${expected}`);
        }
      });
    }
  }
});

// The TFLM models cover the pointwise, 3x3 and depth-1 patches paths in
// invoke_allocation.test.ts. These cases cover the other paths on XS.
const ALLOCATION_CASES: Array<[string, () => Generated]> = [
  ["CONV_2D patches with groups", () => convModel(CONV_CASES.find((c) => c.name === "patches, 3 groups of 9 channels")!, new Xorshift32(11))],
  ["CONV_2D shift above 0", () => convModel(CONV_CASES.find((c) => c.name === "pointwise, shift above 0")!, new Xorshift32(12))],
  ["DEPTHWISE_CONV_2D general", () => depthwiseModel(DEPTHWISE_CASES.find((c) => c.name === "general, 5x5")!, new Xorshift32(13))],
  ["FULLY_CONNECTED copied rows", () => fullyConnectedModel(FULLY_CONNECTED_CASES.find((c) => c.name === "depth 7, copied rows")!, new Xorshift32(14))],
];

for (const [name, generate] of ALLOCATION_CASES) {
  test(`${name}: XS invoke allocates nothing`, async () => {
    const generated = generate();
    const count = await measureXsAllocations(generated.model, 20, { inputs: [bytesOf(generated.input)] });
    assert.is(count.slots, 0, "slots");
    assert.is(count.chunkBytes, 0, "chunk bytes taken");
    assert.is(count.chunkBytesInUse, 0, "chunk bytes in use");
  });
}

test.run();
