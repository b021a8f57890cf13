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
import { channelWeightScales, checkRescaleParams, toFloat32 } from "./common.js";
import {
  pytorchIntegerBias,
  qnnpackAdd,
  qnnpackAveragePool,
  qnnpackChannelScales,
  qnnpackQuantizeReal,
  qnnpackScaleBits,
} from "./qnnpack_common.js";
import { AccumulatorLayer, AccumulatorRequantizer, RequantizationScheme, RescaleParams } from "./scheme.js";

/** Q31 multiplier of a QNNPACK scale's float32 bits: the mantissa with its implicit bit, shifted left by 7. */
function q31Multiplier(scaleBits: number): number {
  return ((scaleBits & 0x7fffff) | 0x800000) << 7;
}

/** Right shift of a QNNPACK scale's float32 bits, 127 + 31 - 32 - biased exponent. */
function q31Shift(scaleBits: number): number {
  return 126 - (scaleBits >>> 23);
}

function accumulator(layer: AccumulatorLayer): AccumulatorRequantizer {
  const weightScales = channelWeightScales("qnnpack-q31", layer);
  const scales = qnnpackChannelScales(layer, weightScales);
  const multipliers = new Int32Array(layer.channels);
  const shifts = new Int32Array(layer.channels);
  for (let channel = 0; channel < layer.channels; channel++) {
    const bits = qnnpackScaleBits("qnnpack-q31", `requantization scale fl(fl(sx * sw) / so) of output channel ${channel}`, scales[channel]);
    multipliers[channel] = q31Multiplier(bits);
    shifts[channel] = q31Shift(bits);
  }

  const bias = pytorchIntegerBias(layer, weightScales);
  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      const product = saturatingRoundingDoublingHighMul((acc + bias[channel]) | 0, multipliers[channel]);
      return roundingDivideByPOT(product, shifts[channel]) + outputZeroPoint;
    },
  };
}

function rescale(params: RescaleParams): (x: number) => number {
  checkRescaleParams("qnnpack-q31", params);
  const inputZeroPoint = params.inputZeroPoint;
  const outputZeroPoint = params.outputZeroPoint;
  const scale = toFloat32(toFloat32(params.inputScale) / toFloat32(params.outputScale));
  // A scale of exactly 1 is outside QNNPACK's range but exact in any rounding.
  if (scale === 1) return (x: number) => x - inputZeroPoint + outputZeroPoint;

  const bits = qnnpackScaleBits("qnnpack-q31", "rescale factor fl(input scale / output scale)", scale);
  const multiplier = q31Multiplier(bits);
  const shift = q31Shift(bits);
  return (x: number) => roundingDivideByPOT(saturatingRoundingDoublingHighMul(x - inputZeroPoint, multiplier), shift) + outputZeroPoint;
}

export const qnnpackQ31Scheme: RequantizationScheme = {
  name: "qnnpack-q31",
  description: "original QNNPACK, Q31 requantization (q31-scalar.c): double rounding from the float32 scale's bits",
  usesFloatAtInvoke: false,
  accumulator,
  add: (params) => qnnpackAdd("qnnpack-q31", params),
  rescale,
  averagePool: (params) => qnnpackAveragePool("qnnpack-q31", params),
  quantizeReal: qnnpackQuantizeReal,
};
