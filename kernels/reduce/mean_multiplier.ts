// The requantization multiplier of a quantized mean, derived at prepare time
// as TFLM's reference QuantizedMeanOrSum does (reduce.h at TFLM commit
// 90b983c2): the input-to-output rescale M = multiplierQ31 * 2^(shift - 31)
// absorbs the division by the number of reduced elements, so that one
// multiplyByQuantizedMultiplier turns the sum into the mean.

import { QuantizedMultiplier } from "../../runtime/quantize_multiplier.js";

/**
 * Folds 1 / count into a quantized multiplier, as TFLM does:
 *   countShift = min(floor(log2(count)), 32, 31 + shift)
 *   multiplierQ31' = floor(multiplierQ31 * 2^countShift / count)  (int64 division)
 *   shift' = shift - countShift
 * The clamps keep the int64 dividend below 2^63 and shift' at -31 or more.
 * count must be a positive integer below 2^52.
 */
export function foldCountIntoMultiplier(rescale: QuantizedMultiplier, count: number): QuantizedMultiplier {
  let countShift = floorLog2(count);
  countShift = Math.min(countShift, 32);
  countShift = Math.min(countShift, 31 + rescale.shift);
  return {
    multiplierQ31: divideShiftedExactly(rescale.multiplierQ31, countShift, count),
    shift: rescale.shift - countShift,
  };
}

/** Returns floor(log2(n)) for an integer n >= 1, the bit length of n minus one. */
export function floorLog2(n: number): number {
  let exponent = 0;
  let power = 2;
  while (power <= n) {
    power *= 2;
    exponent++;
  }
  return exponent;
}

/**
 * Returns floor(value * 2^shift / divisor) exactly, for 0 <= value < 2^31,
 * 0 <= shift <= 32 and 1 <= divisor < 2^52, where value * 2^shift may reach
 * 2^63. Binary long division: the running remainder stays below divisor, so
 * 2 * remainder + 1 stays below 2^53 and every step is an exact double
 * operation. The quotient never exceeds value, because 2^shift <= divisor
 * whenever shift = floor(log2(divisor)) or less.
 */
function divideShiftedExactly(value: number, shift: number, divisor: number): number {
  let quotient = 0;
  let remainder = 0;
  const bitCount = 31 + shift;
  for (let bit = bitCount - 1; bit >= 0; bit--) {
    // Bits of the dividend: value's 31 bits, then `shift` zero bits.
    const dividendBit = bit >= shift ? (value >>> (bit - shift)) & 1 : 0;
    remainder = 2 * remainder + dividendBit;
    quotient *= 2;
    if (remainder >= divisor) {
      remainder -= divisor;
      quotient += 1;
    }
  }
  return quotient;
}
