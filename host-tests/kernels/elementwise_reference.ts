// References for the elementwise kernel tests on Node and XS. The main one
// is a BigInt transcription of TFLM's integer ADD, SUB and MUL
// (tflite-micro 90b983c2: micro/kernels/add_common.cc, sub_common.cc,
// mul_common.cc, reference/add.h, sub.h, integer_ops/add.h, mul.h,
// quantization_util.cc and gemmlowp's fixedpoint.h). Beside it are a
// float64 reference, a broadcast by multi-index and one-operator models.
// None of it shares code with runtime/fixedpoint.ts or the kernels: 64-bit
// products are BigInt (MultiplyByQuantizedMultiplier is the exact one of
// host-tests/requantization/tflite_reference.ts), frexp reads the double's exponent bits, and the
// broadcast maps each output multi-index back to its inputs.

import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { multiplyDoubleRounding } from "../requantization/tflite_reference.js";
import { Xorshift32, bytesOf, typeRange } from "./test_data.js";

export type Operation = "ADD" | "SUB" | "MUL";
export type IntegerType = "int8" | "int16";
export type ActivationName = "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1";

/** Every operation and element type the TFLM elementwise kernels take. */
export const OPERATION_GROUPS: ReadonlyArray<[Operation, IntegerType]> = [
  ["ADD", "int8"],
  ["ADD", "int16"],
  ["SUB", "int8"],
  ["SUB", "int16"],
  ["MUL", "int8"],
  ["MUL", "int16"],
];

// ---------------------------------------------------------------------------
// TFLM's arithmetic in BigInt.

const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;

/**
 * TFLM's double-rounding MultiplyByQuantizedMultiplier, from the exact
 * requantization reference; x * 2^left wraps in int32 as compiled C does.
 */
function multiplyByQuantizedMultiplier(x: bigint, multiplier: bigint, shift: number): bigint {
  return BigInt(multiplyDoubleRounding(Number(x), { multiplier, shift }));
}

/** C's frexp for a positive normal double, from its exponent bits. */
function frexp(x: number): { fraction: number; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  const exponent = biased - 1022;
  return { fraction: x * 2 ** -exponent, exponent };
}

/** TFLM's QuantizeMultiplier: fraction * 2^31 rounded half away from zero, tiny multipliers flushed to 0. */
export function quantizeMultiplier(real: number): { multiplier: bigint; shift: number } {
  if (real === 0) return { multiplier: 0n, shift: 0 };
  const { fraction, exponent } = frexp(real);
  let multiplier = BigInt(Math.floor(fraction * 2 ** 31 + 0.5));
  let shift = exponent;
  if (multiplier === 1n << 31n) {
    multiplier /= 2n;
    shift++;
  }
  if (shift < -31) return { multiplier: 0n, shift: 0 };
  return { multiplier, shift };
}

export interface Quantization {
  scale: number;
  zeroPoint: number;
}

export interface ReferenceOperator {
  operation: Operation;
  type: IntegerType;
  a: Quantization;
  b: Quantization;
  output: Quantization;
  activation: ActivationName;
}

/** Fused activation clamp of CalculateActivationRangeQuantized: zp + round(f / scale) in float32, half away from zero. */
export function activationBounds(type: IntegerType, output: Quantization, activation: ActivationName): [number, number] {
  const [min, max] = typeRange(type);
  const quantize = (real: number) => {
    const quotient = Math.fround(real / output.scale);
    const rounded = quotient < 0 ? -Math.floor(-quotient + 0.5) : Math.floor(quotient + 0.5);
    return output.zeroPoint + rounded;
  };
  if (activation === "RELU") return [Math.max(min, quantize(0)), max];
  if (activation === "RELU6") return [Math.max(min, quantize(0)), Math.min(max, quantize(6))];
  if (activation === "RELU_N1_TO_1") return [Math.max(min, quantize(-1)), Math.min(max, quantize(1))];
  return [min, max];
}

/** Returns TFLM's element function for an operator: f(a, b) on stored values. */
export function referenceElementFunction(spec: ReferenceOperator, subMultipliersInDouble = false): (a: number, b: number) => number {
  const [activationMin, activationMax] = activationBounds(spec.type, spec.output, spec.activation);
  const clamp = (value: bigint) => {
    const wrapped = Number(BigInt.asIntN(32, value));
    return Math.min(activationMax, Math.max(activationMin, wrapped));
  };
  const aScale = Math.fround(spec.a.scale);
  const bScale = Math.fround(spec.b.scale);
  const outputScale = Math.fround(spec.output.scale);

  if (spec.operation === "MUL") {
    const { multiplier, shift } = quantizeMultiplier((aScale * bScale) / outputScale);
    return (a, b) => {
      const product = BigInt(a - spec.a.zeroPoint) * BigInt(b - spec.b.zeroPoint);
      return clamp(multiplyByQuantizedMultiplier(product, multiplier, shift) + BigInt(spec.output.zeroPoint));
    };
  }

  const leftShift = spec.type === "int16" ? 15 : 20;
  let aReal: number;
  let bReal: number;
  let outputReal: number;
  if (spec.operation === "ADD" || subMultipliersInDouble) {
    const twiceMax = 2 * Math.max(aScale, bScale);
    aReal = aScale / twiceMax;
    bReal = bScale / twiceMax;
    outputReal = twiceMax / (2 ** leftShift * outputScale);
  } else {
    const twiceMax = Math.fround(2 * Math.max(aScale, bScale));
    aReal = Math.fround(aScale / twiceMax);
    bReal = Math.fround(bScale / twiceMax);
    outputReal = Math.fround(twiceMax / Math.fround(2 ** leftShift * outputScale));
  }
  const aMultiplier = quantizeMultiplier(aReal);
  const bMultiplier = quantizeMultiplier(bReal);
  const outputMultiplier = quantizeMultiplier(outputReal);
  const sign = spec.operation === "ADD" ? 1n : -1n;
  return (a, b) => {
    const aShifted = BigInt(a - spec.a.zeroPoint) << BigInt(leftShift);
    const bShifted = BigInt(b - spec.b.zeroPoint) << BigInt(leftShift);
    const aScaled = multiplyByQuantizedMultiplier(aShifted, aMultiplier.multiplier, aMultiplier.shift);
    const bScaled = multiplyByQuantizedMultiplier(bShifted, bMultiplier.multiplier, bMultiplier.shift);
    const raw = aScaled + sign * bScaled;
    if (raw < INT32_MIN || raw > INT32_MAX) throw new Error(`raw ${raw} leaves int32`);
    return clamp(multiplyByQuantizedMultiplier(raw, outputMultiplier.multiplier, outputMultiplier.shift) + BigInt(spec.output.zeroPoint));
  };
}

/** Returns the float64 element function: the real result rounded to the output grid and clamped. */
export function floatElementFunction(spec: ReferenceOperator): (a: number, b: number) => number {
  const [activationMin, activationMax] = activationBounds(spec.type, spec.output, spec.activation);
  const aScale = Math.fround(spec.a.scale);
  const bScale = Math.fround(spec.b.scale);
  const outputScale = Math.fround(spec.output.scale);
  return (a, b) => {
    const aReal = aScale * (a - spec.a.zeroPoint);
    const bReal = bScale * (b - spec.b.zeroPoint);
    let real = aReal * bReal;
    if (spec.operation === "ADD") real = aReal + bReal;
    if (spec.operation === "SUB") real = aReal - bReal;
    const quantized = Math.round(real / outputScale) + spec.output.zeroPoint;
    return Math.min(activationMax, Math.max(activationMin, quantized));
  };
}

// ---------------------------------------------------------------------------
// Broadcast by multi-index and one-operator models.

/** Applies f to every output element, reading each input at the output's multi-index aligned at the last dimension. */
export function broadcastReference(
  aShape: readonly number[],
  a: readonly number[],
  bShape: readonly number[],
  b: readonly number[],
  outputShape: readonly number[],
  f: (a: number, b: number) => number,
): number[] {
  const count = outputShape.reduce((product, dim) => product * dim, 1);
  const result: number[] = [];
  for (let flat = 0; flat < count; flat++) {
    const index: number[] = new Array(outputShape.length);
    let rest = flat;
    for (let d = outputShape.length - 1; d >= 0; d--) {
      index[d] = rest % outputShape[d];
      rest = Math.floor(rest / outputShape[d]);
    }
    result.push(f(a[inputPosition(aShape, index)], b[inputPosition(bShape, index)]));
  }
  return result;
}

function inputPosition(shape: readonly number[], outputIndex: readonly number[]): number {
  const offset = outputIndex.length - shape.length;
  let position = 0;
  for (let d = 0; d < shape.length; d++) position = position * shape[d] + (shape[d] === 1 ? 0 : outputIndex[d + offset]);
  return position;
}

export interface OperatorCase extends ReferenceOperator {
  aShape: number[];
  bShape: number[];
  outputShape: number[];
  /** Stores the second input as a constant tensor of the model. */
  bConstant: boolean;
}

const OPTIONS_TYPES: Record<Operation, string> = { ADD: "AddOptions", SUB: "SubOptions", MUL: "MulOptions" };

export function buildModel(spec: OperatorCase, bValues: readonly number[], scheme: SchemeName = "tflm"): Uint8Array {
  const tensor = (name: string, shape: number[], q: Quantization, data?: Uint8Array): TensorSpec => ({
    name,
    type: spec.type,
    shape,
    scale: [q.scale],
    zeroPoint: [q.zeroPoint],
    data,
  });
  const model: ModelSpec = {
    tensors: [
      tensor("a", spec.aShape, spec.a),
      tensor("b", spec.bShape, spec.b, spec.bConstant ? bytesOf(spec.type, bValues) : undefined),
      tensor("output", spec.outputShape, spec.output),
    ],
    operators: [
      {
        op: spec.operation,
        inputs: [0, 1],
        outputs: [2],
        options: { type: OPTIONS_TYPES[spec.operation], fields: { fused_activation_function: spec.activation } },
      },
    ],
    inputs: spec.bConstant ? [0] : [0, 1],
    outputs: [2],
    metadata: { microq_requantization: new TextEncoder().encode(scheme) },
  };
  return writeModel(model);
}

export function typedValues(type: IntegerType, values: readonly number[]): Int8Array | Int16Array {
  return type === "int8" ? Int8Array.from(values) : Int16Array.from(values);
}

export function randomValues(random: Xorshift32, type: IntegerType, count: number): number[] {
  const [min, max] = typeRange(type);
  return Array.from({ length: count }, () => random.integer(min, max));
}

// ---------------------------------------------------------------------------
// Random operators: shapes that broadcast in up to 6 dimensions, scales over
// several octaves, zero points over the whole type range.

const MAX_ELEMENTS = 1600;

/** Returns an output shape of rank 0 to 6 and input shapes that broadcast to it, one of them of the full rank. */
export function randomShapes(random: Xorshift32): { aShape: number[]; bShape: number[]; outputShape: number[] } {
  const rank = random.integer(0, 6);
  const outputShape: number[] = [];
  let count = 1;
  for (let d = 0; d < rank; d++) {
    const dim = Math.min(random.integer(1, 7), Math.floor(MAX_ELEMENTS / count));
    outputShape.push(Math.max(dim, 1));
    count *= Math.max(dim, 1);
  }
  const fullIsA = random.next() < 0.5;
  const otherRank = random.integer(0, rank);
  const full = outputShape.map((dim) => (random.next() < 0.3 ? 1 : dim));
  const other = outputShape.slice(rank - otherRank).map((dim) => (random.next() < 0.4 ? 1 : dim));
  // Every output dimension above 1 must come from one of the inputs.
  for (let d = 0; d < rank; d++) {
    const otherIndex = d - (rank - otherRank);
    const fromOther = otherIndex >= 0 && other[otherIndex] === outputShape[d];
    if (full[d] !== outputShape[d] && !fromOther) full[d] = outputShape[d];
  }
  return fullIsA ? { aShape: full, bShape: other, outputShape } : { aShape: other, bShape: full, outputShape };
}

function randomZeroPoint(random: Xorshift32, type: IntegerType): number {
  if (random.next() < 0.3) return 0;
  const [min, max] = typeRange(type);
  return type === "int8" ? random.integer(min, max) : random.integer(-4000, 4000);
}

const ACTIVATIONS: ActivationName[] = ["NONE", "NONE", "RELU", "RELU6", "RELU_N1_TO_1"];

export function randomCase(random: Xorshift32, operation: Operation, type: IntegerType): OperatorCase {
  const shapes = randomShapes(random);
  const aScale = Math.fround(2 ** random.uniform(-12, -3));
  const bScale = Math.fround(aScale * 2 ** random.uniform(-4, 4));
  let outputScale: number;
  if (operation === "MUL") {
    // The product of two centered values spans up to 2^16 (int8) or 2^30
    // (int16) units of sa * sb, and this range moves it across the output grid.
    const spread = type === "int8" ? random.uniform(-14, 2) : random.uniform(-30, -10);
    outputScale = Math.fround(aScale * bScale * 2 ** -spread);
  } else {
    outputScale = Math.fround(Math.max(aScale, bScale) * 2 ** random.uniform(-3, 2));
  }
  const zeroPoints = operation === "MUL" && type === "int16";
  return {
    operation,
    type,
    ...shapes,
    a: { scale: aScale, zeroPoint: zeroPoints ? 0 : randomZeroPoint(random, type) },
    b: { scale: bScale, zeroPoint: zeroPoints ? 0 : randomZeroPoint(random, type) },
    output: { scale: outputScale, zeroPoint: zeroPoints ? 0 : randomZeroPoint(random, type) },
    activation: ACTIVATIONS[random.integer(0, ACTIVATIONS.length - 1)],
    bConstant: random.next() < 0.2,
  };
}

