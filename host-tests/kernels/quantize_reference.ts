// Reference for the QUANTIZE tests: TFLM's reference_ops::Requantize
// (kernels/internal/reference/requantize.h, commit 90b983c2) in BigInt, with
// the type pairs TFLM's quantize_common.cc requantizes. Nothing here imports
// the kernel under test.

import { TensorType } from "../../runtime/tensor_types.js";
import { randomInt, seededRandom } from "../requantization/reference.js";
import { Multiplier, multiplyDoubleRounding } from "../requantization/tflite_reference.js";

/** Input and output types of every integer-to-integer QUANTIZE that TFLM runs. */
export const TFLM_INTEGER_PAIRS: ReadonlyArray<[number, number]> = [
  [TensorType.INT8, TensorType.INT8],
  [TensorType.INT8, TensorType.UINT8],
  [TensorType.INT8, TensorType.INT16],
  [TensorType.INT8, TensorType.INT32],
  [TensorType.UINT8, TensorType.INT8],
  [TensorType.INT16, TensorType.INT8],
  [TensorType.INT16, TensorType.INT16],
  [TensorType.INT16, TensorType.INT32],
  [TensorType.INT32, TensorType.INT8],
  [TensorType.INT32, TensorType.INT16],
];

export const TYPE_RANGES: Readonly<Record<number, [number, number]>> = {
  [TensorType.INT8]: [-128, 127],
  [TensorType.UINT8]: [0, 255],
  [TensorType.INT16]: [-32768, 32767],
  [TensorType.INT32]: [-0x80000000, 0x7fffffff],
};

/** Zero points and output type of one requantization. */
export interface RequantizeZeroPoints {
  outputType: number;
  inputZeroPoint: number;
  outputZeroPoint: number;
}

/**
 * Requantizes q as TFLM does: the input zero point subtracted with int32
 * wrapping, MultiplyByQuantizedMultiplier, the output zero point added with
 * int32 wrapping, and the result clamped to the output type.
 */
export function referenceRequantize(q: number, c: RequantizeZeroPoints, multiplier: Multiplier): number {
  const [outMin, outMax] = TYPE_RANGES[c.outputType];
  const centered = Number(BigInt.asIntN(32, BigInt(q) - BigInt(c.inputZeroPoint)));
  const value = Number(BigInt.asIntN(32, BigInt(multiplyDoubleRounding(centered, multiplier)) + BigInt(c.outputZeroPoint)));
  return Math.min(outMax, Math.max(outMin, value));
}

/** Returns every value of an 8- or 16-bit type, or for int32 its extremes and seeded values of every magnitude. */
export function integerInputValues(type: number, seed: number): number[] {
  const [min, max] = TYPE_RANGES[type];
  if (type !== TensorType.INT32) return Array.from({ length: max - min + 1 }, (_, i) => min + i);
  const values = [min, min + 1, -1, 0, 1, max - 1, max];
  const random = seededRandom(seed);
  for (let bits = 1; bits <= 31; bits++) {
    for (let i = 0; i < 20; i++) values.push(randomInt(random, -(2 ** bits), 2 ** bits - 1));
  }
  return values;
}
