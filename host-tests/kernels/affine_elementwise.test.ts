// The affine ADD, CONCATENATION, PAD, PADV2, TRANSPOSE and pooling kernels
// against plain loops written here: each output element is located by its full
// multi-index, independently of the kernels' stride arithmetic. Where a
// value is requantized, the reference calls the same scheme function
// (scheme.add, scheme.rescale or scheme.averagePool). So these tests check the indexing, the
// tables and the clamping, and the schemes' rounding has its own tests.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kernel } from "../../kernels/kernel.js";
import { affineAddKernel } from "../../kernels/affine/add.js";
import { affineConcatenationKernel } from "../../kernels/affine/concatenation.js";
import { affinePadKernel, affinePadV2Kernel } from "../../kernels/affine/pad.js";
import { affineTransposeKernel } from "../../kernels/affine/transpose.js";
import { affineQuantizeKernel } from "../../kernels/affine/quantize.js";
import { affineDequantizeKernel } from "../../kernels/affine/dequantize.js";
import { affineHardSwishKernel, affineLogisticKernel } from "../../kernels/affine/unary.js";
import { affineAveragePool2dKernel } from "../../kernels/affine/pooling.js";
import { maxPool2dKernel } from "../../kernels/pooling.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, OperatorSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { bytesOf, typeRange, typedArrayOf } from "./test_data.js";

/** The affine kernels by builtin code, so that no int8 kernel takes an operator here. */
const AFFINE_KERNELS = new Map<number, Kernel>([
  [0, affineAddKernel],
  [1, affineAveragePool2dKernel],
  [2, affineConcatenationKernel],
  [6, affineDequantizeKernel],
  [14, affineLogisticKernel],
  [17, maxPool2dKernel],
  [34, affinePadKernel],
  [39, affineTransposeKernel],
  [60, affinePadV2Kernel],
  [114, affineQuantizeKernel],
  [117, affineHardSwishKernel],
]);

// ---------------------------------------------------------------------------
// Helpers: a seeded generator, index arithmetic and one-operator models.

/** Park-Miller minimal standard generator, so that every run uses the same data. */
function randomGenerator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

function randomIntegers(count: number, min: number, max: number, random: () => number): number[] {
  return Array.from({ length: count }, () => min + Math.floor(random() * (max - min + 1)));
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Returns the multi-index of flat row-major position `flat`. */
function unflatten(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** Returns the flat row-major position of a multi-index. */
function flatten(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

interface OneOperatorModel {
  tensors: TensorSpec[];
  operator: OperatorSpec;
  /** Graph inputs, in the order of `inputValues`. */
  inputs: number[];
  output: number;
  scheme: SchemeName;
}

/** Builds a one-operator model and prepares it with the affine kernels. */
function prepareModel(model: OneOperatorModel): Interpreter {
  const spec: ModelSpec = {
    tensors: model.tensors,
    operators: [model.operator],
    inputs: model.inputs,
    outputs: [model.output],
    metadata: { microq_requantization: new TextEncoder().encode(model.scheme) },
  };
  return new Interpreter(writeModel(spec), { resolveKernel: (code) => AFFINE_KERNELS.get(code) });
}

/** Builds and runs a one-operator model with the affine kernels; returns the output elements. */
function runModel(model: OneOperatorModel, inputValues: readonly (readonly number[])[]): number[] {
  const interpreter = prepareModel(model);
  model.inputs.forEach((tensorIndex, i) => interpreter.setInput(i, typedArrayOf(model.tensors[tensorIndex].type, inputValues[i])));
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data);
}

/** Asserts that preparing a one-operator model throws an instance of `type` whose message contains `fragment`. */
function assertPrepareError(type: Function, fragment: string, model: OneOperatorModel, message?: string): void {
  let error: unknown = undefined;
  try {
    prepareModel(model);
  } catch (thrown) {
    error = thrown;
  }
  assert.instance(error, type, message);
  assert.match(String(error), fragment, message);
}

// ---------------------------------------------------------------------------
// ADD with broadcasting.

interface AddCase {
  name: string;
  scheme: SchemeName;
  type: "uint8" | "int8";
  aShape: number[];
  bShape: number[];
  outputShape: number[];
  activation: "NONE" | "RELU" | "RELU6";
}

const ADD_CASES: AddCase[] = [
  { name: "same shapes", scheme: "onnx", type: "uint8", aShape: [2, 3, 4], bShape: [2, 3, 4], outputShape: [2, 3, 4], activation: "NONE" },
  { name: "size-1 dims on both sides", scheme: "pytorch-onednn", type: "uint8", aShape: [2, 1, 3, 4], bShape: [1, 5, 1, 4], outputShape: [2, 5, 3, 4], activation: "NONE" },
  { name: "lower rank input", scheme: "pytorch-qnnpack", type: "uint8", aShape: [3, 4], bShape: [2, 3, 1], outputShape: [2, 3, 4], activation: "RELU" },
  { name: "per-channel vector", scheme: "tflm", type: "int8", aShape: [1, 2, 2, 3], bShape: [3], outputShape: [1, 2, 2, 3], activation: "RELU6" },
  { name: "scalar", scheme: "pytorch-onednn", type: "uint8", aShape: [], bShape: [2, 2, 5], outputShape: [2, 2, 5], activation: "RELU" },
  { name: "six dimensions", scheme: "onnx", type: "int8", aShape: [2, 1, 2, 1, 2, 3], bShape: [1, 3, 1, 2, 1, 3], outputShape: [2, 3, 2, 2, 2, 3], activation: "NONE" },
];

// Power-of-two output scale, so that the RELU6 bound 6 / 0.0625 = 96 is exact.
const A_QUANTIZATION = { scale: 0.0234375, zeroPoint: 0 };
const B_QUANTIZATION = { scale: 0.041015625, zeroPoint: 0 };
const OUTPUT_SCALE = 0.0625;

for (const addCase of ADD_CASES) {
  test(`ADD broadcast: ${addCase.name}`, () => {
    const random = randomGenerator(11 + addCase.aShape.length * 7 + addCase.bShape.length);
    const [min, max] = typeRange(addCase.type);
    const aZeroPoint = addCase.type === "uint8" ? 131 : -7;
    const bZeroPoint = addCase.type === "uint8" ? 118 : 12;
    const outputZeroPoint = addCase.type === "uint8" ? 120 : -3;
    const a = randomIntegers(elementCount(addCase.aShape), min, max, random);
    const b = randomIntegers(elementCount(addCase.bShape), min, max, random);

    const actual = runModel(
      {
        tensors: [
          { name: "a", type: addCase.type, shape: addCase.aShape, scale: [A_QUANTIZATION.scale], zeroPoint: [aZeroPoint] },
          { name: "b", type: addCase.type, shape: addCase.bShape, scale: [B_QUANTIZATION.scale], zeroPoint: [bZeroPoint] },
          { name: "out", type: addCase.type, shape: addCase.outputShape, scale: [OUTPUT_SCALE], zeroPoint: [outputZeroPoint] },
        ],
        operator: {
          op: "ADD",
          inputs: [0, 1],
          outputs: [2],
          options: { type: "AddOptions", fields: { fused_activation_function: addCase.activation } },
        },
        inputs: [0, 1],
        output: 2,
        scheme: addCase.scheme,
      },
      [a, b],
    );

    const adder = schemeByName(addCase.scheme).add({
      aScale: A_QUANTIZATION.scale,
      aZeroPoint,
      bScale: B_QUANTIZATION.scale,
      bZeroPoint,
      outputScale: OUTPUT_SCALE,
      outputZeroPoint,
    });
    let low = min;
    let high = max;
    if (addCase.activation !== "NONE") low = Math.max(min, outputZeroPoint);
    if (addCase.activation === "RELU6") high = Math.min(max, outputZeroPoint + 96);

    const rank = addCase.outputShape.length;
    const expected: number[] = [];
    for (let flat = 0; flat < elementCount(addCase.outputShape); flat++) {
      const index = unflatten(flat, addCase.outputShape);
      // Each input reads the trailing dimensions of the output index, at 0 where its size is 1.
      const inputIndex = (shape: readonly number[]) =>
        flatten(
          shape.map((dim, d) => (dim === 1 ? 0 : index[rank - shape.length + d])),
          shape,
        );
      const value = adder.add(a[inputIndex(addCase.aShape)], b[inputIndex(addCase.bShape)]);
      expected.push(Math.min(Math.max(value, low), high));
    }
    assert.equal(actual, expected);
  });
}

test("ADD rejects shapes that do not broadcast", () => {
  assertPrepareError(InvalidModelError, "do not broadcast", {
    tensors: [
      { name: "a", type: "uint8", shape: [2, 3], scale: [0.5], zeroPoint: [1] },
      { name: "b", type: "uint8", shape: [3, 3], scale: [0.5], zeroPoint: [1] },
      { name: "out", type: "uint8", shape: [2, 3], scale: [0.5], zeroPoint: [1] },
    ],
    operator: { op: "ADD", inputs: [0, 1], outputs: [2] },
    inputs: [0, 1],
    output: 2,
    scheme: "onnx",
  });
});

// ---------------------------------------------------------------------------
// CONCATENATION with mixed quantization.

interface ConcatenationCase {
  name: string;
  scheme: SchemeName;
  type: "uint8" | "int8";
  shapes: number[][];
  axis: number;
  /** Scale and zero point of each input. */
  quantization: { scale: number; zeroPoint: number }[];
  output: { scale: number; zeroPoint: number };
}

const CONCATENATION_CASES: ConcatenationCase[] = [
  {
    name: "last axis, one input copied",
    scheme: "pytorch-onednn",
    type: "uint8",
    shapes: [[2, 3, 2, 4], [2, 3, 2, 1], [2, 3, 2, 3]],
    axis: 3,
    quantization: [{ scale: 0.02, zeroPoint: 128 }, { scale: 0.05, zeroPoint: 115 }, { scale: 0.03, zeroPoint: 131 }],
    output: { scale: 0.05, zeroPoint: 115 },
  },
  {
    name: "negative axis",
    scheme: "pytorch-qnnpack",
    type: "uint8",
    shapes: [[2, 1, 3, 2], [2, 4, 3, 2]],
    axis: -3,
    quantization: [{ scale: 0.0078125, zeroPoint: 237 }, { scale: 0.0234375, zeroPoint: 194 }],
    output: { scale: 0.015625, zeroPoint: 119 },
  },
  {
    name: "first axis int8",
    scheme: "onnx",
    type: "int8",
    shapes: [[1, 5], [3, 5], [2, 5]],
    axis: 0,
    quantization: [{ scale: 0.1, zeroPoint: -3 }, { scale: 0.1, zeroPoint: -3 }, { scale: 0.37, zeroPoint: 20 }],
    output: { scale: 0.1, zeroPoint: -3 },
  },
];

for (const concatenationCase of CONCATENATION_CASES) {
  test(`CONCATENATION: ${concatenationCase.name}`, () => {
    const { shapes, type, output } = concatenationCase;
    const random = randomGenerator(29 + shapes.length);
    const [min, max] = typeRange(type);
    const rank = shapes[0].length;
    const axis = concatenationCase.axis < 0 ? concatenationCase.axis + rank : concatenationCase.axis;
    const outputShape = [...shapes[0]];
    outputShape[axis] = shapes.reduce((sum, shape) => sum + shape[axis], 0);
    const inputs = shapes.map((shape) => randomIntegers(elementCount(shape), min, max, random));

    const tensors: TensorSpec[] = shapes.map((shape, i) => ({
      name: `in${i}`,
      type,
      shape,
      scale: [concatenationCase.quantization[i].scale],
      zeroPoint: [concatenationCase.quantization[i].zeroPoint],
    }));
    tensors.push({ name: "out", type, shape: outputShape, scale: [output.scale], zeroPoint: [output.zeroPoint] });
    const actual = runModel(
      {
        tensors,
        operator: {
          op: "CONCATENATION",
          inputs: shapes.map((_, i) => i),
          outputs: [shapes.length],
          options: { type: "ConcatenationOptions", fields: { axis: concatenationCase.axis } },
        },
        inputs: shapes.map((_, i) => i),
        output: shapes.length,
        scheme: concatenationCase.scheme,
      },
      inputs,
    );

    const scheme = schemeByName(concatenationCase.scheme);
    const rescales = concatenationCase.quantization.map((q) =>
      scheme.rescale({ inputScale: q.scale, inputZeroPoint: q.zeroPoint, outputScale: output.scale, outputZeroPoint: output.zeroPoint }),
    );
    const expected: number[] = [];
    for (let flat = 0; flat < elementCount(outputShape); flat++) {
      const index = unflatten(flat, outputShape);
      // Find the input that contains this position along the axis.
      let part = 0;
      let position = index[axis];
      while (position >= shapes[part][axis]) position -= shapes[part++][axis];
      const inputIndex = [...index];
      inputIndex[axis] = position;
      const value = inputs[part][flatten(inputIndex, shapes[part])];
      const q = concatenationCase.quantization[part];
      const copied = q.scale === output.scale && q.zeroPoint === output.zeroPoint;
      expected.push(copied ? value : Math.min(Math.max(rescales[part](value), min), max));
    }
    assert.equal(actual, expected);
  });
}

test("CONCATENATION rejects a fused activation", () => {
  assertPrepareError(UnsupportedError, "fused activation RELU", {
    tensors: [
      { name: "a", type: "uint8", shape: [1, 2], scale: [0.5], zeroPoint: [1] },
      { name: "out", type: "uint8", shape: [1, 2], scale: [0.5], zeroPoint: [1] },
    ],
    operator: { op: "CONCATENATION", inputs: [0], outputs: [1], options: { type: "ConcatenationOptions", fields: { axis: 1, fused_activation_function: "RELU" } } },
    inputs: [0],
    output: 1,
    scheme: "onnx",
  });
});

// ---------------------------------------------------------------------------
// PAD and PADV2.

interface PadCase {
  name: string;
  op: "PAD" | "PADV2";
  type: TensorTypeName;
  shape: number[];
  /** [before, after] for each dimension. */
  paddings: [number, number][];
  zeroPoint?: number;
  /** PADV2's constant_values. */
  constant?: number;
  /** The value expected in padded positions. */
  fill: number;
}

const PAD_CASES: PadCase[] = [
  { name: "uint8 image with zero point", op: "PAD", type: "uint8", shape: [1, 2, 3, 2], paddings: [[0, 0], [1, 2], [2, 0], [0, 1]], zeroPoint: 7, fill: 7 },
  { name: "int8 three dimensions", op: "PAD", type: "int8", shape: [2, 3, 2], paddings: [[1, 0], [0, 1], [1, 1]], zeroPoint: -5, fill: -5 },
  { name: "int16 symmetric", op: "PAD", type: "int16", shape: [3, 4], paddings: [[2, 1], [0, 3]], zeroPoint: 0, fill: 0 },
  { name: "float32 zeros", op: "PAD", type: "float32", shape: [2, 2], paddings: [[1, 1], [1, 1]], fill: 0 },
  { name: "uint8 type minimum", op: "PADV2", type: "uint8", shape: [1, 3, 3, 2], paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], zeroPoint: 126, constant: 0, fill: 0 },
  { name: "int8 five dimensions", op: "PADV2", type: "int8", shape: [2, 1, 2, 2, 3], paddings: [[0, 1], [1, 0], [0, 0], [2, 1], [1, 0]], zeroPoint: 4, constant: -128, fill: -128 },
  { name: "float32 constant", op: "PADV2", type: "float32", shape: [5], paddings: [[3, 2]], constant: 2.5, fill: 2.5 },
];

for (const padCase of PAD_CASES) {
  test(`${padCase.op}: ${padCase.name}`, () => {
    const { type, shape, paddings } = padCase;
    const random = randomGenerator(3 + shape.length);
    const [min, max] = type === "float32" ? [-1000, 1000] : typeRange(type);
    const input = randomIntegers(elementCount(shape), min, max, random).map((v) => (type === "float32" ? v / 8 : v));
    const outputShape = shape.map((dim, d) => dim + paddings[d][0] + paddings[d][1]);
    const quantization: Partial<TensorSpec> = padCase.zeroPoint === undefined ? {} : { scale: [0.25], zeroPoint: [padCase.zeroPoint] };

    const tensors: TensorSpec[] = [
      { name: "x", type, shape, ...quantization },
      { name: "paddings", type: "int32", shape: [shape.length, 2], data: bytesOf("int32", paddings.flat()) },
      { name: "out", type, shape: outputShape, ...quantization },
    ];
    const inputs = [0, 1];
    if (padCase.op === "PADV2") {
      tensors.push({ name: "constant", type, shape: [], data: bytesOf(type, [padCase.constant!]), ...quantization });
      inputs.push(3);
    }
    const actual = runModel({ tensors, operator: { op: padCase.op, inputs, outputs: [2] }, inputs: [0], output: 2, scheme: "onnx" }, [input]);

    const expected: number[] = [];
    for (let flat = 0; flat < elementCount(outputShape); flat++) {
      const index = unflatten(flat, outputShape);
      const inputIndex = index.map((i, d) => i - paddings[d][0]);
      const inside = inputIndex.every((i, d) => i >= 0 && i < shape[d]);
      expected.push(inside ? input[flatten(inputIndex, shape)] : padCase.fill);
    }
    assert.equal(actual, expected);
  });
}

test("PAD rejects negative paddings", () => {
  assertPrepareError(UnsupportedError, "non-negative paddings", {
    tensors: [
      { name: "x", type: "uint8", shape: [4], scale: [0.5], zeroPoint: [3] },
      { name: "paddings", type: "int32", shape: [1, 2], data: bytesOf("int32", [-1, 1]) },
      { name: "out", type: "uint8", shape: [4], scale: [0.5], zeroPoint: [3] },
    ],
    operator: { op: "PAD", inputs: [0, 1], outputs: [2] },
    inputs: [0],
    output: 2,
    scheme: "onnx",
  });
});

test("PAD rejects a change of quantization", () => {
  assertPrepareError(UnsupportedError, "same quantization", {
    tensors: [
      { name: "x", type: "uint8", shape: [4], scale: [0.5], zeroPoint: [3] },
      { name: "paddings", type: "int32", shape: [1, 2], data: bytesOf("int32", [1, 1]) },
      { name: "out", type: "uint8", shape: [6], scale: [0.5], zeroPoint: [4] },
    ],
    operator: { op: "PAD", inputs: [0, 1], outputs: [2] },
    inputs: [0],
    output: 2,
    scheme: "onnx",
  });
});

// ---------------------------------------------------------------------------
// TRANSPOSE.

/** Returns all permutations of 0..n-1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const result: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let position = 0; position <= rest.length; position++) result.push([...rest.slice(0, position), n - 1, ...rest.slice(position)]);
  }
  return result;
}

/** Runs TRANSPOSE and the reference out[i0..] = in[index with dimension perm[k] at i_k]. */
function checkTranspose(type: TensorTypeName, shape: number[], perm: number[]): void {
  const random = randomGenerator(101 + perm.reduce((sum, p, i) => sum + p * (i + 1), 0));
  const [min, max] = type === "float32" ? [-4096, 4096] : typeRange(type);
  const input = randomIntegers(elementCount(shape), min, max, random).map((v) => (type === "float32" ? v / 16 : v));
  const outputShape = perm.map((p) => shape[p]);
  const quantization: Partial<TensorSpec> = type === "float32" || type === "int32" ? {} : { scale: [0.5], zeroPoint: [type === "uint8" ? 9 : 0] };
  const actual = runModel(
    {
      tensors: [
        { name: "x", type, shape, ...quantization },
        { name: "perm", type: "int32", shape: [perm.length], data: bytesOf("int32", perm) },
        { name: "out", type, shape: outputShape, ...quantization },
      ],
      operator: { op: "TRANSPOSE", inputs: [0, 1], outputs: [2] },
      inputs: [0],
      output: 2,
      scheme: "onnx",
    },
    [input],
  );
  const expected: number[] = [];
  for (let flat = 0; flat < elementCount(outputShape); flat++) {
    const index = unflatten(flat, outputShape);
    const inputIndex = new Array<number>(shape.length);
    perm.forEach((p, k) => (inputIndex[p] = index[k]));
    expected.push(input[flatten(inputIndex, shape)]);
  }
  assert.equal(actual, expected, `perm [${perm}] of shape [${shape}]`);
}

test("TRANSPOSE every permutation of four dimensions", () => {
  const all = permutations(4);
  assert.is(all.length, 24);
  for (const perm of all) checkTranspose("uint8", [2, 3, 4, 5], perm);
});

test("TRANSPOSE six dimensions int16", () => {
  checkTranspose("int16", [2, 3, 1, 2, 3, 2], [5, 0, 3, 1, 4, 2]);
  checkTranspose("int16", [2, 3, 1, 2, 3, 2], [0, 1, 2, 3, 4, 5]);
});

test("TRANSPOSE float32, int32 and int8", () => {
  checkTranspose("float32", [3, 7], [1, 0]);
  checkTranspose("int32", [2, 3, 4], [2, 0, 1]);
  checkTranspose("int8", [4, 1, 3], [1, 2, 0]);
  checkTranspose("int8", [6], [0]);
});

test("TRANSPOSE rejects a repeated axis", () => {
  assertPrepareError(InvalidModelError, "not a permutation", {
    tensors: [
      { name: "x", type: "uint8", shape: [2, 3], scale: [0.5], zeroPoint: [3] },
      { name: "perm", type: "int32", shape: [2], data: bytesOf("int32", [1, 1]) },
      { name: "out", type: "uint8", shape: [3, 3], scale: [0.5], zeroPoint: [3] },
    ],
    operator: { op: "TRANSPOSE", inputs: [0, 1], outputs: [2] },
    inputs: [0],
    output: 2,
    scheme: "onnx",
  });
});

// ---------------------------------------------------------------------------
// AVERAGE_POOL_2D and MAX_POOL_2D with TFLite's SAME padding: a window
// counts only its in-bounds taps.

interface PoolCase {
  name: string;
  op: "AVERAGE_POOL_2D" | "MAX_POOL_2D";
  scheme: SchemeName;
  type: "uint8" | "int8";
  shape: [number, number, number, number];
  filter: [number, number];
  stride: [number, number];
  padding: "SAME" | "VALID";
}

const POOL_CASES: PoolCase[] = [
  { name: "average 3x3 stride 2 SAME", op: "AVERAGE_POOL_2D", scheme: "onnx", type: "uint8", shape: [1, 5, 7, 3], filter: [3, 3], stride: [2, 2], padding: "SAME" },
  { name: "average 2x3 stride 1 SAME", op: "AVERAGE_POOL_2D", scheme: "pytorch-qnnpack", type: "uint8", shape: [2, 4, 4, 2], filter: [2, 3], stride: [1, 1], padding: "SAME" },
  { name: "average int8 5x5 stride 3 SAME", op: "AVERAGE_POOL_2D", scheme: "pytorch-onednn", type: "int8", shape: [1, 7, 8, 2], filter: [5, 5], stride: [3, 3], padding: "SAME" },
  { name: "average 3x2 VALID", op: "AVERAGE_POOL_2D", scheme: "single", type: "uint8", shape: [1, 6, 5, 4], filter: [3, 2], stride: [2, 1], padding: "VALID" },
  { name: "max 3x3 stride 2 SAME", op: "MAX_POOL_2D", scheme: "onnx", type: "uint8", shape: [1, 5, 7, 3], filter: [3, 3], stride: [2, 2], padding: "SAME" },
];

for (const poolCase of POOL_CASES) {
  test(`${poolCase.op}: ${poolCase.name}`, () => {
    const { shape, filter, stride, type } = poolCase;
    const [batches, height, width, channels] = shape;
    const random = randomGenerator(53 + height * width);
    const [min, max] = typeRange(type);
    const input = randomIntegers(elementCount(shape), min, max, random);
    const inputQuantization = { scale: 0.0271, zeroPoint: type === "uint8" ? 131 : -9 };
    // Max pooling and the TFLM-derived "single" scheme keep the input's quantization.
    const keepsQuantization = poolCase.op === "MAX_POOL_2D" || poolCase.scheme === "single";
    const outputQuantization = keepsQuantization ? inputQuantization : { scale: 0.0198, zeroPoint: type === "uint8" ? 120 : 4 };

    // Output size and leading padding as TFLite defines SAME and VALID.
    const outputSize = (size: number, k: number, s: number) => (poolCase.padding === "SAME" ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1);
    const padBefore = (size: number, k: number, s: number, out: number) => Math.floor(Math.max((out - 1) * s + k - size, 0) / 2);
    const outHeight = outputSize(height, filter[0], stride[0]);
    const outWidth = outputSize(width, filter[1], stride[1]);
    const padTop = padBefore(height, filter[0], stride[0], outHeight);
    const padLeft = padBefore(width, filter[1], stride[1], outWidth);
    const outputShape = [batches, outHeight, outWidth, channels];

    const actual = runModel(
      {
        tensors: [
          { name: "x", type, shape, scale: [inputQuantization.scale], zeroPoint: [inputQuantization.zeroPoint] },
          { name: "y", type, shape: outputShape, scale: [outputQuantization.scale], zeroPoint: [outputQuantization.zeroPoint] },
        ],
        operator: {
          op: poolCase.op,
          inputs: [0],
          outputs: [1],
          options: {
            type: "Pool2DOptions",
            fields: { padding: poolCase.padding, filter_height: filter[0], filter_width: filter[1], stride_h: stride[0], stride_w: stride[1] },
          },
        },
        inputs: [0],
        output: 1,
        scheme: poolCase.scheme,
      },
      [input],
    );

    const averager = schemeByName(poolCase.scheme).averagePool({
      inputScale: inputQuantization.scale,
      inputZeroPoint: inputQuantization.zeroPoint,
      outputScale: outputQuantization.scale,
      outputZeroPoint: outputQuantization.zeroPoint,
      memoryFormat: "contiguous",
    });
    const expected: number[] = [];
    for (let flat = 0; flat < elementCount(outputShape); flat++) {
      const [b, outY, outX, c] = unflatten(flat, outputShape);
      let centeredSum = 0;
      let count = 0;
      let maximum = min;
      for (let fy = 0; fy < filter[0]; fy++) {
        for (let fx = 0; fx < filter[1]; fx++) {
          const y = outY * stride[0] - padTop + fy;
          const x = outX * stride[1] - padLeft + fx;
          if (y < 0 || y >= height || x < 0 || x >= width) continue;
          const value = input[flatten([b, y, x, c], shape)];
          centeredSum += value - inputQuantization.zeroPoint;
          count++;
          maximum = Math.max(maximum, value);
        }
      }
      const value = poolCase.op === "MAX_POOL_2D" ? maximum : averager.average(centeredSum, count);
      expected.push(Math.min(Math.max(value, min), max));
    }
    assert.equal(actual, expected);
  });
}

// ---------------------------------------------------------------------------
// QUANTIZE, DEQUANTIZE and the table operators: cases with exact results.

test("QUANTIZE uint8 to int8 shifts by 128", () => {
  const values = Array.from({ length: 256 }, (_, i) => i);
  for (const scheme of ["onnx", "pytorch-qnnpack", "pytorch-onednn", "tflm"] as const) {
    const actual = runModel(
      {
        tensors: [
          { name: "x", type: "uint8", shape: [256], scale: [0.03], zeroPoint: [128] },
          { name: "y", type: "int8", shape: [256], scale: [0.03], zeroPoint: [0] },
        ],
        operator: { op: "QUANTIZE", inputs: [0], outputs: [1] },
        inputs: [0],
        output: 1,
        scheme,
      },
      [values],
    );
    assert.equal(actual, values.map((v) => v - 128), scheme);
  }
});

test("QUANTIZE int8 per axis with power-of-two scales", () => {
  // Dimension 1 has scales 1/2, 1/4 and 1/8, so x / scale is exact and
  // only the rounding of .5 remains: onnx rounds ties to even.
  const shape = [2, 3, 2];
  const scales = [0.5, 0.25, 0.125];
  const zeroPoints = [-1, 3, 0];
  const x = [0.25, -0.25, 1.125, -3, 0.0625, 40, 0.75, 0.3125, -0.1875, 100, -0.0625, 7.9375];
  const actual = runModel(
    {
      tensors: [
        { name: "x", type: "float32", shape },
        { name: "y", type: "int8", shape, scale: scales, zeroPoint: zeroPoints, quantizedDimension: 1 },
      ],
      operator: { op: "QUANTIZE", inputs: [0], outputs: [1] },
      inputs: [0],
      output: 1,
      scheme: "onnx",
    },
    [x],
  );
  // x / scale per element: 0.5, -0.5 | 4.5, -12 | 0.5, 320 | 1.5, 0.625 | -0.75, 400 | -0.5, 63.5
  const expected = [0 - 1, 0 - 1, 4 + 3, -12 + 3, 0 + 0, 127, 2 - 1, 1 - 1, -1 + 3, 127, 0 + 0, 64 + 0];
  assert.equal(actual, expected);
});

test("DEQUANTIZE int8 per axis along the last dimension", () => {
  const shape = [2, 3];
  const actual = runModel(
    {
      tensors: [
        { name: "x", type: "int8", shape, scale: [0.5, 2, 0.125], zeroPoint: [1, -2, 0], quantizedDimension: 1 },
        { name: "y", type: "float32", shape },
      ],
      operator: { op: "DEQUANTIZE", inputs: [0], outputs: [1] },
      inputs: [0],
      output: 1,
      scheme: "onnx",
    },
    [[-128, 127, 5, 1, -2, -3]],
  );
  assert.equal(actual, [-64.5, 258, 0.625, 0, 0, -0.375]);
});

test("LOGISTIC and HARD_SWISH reject the tflm scheme", () => {
  for (const op of ["LOGISTIC", "HARD_SWISH"]) {
    assertPrepareError(UnsupportedError, "fixed-point", {
      tensors: [
        { name: "x", type: "int8", shape: [4], scale: [0.1], zeroPoint: [0] },
        { name: "y", type: "int8", shape: [4], scale: [1 / 256], zeroPoint: [-128] },
      ],
      operator: { op, inputs: [0], outputs: [1] },
      inputs: [0],
      output: 1,
      scheme: "tflm",
    }, op);
  }
});

test("LOGISTIC uint8 with exact table entries", () => {
  // Input scale 1 and zero point 128: x = q - 128. logistic(0) = 0.5 is
  // 128 / 256 exactly; logistic(+-20) rounds to 256 and 0 and saturates to 255.
  const actual = runModel(
    {
      tensors: [
        { name: "x", type: "uint8", shape: [3], scale: [1], zeroPoint: [128] },
        { name: "y", type: "uint8", shape: [3], scale: [1 / 256], zeroPoint: [0] },
      ],
      operator: { op: "LOGISTIC", inputs: [0], outputs: [1] },
      inputs: [0],
      output: 1,
      scheme: "onnx",
    },
    [[128, 148, 108]],
  );
  assert.equal(actual, [128, 255, 0]);
});

test.run();
