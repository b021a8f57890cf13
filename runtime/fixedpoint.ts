// Fixed-point primitives of gemmlowp's double-rounding requantization, as
// TFLM's reference kernels use them, computed exactly with int32 arithmetic.
//
// No intermediate here leaves the int32 range: a 32x32-bit product is built
// from 16-bit limbs, with Math.imul only where a limb product may exceed
// 2^31. On XS an integer result outside int32 silently becomes a double,
// which an ESP32 computes in software, so this matters for speed as well as
// exactness.

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const imul = Math.imul;

/**
 * Returns round(a * b / 2^31) with ties rounded toward +infinity, saturated
 * to INT32_MAX for the one overflowing input pair (INT32_MIN, INT32_MIN).
 * This is gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of
 * the doubled 64-bit product, after adding a rounding nudge.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  const overflow = a === INT32_MIN && b === INT32_MIN;
  if (overflow) return INT32_MAX;

  // a = aHigh * 2^16 + aLow and b = bHigh * 2^16 + bLow, with the high limbs
  // signed in [-2^15, 2^15) and the low limbs unsigned in [0, 2^16).
  const aHigh = a >> 16;
  const aLow = a & 0xffff;
  const bHigh = b >> 16;
  const bLow = b & 0xffff;

  // aLow * bLow < 2^32 does not fit int32, but imul returns it modulo 2^32,
  // and both 16-bit halves of that are exact.
  const lowProduct = imul(aLow, bLow);

  // |aHigh * bLow| <= 2^15 * (2^16 - 1) and the carry is < 2^16, so middle1
  // stays strictly inside int32; the same bound holds for aLow * bHigh.
  const middle1 = aHigh * bLow + (lowProduct >>> 16);
  const middle2 = aLow * bHigh + (middle1 & 0xffff);

  // a * b = high * 2^32 + (middle2 & 0xffff) * 2^16 + (lowProduct & 0xffff).
  const high = aHigh * bHigh + (middle1 >> 16) + (middle2 >> 16);

  // floor((a * b + 2^30) / 2^31) = 2 * high + floor(((middle2 & 0xffff) + 2^14) / 2^15),
  // because the low 16 bits cannot carry into bit 31. The true result fits
  // int32 once the overflow pair is excluded, so the wrapping << and | 0
  // produce it exactly even when 2 * high alone would not fit.
  const roundedMiddle = ((middle2 & 0xffff) + 0x4000) >> 15;
  return ((high << 1) + roundedMiddle) | 0;
}

/**
 * Returns x / 2^exponent rounded to nearest with ties away from zero
 * (gemmlowp's RoundingDivideByPOT), for exponent in [0, 31].
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  // ~(-1 << 31) is 0x7fffffff, so the mask is right for exponent 31 too.
  const mask = ~(-1 << exponent);
  const remainder = x & mask;
  // The threshold grows by one for negative x, which turns "ties up" into
  // "ties away from zero".
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * Multiplies an int32 accumulator by the real number
 * multiplierQ31 * 2^(shift - 31) with TFLM's double rounding: an optional
 * left shift (wrapping, as the int32 multiply in TFLM does), the rounding
 * doubling high multiply, then a rounding right shift. shift is in [-31, 30].
 */
export function multiplyByQuantizedMultiplier(x: number, multiplierQ31: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x << leftShift, multiplierQ31), rightShift);
}
