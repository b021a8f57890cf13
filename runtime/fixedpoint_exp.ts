// gemmlowp's fixed-point exp and reciprocal (fixedpoint/fixedpoint.h at
// commit fda83bdc, the version TFLM builds against), as TFLM's int8 softmax,
// LOGISTIC and TANH use them, computed exactly with int32 arithmetic.
//
// A value "in Qm" is an int32 raw value r that represents r / 2^(31 - m),
// with m integer bits besides the sign, like gemmlowp's
// FixedPoint<int32_t, m>. Q0 covers [-1, 1), so 1 itself saturates to
// INT32_MAX.
//
// Sums and differences end in `| 0`, which wraps them like the int32
// arithmetic of the compiled C++. For inputs in each function's documented
// range none of them overflows, and no intermediate leaves int32.

import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from "./fixedpoint.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Raw value of 1 in Q0, saturated to INT32_MAX as gemmlowp's FixedPoint<int32_t, 0>::One(). */
export const Q0_ONE = INT32_MAX;

/**
 * Multiplies x by 2^exponent, with exponent in [-31, 31]: a left shift that
 * saturates to the int32 range for a positive exponent, a rounding divide
 * (ties away from zero) for a negative one. This is gemmlowp's
 * SaturatingRoundingMultiplyByPOT.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  if (exponent === 0) return x;

  // gemmlowp saturates when |x| exceeds this threshold, which is one less
  // than the smallest magnitude whose shift overflows.
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/** Converts a raw value from Q(sourceIntegerBits) to Q(targetIntegerBits), as gemmlowp's Rescale. */
export function rescale(x: number, sourceIntegerBits: number, targetIntegerBits: number): number {
  return saturatingRoundingMultiplyByPOT(x, sourceIntegerBits - targetIntegerBits);
}

/**
 * Returns (a + b) / 2 rounded half away from zero, as gemmlowp's
 * RoundingHalfSum, without forming the 33-bit sum.
 */
export function roundingHalfSum(a: number, b: number): number {
  // a + b = 2 * halves + lowBits, with halves = floor(a / 2) + floor(b / 2)
  // inside int32 and lowBits in [0, 2].
  const halves = (a >> 1) + (b >> 1);
  const lowBits = (a & 1) + (b & 1);

  // lowBits 2 always adds one. lowBits 1 leaves a half, which rounds up
  // when the sum 2 * halves + 1 is positive, that is when halves >= 0.
  if (lowBits === 2) return halves + 1;
  if (lowBits === 1 && halves >= 0) return halves + 1;
  return halves;
}

// Q0 constants of gemmlowp's exp: exp(-1/8) and 1/3.
const EXP_MINUS_ONE_EIGHTH_Q0 = 1895147668;
const ONE_THIRD_Q0 = 715827883;
const ONE_EIGHTH_Q0 = 1 << 28;

/**
 * Returns exp(a) in Q0 for a in Q0 within [-1/4, 0), from the Taylor
 * expansion of degree 4 around -1/8, as gemmlowp's
 * exp_on_interval_between_negative_one_quarter_and_0_excl. gemmlowp's own
 * test allows an error of 500 raw units (about 2.3e-7).
 */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  // x = a + 1/8 lies in [-1/8, 1/8), so every power below is small in Q0.
  const x = (a + ONE_EIGHTH_Q0) | 0;
  const x2 = saturatingRoundingDoublingHighMul(x, x);
  const x3 = saturatingRoundingDoublingHighMul(x2, x);
  const x4 = saturatingRoundingDoublingHighMul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);

  // ((x^4 / 4 + x^3) / 3 + x^2) / 2 = x^4 / 24 + x^3 / 6 + x^2 / 2
  const cubicAndQuartic = saturatingRoundingDoublingHighMul((x4Over4 + x3) | 0, ONE_THIRD_Q0);
  const higherTerms = roundingDivideByPOT((cubicAndQuartic + x2) | 0, 1);

  // exp(a) = exp(-1/8) * (1 + x + x^2 / 2 + x^3 / 6 + x^4 / 24)
  const product = saturatingRoundingDoublingHighMul(EXP_MINUS_ONE_EIGHTH_Q0, (x + higherTerms) | 0);
  return (EXP_MINUS_ONE_EIGHTH_Q0 + product) | 0;
}

// The barrel shifter of exp_on_negative_values: bit (fractionalBits + k) of
// the input's distance below the quarter grid multiplies the result by
// exp(-2^k), given in Q0.
const BARREL_SHIFTER_EXPONENTS = new Int32Array([-2, -1, 0, 1, 2, 3, 4]);
const BARREL_SHIFTER_MULTIPLIERS_Q0 = new Int32Array([
  1672461947, // exp(-1/4)
  1302514674, // exp(-1/2)
  790015084, // exp(-1)
  290630308, // exp(-2)
  39332535, // exp(-4)
  720401, // exp(-8)
  242, // exp(-16)
]);

/**
 * Returns exp(a) in Q0 for a <= 0 given in Q(integerBits), integerBits in
 * [0, 29], as gemmlowp's exp_on_negative_values: exp of a's offset within
 * its quarter, times exp(-2^k) for each bit k of the remaining multiple of
 * 1/4. gemmlowp's own test allows an error of 500 raw units (about 2.3e-7).
 */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;

  // a = aModQuarterMinusOneQuarter - remainder, with the first term in
  // [-1/4, 0) and remainder a non-negative multiple of 1/4.
  const aModQuarterMinusOneQuarter = ((a & mask) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;

  for (let i = 0; i < BARREL_SHIFTER_EXPONENTS.length; i++) {
    const exponent = BARREL_SHIFTER_EXPONENTS[i];
    // The format has no bit for 2^k when k >= integerBits.
    if (integerBits > exponent && (remainder & (1 << (fractionalBits + exponent))) !== 0) {
      result = saturatingRoundingDoublingHighMul(result, BARREL_SHIFTER_MULTIPLIERS_Q0[i]);
    }
  }

  // Formats that reach below -32 return 0 there, because the barrel shifter
  // has no bits left. exp(-32) is far below the Q0 resolution anyway.
  if (integerBits > 5) {
    const minusThirtyTwo = -(1 << (36 - integerBits));
    if (a < minusThirtyTwo) result = 0;
  }
  if (a === 0) result = Q0_ONE;
  return result;
}

// Q2 constants of the Newton-Raphson division: 48/17 and -32/17.
const FORTY_EIGHT_OVER_SEVENTEEN_Q2 = 1515870810;
const MINUS_THIRTY_TWO_OVER_SEVENTEEN_Q2 = -1010580540;
const ONE_Q2 = 1 << 29;

/**
 * Returns 2 / (1 + a) in Q2 for a in Q0 within [0, 1]: gemmlowp's three
 * Newton-Raphson iterations on the half denominator (1 + a) / 2, started
 * from the linear estimate 48/17 - 32/17 * d. Both of gemmlowp's
 * one_over_one_plus_x_for_x_in_0_1 and one_minus_x_over_one_plus_x_for_x_in_0_1
 * start from it.
 */
function twoOverOnePlusXQ2(a: number): number {
  // halfDenominator is in [1/2, 1], so its reciprocal x stays in [1, 2] and
  // fits Q2 with room to spare.
  const halfDenominator = roundingHalfSum(a, Q0_ONE);
  let x = (FORTY_EIGHT_OVER_SEVENTEEN_Q2 + saturatingRoundingDoublingHighMul(halfDenominator, MINUS_THIRTY_TWO_OVER_SEVENTEEN_Q2)) | 0;

  for (let i = 0; i < 3; i++) {
    // Q0 times Q2 is Q2, and Q2 times Q2 is Q4, rescaled back to Q2.
    const halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x);
    const oneMinusHalfDenominatorTimesX = (ONE_Q2 - halfDenominatorTimesX) | 0;
    const correction = rescale(saturatingRoundingDoublingHighMul(x, oneMinusHalfDenominatorTimesX), 4, 2);
    x = (x + correction) | 0;
  }
  return x;
}

/**
 * Returns 1 / (1 + a) in Q0 for a in Q0 within [0, 1), as gemmlowp's
 * one_over_one_plus_x_for_x_in_0_1. gemmlowp's own test allows an error of
 * 6 raw units.
 */
export function oneOverOnePlusXForXIn01(a: number): number {
  // The raw value of 2 / (1 + a) in Q2, read in Q1, is 1 / (1 + a). Rescaling
  // Q1 to Q0 then saturates 1 to Q0_ONE.
  return rescale(twoOverOnePlusXQ2(a), 1, 0);
}

/**
 * Returns (1 - a) / (1 + a) in Q0 for a in Q0 within [0, 1], as gemmlowp's
 * one_minus_x_over_one_plus_x_for_x_in_0_1: 2 / (1 + a) minus 1.
 */
export function oneMinusXOverOnePlusXForXIn01(a: number): number {
  return rescale((twoOverOnePlusXQ2(a) - ONE_Q2) | 0, 2, 0);
}

/**
 * Returns the reciprocal of a positive x given in Q(integerBits), scaled by
 * 2^numBitsOverUnit into [1/2, 1] as a Q0 raw value, where numBitsOverUnit
 * is integerBits - clz32(x) (see reciprocalBitsOverUnit). This is TFLM's
 * GetReciprocal, which returns both values.
 */
export function getReciprocal(x: number, integerBits: number): number {
  const headroomPlusOne = Math.clz32(x);
  // x shifted to put its leading one at bit 31 represents a number in
  // [1, 2) in unsigned Q1. Clearing that bit leaves the fraction above 1.
  const shiftedMinusOne = (x << headroomPlusOne) & INT32_MAX;
  return oneOverOnePlusXForXIn01(shiftedMinusOne);
}

/** Returns the power of two that getReciprocal scaled 1/x by, so 1/x = getReciprocal(x) * 2^-bits in real terms. */
export function reciprocalBitsOverUnit(x: number, integerBits: number): number {
  return integerBits - Math.clz32(x);
}
