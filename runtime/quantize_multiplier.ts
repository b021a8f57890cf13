// Derivation of integer requantization parameters from real scales, done
// once at prepare time. Floating point is allowed here because it never runs
// inside invoke().

import { InvalidModelError } from "./errors.js";

/** A real multiplier M as M = multiplierQ31 * 2^(shift - 31). */
export interface QuantizedMultiplier {
  /** Q31 fraction in [2^30, 2^31), or 0 for a zero or flushed multiplier. */
  multiplierQ31: number;
  /** Power-of-two exponent; positive means a left shift. */
  shift: number;
}

/**
 * Splits x > 0 into a fraction in [0.5, 1) and a power of two, like C's
 * frexp, exactly (multiplying a double by 2 never rounds).
 */
export function frexp(x: number): { fraction: number; exponent: number } {
  let fraction = x;
  let exponent = 0;
  while (fraction >= 1) {
    fraction /= 2;
    exponent++;
  }
  while (fraction < 0.5) {
    fraction *= 2;
    exponent--;
  }
  return { fraction, exponent };
}

/** Rounds half away from zero, as C's std::round. */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * Derives the Q31 multiplier and shift of a real multiplier as TFLM's
 * QuantizeMultiplier does. The frexp fraction times 2^31 is rounded half away
 * from zero and renormalized when it rounds up to 2^31. A shift below -31
 * (a multiplier under about 2^-31) flushes the multiplier to 0, and a shift
 * above 30 (a multiplier of about 2^30 or more) throws InvalidModelError.
 * `subject` names the operator in error messages.
 */
export function quantizeMultiplier(realMultiplier: number, subject: string): QuantizedMultiplier {
  const quantized = quantizeMultiplierUnbounded(realMultiplier, subject);
  if (quantized.shift > 30) {
    throw new InvalidModelError(
      `${subject}: rescale factor ${realMultiplier} is 2^${quantized.shift - 1} or more, beyond ` +
        `the int32 requantization range; check the tensors' quantization scales`,
    );
  }
  return quantized;
}

/**
 * Derives the Q31 multiplier and shift as quantizeMultiplier does, but lets
 * the shift exceed 30, so that the caller decides what such a multiplier
 * becomes. Throws InvalidModelError for a negative or non-finite multiplier.
 */
export function quantizeMultiplierUnbounded(realMultiplier: number, subject: string): QuantizedMultiplier {
  if (!(realMultiplier >= 0) || !Number.isFinite(realMultiplier)) {
    throw new InvalidModelError(
      `${subject}: rescale factor ${realMultiplier} is not a finite non-negative number; ` +
        `check the tensors' quantization scales`,
    );
  }
  if (realMultiplier === 0) return { multiplierQ31: 0, shift: 0 };

  const { fraction, exponent } = frexp(realMultiplier);
  let multiplierQ31 = roundHalfAwayFromZero(fraction * 0x80000000);
  let shift = exponent;
  if (multiplierQ31 === 0x80000000) {
    multiplierQ31 /= 2;
    shift++;
  }
  if (shift < -31) {
    return { multiplierQ31: 0, shift: 0 };
  }
  return { multiplierQ31, shift };
}
