// Scheme "qnnpack-q31": original QNNPACK's Q31 requantization
// (pytorch/QNNPACK at commit 7d2a4e99, src/requantization/q31-scalar.c and
// qnnp_compute_requantization_params in src/qnnpack/requantization.h), the
// arithmetic of its convolution and fully connected operators.
//
// Parameters come from the bits of the float32 scale fl(fl(sx * sw) / so),
// which must lie in [2^-32, 1). The multiplier is the 24-bit mantissa
// shifted left by 7 (in [2^30, 2^31 - 128]), and the right shift is
// 126 - biased exponent (in [0, 31]).
//
// Rounding: twice, as gemmlowp does. The Q31 product (x * M + 2^30) >> 31
// rounds ties toward +infinity; the right shift then adds 1 when the
// remainder minus (q < 0) exceeds (2^shift - 1) >> 1, which rounds ties
// away from zero. These are exactly runtime/fixedpoint.ts's
// saturatingRoundingDoublingHighMul (M is never -2^31, so it never
// saturates) and roundingDivideByPOT. Add and average pooling use QNNPACK's
// own kernels (qnnpack_common.ts, ties away from zero). A rescaling copy
// applies this requantization to x - zi with the scale fl(si / so), which
// QNNPACK itself never does. QUANTIZE rounds ties to even, as QNNPACK's
// lrintf-built tables do.
//
// Range: every invoke-time intermediate is an int32; the bias is added with
// int32 wrapping, as in QNNPACK's accumulator. The result plus the zero
// point exceeds int32 only for an accumulator within 2^8 of the int32 limits
// with a scale in [0.5, 1), where JavaScript keeps the exact sum.
//
// Cost: integer only at invoke, apart from quantizeReal, whose input is a
// float.

import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from "../fixedpoint.js";
import {
  QnnpackRequantization,
  qnnpackAccumulator,
  qnnpackAdd,
  qnnpackAveragePool,
  qnnpackQuantizeReal,
  qnnpackRescale,
} from "./qnnpack_common.js";
import { RequantizationScheme } from "./scheme.js";

/** Q31 multiplier of a QNNPACK scale's float32 bits: the mantissa with its implicit bit, shifted left by 7. */
function q31Multiplier(scaleBits: number): number {
  return ((scaleBits & 0x7fffff) | 0x800000) << 7;
}

/** Right shift of a QNNPACK scale's float32 bits, 127 + 31 - 32 - biased exponent. */
function q31Shift(scaleBits: number): number {
  return 126 - (scaleBits >>> 23);
}

/** Rounds the Q31 product with ties toward +infinity, then shifts right with ties away from zero. */
function multiplyShiftQ31(x: number, multiplierQ31: number, shift: number): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplierQ31), shift);
}

const q31Requantization: QnnpackRequantization = {
  scheme: "qnnpack-q31",
  multiplier: q31Multiplier,
  shift: q31Shift,
  multiplyShift: multiplyShiftQ31,
};

export const qnnpackQ31Scheme: RequantizationScheme = {
  name: "qnnpack-q31",
  description: "original QNNPACK, Q31 requantization (q31-scalar.c): double rounding from the float32 scale's bits",
  usesFloatAtInvoke: false,
  accumulator: (layer) => qnnpackAccumulator(q31Requantization, layer),
  add: (params) => qnnpackAdd("qnnpack-q31", params),
  rescale: (params) => qnnpackRescale(q31Requantization, params),
  averagePool: (params) => qnnpackAveragePool("qnnpack-q31", params),
  quantizeReal: qnnpackQuantizeReal,
};
