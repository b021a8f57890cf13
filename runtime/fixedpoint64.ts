// The int64 arithmetic of TFLM's 16x8 kernels (int16 activations, int8
// weights, int64 accumulator and bias), computed exactly in int32 limbs.
//
// An int64 value is a pair of int32 words: `high`, the signed upper word,
// and `low`, the lower 32 bits as an int32 bit pattern, so that
// value = high * 2^32 + (low >>> 0). Every intermediate below stays inside
// int32 (16-bit limbs, products of a 16-bit limb and a 15-bit multiplier),
// because on XS a result outside int32 becomes a double, which an ESP32
// computes in software.

/**
 * Products of an int16 and an int8 that an int32 partial sum can take:
 * each product lies in [-2^22 + 2^7, 2^22], so 511 of them stay within
 * [-2^31, 2^31), and 512 products of (-32768) * (-128) would reach 2^31.
 */
export const INT16X8_PRODUCTS_PER_PARTIAL_SUM = 511;

/**
 * Partial sums that a split sum (below) can take: the low-half sum gains
 * less than 2^16 per partial sum and the high-half sum at most 2^15 in
 * magnitude, so 32767 of them keep both inside int32.
 */
export const SPLIT_SUM_MAX_TERMS = 32767;

// A split sum accumulates int32 partial sums p exactly without 64-bit adds:
// sumLow += p & 0xffff and sumHigh += p >> 16, so that the total is
// sumHigh * 2^16 + sumLow. The two functions below turn it into int64 words.

/** Returns the upper word of the int64 total sumHigh * 2^16 + sumLow of a split sum (sumLow >= 0). */
export function splitSumHigh(sumHigh: number, sumLow: number): number {
  return (sumHigh + (sumLow >>> 16)) >> 16;
}

/** Returns the lower word, as an int32 bit pattern, of the int64 total sumHigh * 2^16 + sumLow of a split sum. */
export function splitSumLow(sumHigh: number, sumLow: number): number {
  return ((sumHigh + (sumLow >>> 16)) << 16) | (sumLow & 0xffff);
}

/** Returns the lower word of the int64 sum a + b (wrapping, as C's int64 addition does in practice). */
export function addInt64Low(aLow: number, bLow: number): number {
  const lowHalf = (aLow & 0xffff) + (bLow & 0xffff);
  const highHalf = (aLow >>> 16) + (bLow >>> 16) + (lowHalf >>> 16);
  return (highHalf << 16) | (lowHalf & 0xffff);
}

/** Returns the upper word of the int64 sum a + b, wrapping modulo 2^64. */
export function addInt64High(aHigh: number, aLow: number, bHigh: number, bLow: number): number {
  const lowHalf = (aLow & 0xffff) + (bLow & 0xffff);
  const highHalf = (aLow >>> 16) + (bLow >>> 16) + (lowHalf >>> 16);
  const carry = highHalf >>> 16;
  // Two int32 words and a carry may exceed int32 only by wrapping, which |0 does.
  return (aHigh + bHigh + carry) | 0;
}

/**
 * Rounds a Q31 multiplier to the Q15 multiplier of TFLM's int64
 * MultiplyByQuantizedMultiplier: (multiplierQ31 + 2^15) >> 16, or 0x7fff
 * when that would reach 2^15. multiplierQ31 must be non-negative.
 */
export function reduceMultiplierToQ15(multiplierQ31: number): number {
  return multiplierQ31 < 0x7fff0000 ? (multiplierQ31 + 0x8000) >> 16 : 0x7fff;
}

/**
 * Computes TFLM's MultiplyByQuantizedMultiplier for an int64
 * x = high * 2^32 + (low >>> 0), as built with the default (double)
 * rounding at tflite-micro commit 90b983c2 (kernels/internal/common.cc).
 * It multiplies x by the Q15 multiplier of reduceMultiplierToQ15, adds
 * 2^(14 - shift), shifts right arithmetically by 15 - shift and keeps the
 * low 32 bits. shift must be in [-31, 7], as TFLM asserts. For an x beyond
 * TFLM's documented range of +-2^47, the product wraps modulo 2^64 as
 * TFLM's int64 multiply does.
 */
export function multiplyByQuantizedMultiplierInt64(high: number, low: number, multiplierQ31: number, shift: number): number {
  return multiplyInt64ByQ15(high, low, reduceMultiplierToQ15(multiplierQ31), 15 - shift);
}

/**
 * Computes multiplyByQuantizedMultiplierInt64 from a Q15 multiplier in
 * [0, 2^15) and a total right shift in [8, 46], both derived at prepare
 * time. Returns bits [totalShift, totalShift + 32) of
 * x * multiplierQ15 + 2^(totalShift - 1) modulo 2^64, as an int32.
 */
export function multiplyInt64ByQ15(high: number, low: number, multiplierQ15: number, totalShift: number): number {
  // x modulo 2^64 as four unsigned 16-bit limbs, x0 the least significant.
  const x0 = low & 0xffff;
  const x1 = low >>> 16;
  const x2 = high & 0xffff;
  const x3 = high >>> 16;

  // Each limb product is at most (2^16 - 1) * (2^15 - 1) and each carry
  // below 2^15, so every step stays under 2^31. The carry out of the top
  // limb is dropped: the product wraps modulo 2^64.
  let step = x0 * multiplierQ15;
  let r0 = step & 0xffff;
  step = x1 * multiplierQ15 + (step >>> 16);
  let r1 = step & 0xffff;
  step = x2 * multiplierQ15 + (step >>> 16);
  let r2 = step & 0xffff;
  step = x3 * multiplierQ15 + (step >>> 16);
  let r3 = step & 0xffff;

  // The rounding term 2^(totalShift - 1) is one bit of one limb; add it
  // and carry upward.
  const roundBit = totalShift - 1;
  const roundLimb = roundBit >> 4;
  const roundValue = 1 << (roundBit & 15);
  r0 += roundLimb === 0 ? roundValue : 0;
  r1 += (r0 >>> 16) + (roundLimb === 1 ? roundValue : 0);
  r2 += (r1 >>> 16) + (roundLimb === 2 ? roundValue : 0);
  r3 += r2 >>> 16;
  r0 &= 0xffff;
  r1 &= 0xffff;
  r2 &= 0xffff;

  // The signed result words; << 16 puts the sign bit of the top limb at bit 31.
  const resultHigh = (r3 << 16) | r2;
  const resultLow = (r1 << 16) | r0;
  if (totalShift < 32) return (resultLow >>> totalShift) | (resultHigh << (32 - totalShift));
  if (totalShift === 32) return resultHigh;
  return resultHigh >> (totalShift - 32);
}
