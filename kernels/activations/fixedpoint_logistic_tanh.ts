// gemmlowp's fixed-point logistic and tanh (fixedpoint/fixedpoint.h at
// commit 719139ce, the version TFLM 90b983c2 downloads), as TFLM's int8
// LOGISTIC and TANH call them on a Q4 input, computed exactly with int32
// arithmetic. Raw values follow the Qm convention of runtime/fixedpoint_exp.ts:
// r represents r / 2^(31 - m).

import { Q0_ONE, expOnNegativeValues, oneMinusXOverOnePlusXForXIn01, oneOverOnePlusXForXIn01 } from "../../runtime/fixedpoint_exp.js";

/** Raw value of 1/2 in Q0. */
const Q0_ONE_HALF = 1 << 30;

/**
 * Returns 1 / (1 + e^-a) in Q0 for a raw value a in Q(integerBits), as
 * gemmlowp's logistic: the positive half from exp(-|a|), the negative half
 * as 1 minus it, and exactly 1/2 at 0. integerBits is in [0, 29].
 */
export function logisticQ0(a: number, integerBits: number): number {
  if (a === 0) return Q0_ONE_HALF;

  // exp's argument is -|a|, and -INT32_MIN wraps as the C++ negation does.
  const minusAbs = a > 0 ? -a | 0 : a;
  const resultIfPositive = oneOverOnePlusXForXIn01(expOnNegativeValues(minusAbs, integerBits));
  return a > 0 ? resultIfPositive : (Q0_ONE - resultIfPositive) | 0;
}

/**
 * Returns tanh(a) in Q0 for a raw value a in Q(integerBits), as gemmlowp's
 * tanh: -tanh(-|a|) = (1 - e^(-2|a|)) / (1 + e^(-2|a|)), with the sign of a
 * restored and exactly 0 at 0. integerBits is in [0, 28].
 */
export function tanhQ0(a: number, integerBits: number): number {
  if (a === 0) return 0;

  // Doubling the argument only reinterprets the raw value with one more
  // integer bit, as gemmlowp's ExactMulByPot<1> does.
  const minusAbs = a < 0 ? a : -a | 0;
  const negTanhOfMinusAbs = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(minusAbs, integerBits + 1));
  return a < 0 ? -negTanhOfMinusAbs | 0 : negTanhOfMinusAbs;
}
