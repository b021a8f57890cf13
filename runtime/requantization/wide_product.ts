// Rounding right shifts of the exact 64-bit product of an int32 and a
// non-negative multiplier below 2^31, computed with int32 operations on
// 16-bit limbs. TFLite's single-rounding MultiplyByQuantizedMultiplier and
// QNNPACK's precise requantization both shift such a product right with
// rounding. A double has only 53 bits, and on XS an integer outside int32
// becomes a double that an ESP32 computes in software, so no intermediate
// here leaves int32.

const imul = Math.imul;

/**
 * Returns floor((x * multiplier + 2^(shift - 1) - adjust) / 2^shift),
 * wrapped to int32 as C's conversion of an int64 to int32 wraps, for int32
 * x, multiplier in [0, 2^31), shift in [1, 62] and adjust 0 or 1.
 */
function shiftRoundedProduct(x: number, multiplier: number, shift: number, adjust: number): number {
  // x * multiplier = high * 2^32 + middle * 2^16 + low, with high signed and
  // middle and low unsigned 16-bit digits. The limb products and carries
  // stay inside int32 for the reasons runtime/fixedpoint.ts gives, and
  // |x * multiplier| < 2^62 puts high in [-2^30, 2^30].
  const xHigh = x >> 16;
  const xLow = x & 0xffff;
  const multiplierHigh = multiplier >> 16;
  const multiplierLow = multiplier & 0xffff;
  const lowProduct = imul(xLow, multiplierLow);
  const middle1 = xHigh * multiplierLow + (lowProduct >>> 16);
  const middle2 = xLow * multiplierHigh + (middle1 & 0xffff);
  let high = xHigh * multiplierHigh + (middle1 >> 16) + (middle2 >> 16);
  let middle = middle2 & 0xffff;
  let low = (lowProduct & 0xffff) - adjust;

  // Add the rounding term 2^(shift - 1) to the digit that contains its bit,
  // then carry. A digit lies in [-1, 0x18000] before its carry, so each
  // carry (or the borrow of adjust) is -1, 0 or 1, and high stays below
  // 2^30 + 2^29 + 1.
  const roundingBit = shift - 1;
  if (roundingBit >= 32) high += 1 << (roundingBit - 32);
  else if (roundingBit >= 16) middle += 1 << (roundingBit - 16);
  else low += 1 << roundingBit;
  middle += low >> 16;
  low &= 0xffff;
  high += middle >> 16;
  middle &= 0xffff;

  // Shift the three digits right. The ORs join disjoint bit ranges, and the
  // wrapping << keeps the low 32 bits of a quotient that would not fit.
  if (shift >= 32) return high >> (shift - 32);
  if (shift >= 16) return (high << (32 - shift)) | (middle >> (shift - 16));
  return (high << (32 - shift)) | (middle << (16 - shift)) | (low >> shift);
}

/**
 * Returns x * multiplier / 2^shift rounded to nearest with ties toward
 * +infinity: floor((x * multiplier + 2^(shift - 1)) / 2^shift), wrapped to
 * int32. x is an int32, multiplier in [0, 2^31), shift in [1, 62].
 */
export function multiplyShiftRoundHalfUp(x: number, multiplier: number, shift: number): number {
  return shiftRoundedProduct(x, multiplier, shift, 0);
}

/**
 * Returns x * multiplier / 2^shift rounded to nearest with ties away from
 * zero, wrapped to int32. x is an int32, multiplier in [0, 2^31), shift in
 * [1, 62]. Subtracting 1 from a negative product before the half-up
 * rounding turns its ties toward zero into ties away from zero.
 */
export function multiplyShiftRoundHalfAway(x: number, multiplier: number, shift: number): number {
  return shiftRoundedProduct(x, multiplier, shift, x < 0 ? 1 : 0);
}
