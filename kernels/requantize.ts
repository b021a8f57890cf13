// Per-output-channel requantization parameters of the conv-like kernels,
// derived once at prepare. The comments below show that the requantization
// the hot loops inline equals TFLM's MultiplyByQuantizedMultiplier, which is
// roundingDivideByPOT(saturatingRoundingDoublingHighMul(acc << left, M), e).
//
// Each channel uses one of three forms, chosen by its shift and by a bound
// on its accumulator (accumulatorBound):
//
// NARROW_FORM, for a right shift e >= 1 and |acc| <= 2^19. M splits into
// limbs of 10, 11 and 10 bits, M = m2 * 2^21 + m1 * 2^10 + m0, so each
// product with acc stays below 2^30:
//
//   t = acc * m1 + ((acc * m0) >> 10);
//   r = (acc * m2 + ((t + 2^20) >> 11)) >> 10;
//
// acc * M + 2^30 = 2^10 * (acc * m2 * 2^11 + t + 2^20) + (acc * m0 & 1023),
// so r = floor((acc * M + 2^30) / 2^31). That is
// saturatingRoundingDoublingHighMul(acc, M), whose one overflow case needs
// M = INT32_MIN, which a multiplier (M >= 0) never is.
//
// WIDE_FORM, for e >= 1 and |acc| <= 2^29: runtime/fixedpoint.ts's 16-bit
// limb product with M's limbs taken once a channel,
//
//   high = acc >> 16;  low = acc & 0xffff;
//   middle1 = high * (M & 0xffff) + (imul(low, M & 0xffff) >>> 16);
//   middle2 = low * (M >> 16) + (middle1 & 0xffff);
//   r = ((high * (M >> 16) + (middle1 >> 16) + (middle2 >> 16)) << 1)
//       + (((middle2 & 0xffff) + 0x4000) >> 15);
//
// without the overflow test (M >= 0) and without the final `| 0`: since
// M < 2^31, |r| <= |acc| + 1, so 2 * high cannot wrap.
//
// Both forms then divide r by 2^e, rounding half away from zero, as
// roundingDivideByPOT:
//
//   result = (r + 2^(e-1) + (r >> 31)) >> e;
//
// Writing r = q * 2^e + remainder, this adds 1 to q exactly when the
// remainder exceeds 2^(e-1) - 1 + (r < 0), which is gemmlowp's threshold
// test, because r >> 31 is -1 for a negative r and 0 otherwise. The sum
// stays below 2^31 since |r| <= 2^29 + 1 and 2^(e-1) <= 2^30.
//
// EXACT_FORM, for every other channel (a left shift, or a larger bound):
// requantizeExact calls multiplyByQuantizedMultiplier.

import { multiplyByQuantizedMultiplier } from "../runtime/fixedpoint.js";
import { WeightSums } from "./weight_packing.js";

export const NARROW_FORM = 0;
export const WIDE_FORM = 1;
export const EXACT_FORM = 2;

/** Largest accumulator magnitude of NARROW_FORM and of WIDE_FORM. */
const NARROW_ACCUMULATOR_LIMIT = 1 << 19;
const WIDE_ACCUMULATOR_LIMIT = 1 << 29;

export interface ChannelRequantization {
  /**
   * Bias plus the input offset times the sum of the channel's weights: the
   * accumulator start when the kernel multiplies raw int8 inputs and
   * padding taps read the input zero point.
   */
  readonly foldedBias: Int32Array;
  /** Q31 multiplier of each channel, which the hot loops split into limbs. */
  readonly multipliers: Int32Array;
  /** Shift of each channel as TFLM stores it. The inlined forms shift right by e = -shift. */
  readonly shifts: Int32Array;
  /** NARROW_FORM, WIDE_FORM or EXACT_FORM for each channel. */
  readonly forms: Uint8Array;
  /** Bytes of foldedBias and forms, the arrays prepareRequantization allocates. */
  readonly byteLength: number;
}

/**
 * Returns a bound on |acc| for one channel. TFLM's accumulator is bias plus
 * w * (x - zeroPoint) over the in-bounds taps, where x - zeroPoint lies in
 * [-128 - zeroPoint, 127 - zeroPoint], a range that contains 0. So a skipped
 * padding tap stays inside the same bounds, and acc lies between the two
 * sums taken with every positive weight at one end of the range and every
 * negative weight at the other.
 */
export function accumulatorBound(bias: number, positiveSum: number, negativeSum: number, inputZeroPoint: number): number {
  const lowest = -128 - inputZeroPoint;
  const highest = 127 - inputZeroPoint;
  const minimum = bias + positiveSum * lowest + negativeSum * highest;
  const maximum = bias + positiveSum * highest + negativeSum * lowest;
  return Math.max(Math.abs(minimum), Math.abs(maximum));
}

/**
 * Derives the requantization arrays of the output channels from each
 * channel's sums of positive and of negative weights. The bias absorbs
 * inputZeroPoint times the channel's weight sum.
 */
export function prepareRequantization(
  bias: Int32Array,
  weightSums: WeightSums,
  inputZeroPoint: number,
  multipliers: Int32Array,
  shifts: Int32Array,
): ChannelRequantization {
  const channels = bias.length;
  const foldedBias = new Int32Array(channels);
  const forms = new Uint8Array(channels);
  for (let c = 0; c < channels; c++) {
    const positiveSum = weightSums.positiveSums[c];
    const negativeSum = weightSums.negativeSums[c];
    // TFLM adds the offset inside its int32 accumulator, so wrap like it.
    foldedBias[c] = (bias[c] - inputZeroPoint * (positiveSum + negativeSum)) | 0;
    const bound = accumulatorBound(bias[c], positiveSum, negativeSum, inputZeroPoint);
    if (shifts[c] >= 0 || bound > WIDE_ACCUMULATOR_LIMIT) forms[c] = EXACT_FORM;
    else forms[c] = bound <= NARROW_ACCUMULATOR_LIMIT ? NARROW_FORM : WIDE_FORM;
  }
  return { foldedBias, multipliers, shifts, forms, byteLength: foldedBias.byteLength + forms.byteLength };
}

/** Requantizes one accumulator of an EXACT_FORM channel. */
export function requantizeExact(acc: number, requantization: ChannelRequantization, channel: number): number {
  return multiplyByQuantizedMultiplier(acc, requantization.multipliers[channel], requantization.shifts[channel]);
}
