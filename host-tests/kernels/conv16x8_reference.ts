// BigInt transcriptions of the TFLM arithmetic (tflite-micro commit
// 90b983c2, default double-rounding build) that the 16x8 and transpose conv
// tests compute expected outputs with: QuantizeMultiplier
// (quantization_util.cc), both MultiplyByQuantizedMultiplier overloads
// (common.cc with gemmlowp's fixedpoint.h), CalculateActivationRangeQuantized
// (kernel_util.cc) and ComputePaddingHeightWidth (padding.h). The int32
// MultiplyByQuantizedMultiplier is the exact one of
// host-tests/requantization/tflite_reference.ts.

import { multiplyDoubleRounding } from "../requantization/tflite_reference.js";

/** TFLM's QuantizeMultiplier: [multiplierQ31, shift] with frexp and round half away from zero. */
export function referenceQuantizeMultiplier(real: number): [number, number] {
  if (real === 0) return [0, 0];
  let exponent = 0;
  let fraction = real;
  while (fraction >= 1) {
    fraction /= 2;
    exponent++;
  }
  while (fraction < 0.5) {
    fraction *= 2;
    exponent--;
  }
  let q = Math.round(fraction * 2 ** 31); // fraction > 0, so Math.round is round half away from zero
  if (q === 2 ** 31) {
    q /= 2;
    exponent++;
  }
  if (exponent < -31) return [0, 0];
  return [q, exponent];
}

/** TFLM's int32 MultiplyByQuantizedMultiplier (double rounding), from the exact requantization reference; x is an int32. */
export function referenceMultiplyInt32(x: bigint, multiplierQ31: number, shift: number): bigint {
  return BigInt(multiplyDoubleRounding(Number(x), { multiplier: BigInt(multiplierQ31), shift }));
}

/** TFLM's int64 MultiplyByQuantizedMultiplier: Q15 multiplier, int64 wrap, int32 cast. */
export function referenceMultiplyInt64(x: bigint, multiplierQ31: number, shift: number): bigint {
  const reduced = multiplierQ31 < 0x7fff0000 ? (multiplierQ31 + (1 << 15)) >> 16 : 0x7fff;
  const totalShift = BigInt(15 - shift);
  const rounded = BigInt.asIntN(64, x * BigInt(reduced) + (1n << (totalShift - 1n)));
  return BigInt.asIntN(32, rounded >> totalShift);
}

/** Fused activation clamp range, [min, max], in the output's quantized domain. */
export function referenceActivationRange(
  activation: "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1",
  scale: number,
  zeroPoint: number,
  typeMin: number,
  typeMax: number,
): [number, number] {
  // TFLM divides in float and rounds half away from zero.
  const quantize = (f: number): number => {
    const q = Math.fround(f / scale);
    return zeroPoint + (q < 0 ? -Math.round(-q) : Math.round(q));
  };
  switch (activation) {
    case "NONE":
      return [typeMin, typeMax];
    case "RELU":
      return [Math.max(typeMin, quantize(0)), typeMax];
    case "RELU6":
      return [Math.max(typeMin, quantize(0)), Math.min(typeMax, quantize(6))];
    case "RELU_N1_TO_1":
      return [Math.max(typeMin, quantize(-1)), Math.min(typeMax, quantize(1))];
  }
}

/**
 * TFLM's ComputePaddingHeightWidth for one dimension pair: the leading
 * padding [height, width] with C's truncating division, both 0 when either
 * output size check fails.
 */
export function referencePadding(
  padding: "SAME" | "VALID",
  strides: [number, number],
  dilations: [number, number],
  inSizes: [number, number],
  filterSizes: [number, number],
): [number, number] {
  const outSizes: number[] = [];
  for (let d = 0; d < 2; d++) {
    const effective = (filterSizes[d] - 1) * dilations[d] + 1;
    const numerator = padding === "SAME" ? inSizes[d] + strides[d] - 1 : inSizes[d] + strides[d] - effective;
    const out = Math.trunc(numerator / strides[d]);
    if (out < 0) return [0, 0];
    outSizes.push(out);
  }
  const result: [number, number] = [0, 0];
  for (let d = 0; d < 2; d++) {
    const effective = (filterSizes[d] - 1) * dilations[d] + 1;
    const total = (outSizes[d] - 1) * strides[d] + effective - inSizes[d];
    result[d] = total > 0 ? Math.trunc(total / 2) : 0;
  }
  return result;
}

/** Deterministic xorshift32 generator with helpers, so failures reproduce. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed | 0 || 1;
  }
  next(): number {
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return this.state | 0;
  }
  /** Integer in [min, max]. */
  integer(min: number, max: number): number {
    return min + ((this.next() >>> 0) % (max - min + 1));
  }
  /** Float in [min, max). */
  uniform(min: number, max: number): number {
    return min + ((this.next() >>> 0) / 2 ** 32) * (max - min);
  }
  pick<T>(values: readonly T[]): T {
    return values[this.integer(0, values.length - 1)];
  }
}

export function bytesOfArray(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
