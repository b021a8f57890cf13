// Scheme "qnnpack-precise": original QNNPACK's precise requantization
// (pytorch/QNNPACK at commit 7d2a4e99, src/requantization/precise-scalar.c;
// its unsigned32, unsigned64 and signed64 variants give the same integers).
// QNNPACK ships it as an alternative to Q31 and tests them against each
// other; its operators use Q31.
//
// Parameters come from the bits of the float32 scale fl(fl(sx * sw) / so),
// which must lie in [2^-32, 1). The multiplier is the 24-bit mantissa with
// its implicit bit and the right shift is 150 - biased exponent (in
// [24, 55]), so multiplier * 2^-shift is the float32 scale exactly.
//
// Rounding: once, to nearest with ties away from zero, of the exact product
// x * scale: sign(x) * ((|x| * multiplier + 2^(shift - 1)) >> shift). Add and
// average pooling use QNNPACK's own kernels (qnnpack_common.ts, ties away
// from zero). A rescaling copy applies this requantization to x - zi with
// the scale fl(si / so), which QNNPACK itself never does. QUANTIZE rounds
// ties to even, as QNNPACK's lrintf-built tables do.
//
// Range: the 64-bit product is built from 16-bit limbs in int32
// (wide_product.ts); since the scale is below 1 the result is an int32. The
// bias is added with int32 wrapping, as in QNNPACK's accumulator.
//
// Cost: integer only at invoke, apart from quantizeReal, whose input is a
// float.

import {
  QnnpackRequantization,
  qnnpackAccumulator,
  qnnpackAdd,
  qnnpackAveragePool,
  qnnpackQuantizeReal,
  qnnpackRescale,
} from "./qnnpack_common.js";
import { RequantizationScheme } from "./scheme.js";
import { multiplyShiftRoundHalfAway } from "./wide_product.js";

/** Multiplier of a QNNPACK scale's float32 bits: the 24-bit mantissa with its implicit bit. */
function preciseMultiplier(scaleBits: number): number {
  return (scaleBits & 0x7fffff) | 0x800000;
}

/** Right shift of a QNNPACK scale's float32 bits, 127 + 23 - biased exponent. */
function preciseShift(scaleBits: number): number {
  return 150 - (scaleBits >>> 23);
}

const preciseRequantization: QnnpackRequantization = {
  scheme: "qnnpack-precise",
  multiplier: preciseMultiplier,
  shift: preciseShift,
  multiplyShift: multiplyShiftRoundHalfAway,
};

export const qnnpackPreciseScheme: RequantizationScheme = {
  name: "qnnpack-precise",
  description: "original QNNPACK, precise requantization (precise-scalar.c): one rounding of x * scale, ties away from zero",
  usesFloatAtInvoke: false,
  accumulator: (layer) => qnnpackAccumulator(preciseRequantization, layer),
  add: (params) => qnnpackAdd("qnnpack-precise", params),
  rescale: (params) => qnnpackRescale(preciseRequantization, params),
  averagePool: (params) => qnnpackAveragePool("qnnpack-precise", params),
  quantizeReal: qnnpackQuantizeReal,
};
