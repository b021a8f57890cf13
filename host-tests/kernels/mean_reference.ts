// A direct transcription of TFLM's quantized MEAN (micro/kernels/reduce_common.cc
// and QuantizedMeanOrSum in kernels/internal/reference/reduce.h, TFLM commit
// 90b983c2), written for the tests with BigInt for every int64 step. It keeps
// TFLM's structure: an odometer over the input index (NextIndex), the output
// offset of each index computed from scratch (ReducedOutputOffset), int32
// sums that wrap, and the multiplier folding with a 64-bit shift and division.

import { multiplyDoubleRounding } from "../requantization/tflite_reference.js";

export interface MeanCase {
  type: "int8" | "int16";
  shape: readonly number[];
  /** Raw input values in row-major order. */
  values: ArrayLike<number>;
  /** The axis tensor's values, as stored (negative and repeated axes allowed). */
  axes: readonly number[];
  inputScale: number;
  inputZeroPoint: number;
  outputScale: number;
  outputZeroPoint: number;
}

/** TFLM's QuantizeMultiplier (double-rounding build): frexp, then round(q * 2^31) half away from zero. */
export function referenceQuantizeMultiplier(real: number): { multiplier: bigint; shift: number } {
  if (real === 0) return { multiplier: 0n, shift: 0 };
  let q = real;
  let shift = 0;
  while (q >= 1) {
    q /= 2;
    shift++;
  }
  while (q < 0.5) {
    q *= 2;
    shift--;
  }
  const scaled = q * 2 ** 31;
  let fixed = BigInt(scaled < 0 ? -Math.floor(-scaled + 0.5) : Math.floor(scaled + 0.5));
  if (fixed === 2n ** 31n) {
    fixed /= 2n;
    shift++;
  }
  if (shift < -31) return { multiplier: 0n, shift: 0 };
  return { multiplier: fixed, shift };
}

/** Folds 1 / count into the multiplier and shift as QuantizedMeanOrSum does. */
export function referenceFoldCount(multiplier: bigint, shift: number, count: bigint): { multiplier: bigint; shift: number } {
  // 63 - CountLeadingZeros(uint64 count) is the index of the highest set bit.
  let countShift = count.toString(2).length - 1;
  countShift = Math.min(countShift, 32);
  countShift = Math.min(countShift, 31 + shift);
  const folded = BigInt.asIntN(32, BigInt.asIntN(64, multiplier << BigInt(countShift)) / count);
  return { multiplier: folded, shift: shift - countShift };
}

/**
 * TFLM's int32 MultiplyByQuantizedMultiplier of the double-rounding build,
 * from the exact requantization reference. x * (1 << left_shift) is an int32
 * multiply, which wraps on the hosts that TFLM's goldens come from.
 */
export function referenceMultiplyByQuantizedMultiplier(x: bigint, multiplier: bigint, shift: number): bigint {
  return BigInt(multiplyDoubleRounding(Number(x), { multiplier, shift }));
}

/** Returns the output values of TFLM's int8 or int16 MEAN, in the output's row-major order. */
export function referenceMean(c: MeanCase): number[] {
  const dims = c.shape;
  const rank = dims.length;

  // ResolveAxis: negative axes count from the end, duplicates are dropped,
  // and a rank-0 input ignores the axes.
  const resolved: number[] = [];
  if (rank > 0) {
    for (const axis of c.axes) {
      const current = axis < 0 ? axis + rank : axis;
      if (current < 0 || current >= rank) throw new Error(`reference: axis ${axis} is invalid for rank ${rank}`);
      if (!resolved.includes(current)) resolved.push(current);
    }
  }

  let outputCount = 1;
  for (let d = 0; d < rank; d++) if (!resolved.includes(d)) outputCount *= dims[d];
  const sums: bigint[] = new Array<bigint>(outputCount).fill(0n);
  const output: number[] = new Array<number>(outputCount).fill(0);
  if (dims.some((d) => d === 0)) return output;

  // ReduceSumImpl: visit every input index in row-major order.
  const index = new Array<number>(rank).fill(0);
  let inputOffset = 0;
  for (;;) {
    let outputOffset = 0;
    for (let d = 0; d < rank; d++) {
      if (resolved.includes(d)) continue;
      outputOffset = outputOffset * dims[d] + index[d];
    }
    sums[outputOffset] = BigInt.asIntN(32, sums[outputOffset] + BigInt(c.values[inputOffset]));
    inputOffset++;
    // NextIndex: the last dimension moves fastest.
    let d = rank - 1;
    for (; d >= 0; d--) {
      index[d]++;
      if (index[d] < dims[d]) break;
      index[d] = 0;
    }
    if (d < 0) break;
  }

  let count = 1n;
  for (const axis of resolved) count *= BigInt(dims[axis]);

  // The scales are float32 in the tensor parameters and divided in double.
  const rescale = referenceQuantizeMultiplier(Math.fround(c.inputScale) / Math.fround(c.outputScale));
  const folded = referenceFoldCount(rescale.multiplier, rescale.shift, count);
  const [min, max] = c.type === "int16" ? [-32768n, 32767n] : [-128n, 127n];
  for (let i = 0; i < outputCount; i++) {
    const shiftedSum = BigInt.asIntN(32, sums[i] - BigInt(c.inputZeroPoint) * count);
    let value = referenceMultiplyByQuantizedMultiplier(shiftedSum, folded.multiplier, folded.shift) + BigInt(c.outputZeroPoint);
    if (value < min) value = min;
    if (value > max) value = max;
    output[i] = Number(value);
  }
  return output;
}
