// Scheme "single": TFLite built with TFLITE_SINGLE_ROUNDING (the rounding
// CMSIS-NN uses), from tflite-micro at commit 90b983c2,
// tensorflow/lite/kernels/internal/common.cc and quantization_util.cc.
//
// Rounding: MultiplyByQuantizedMultiplier rounds once, shifting the exact
// 64-bit product x * M plus 2^(t - 1) right by t = 31 - shift. Ties
// therefore round toward +infinity (2.5 -> 3, -2.5 -> -2), not away from
// zero as some descriptions of this build state. ADD is TFLM's
// arithmetic with this multiply; average pooling, concatenation and
// QUANTIZE do not use the multiply and are TFLM's (ties away from zero).
//
// Range: the 64-bit product is built from 16-bit limbs in int32
// (wide_product.ts). A result outside int32, possible only with a left
// shift, wraps as TFLite's int64-to-int32 conversion does.
//
// NOTE: this build's QuantizeMultiplier clamps a real multiplier of about
// 2^30 or more to (2^31 - 1) * 2^-1 instead of failing. The product with
// any accumulator of magnitude 3 or more then leaves int32, which TFLite
// leaves undefined (a debug-only check, then a wrapping conversion), so
// microq rejects such a multiplier with InvalidModelError, as the tflm
// scheme does.
//
// Cost: integer only at invoke except average pooling's one division per
// window, as in the tflm scheme, and quantizeReal, whose input is a float.

import { quantizeMultiplier } from "../quantize_multiplier.js";
import { RequantizationScheme } from "./scheme.js";
import { tfliteAccumulator, tfliteAdd, tfliteAveragePool, tfliteQuantizeReal, tfliteRescale } from "./tflite_common.js";
import { multiplyShiftRoundHalfUp } from "./wide_product.js";

/** Single-rounding MultiplyByQuantizedMultiplier for shift in [-31, 30]. */
function multiplyByQuantizedMultiplierSingleRounding(x: number, multiplierQ31: number, shift: number): number {
  return multiplyShiftRoundHalfUp(x, multiplierQ31, 31 - shift);
}

export const singleScheme: RequantizationScheme = {
  name: "single",
  description: "TFLite single-rounding build (TFLITE_SINGLE_ROUNDING, as in CMSIS-NN): one rounding, ties toward +infinity",
  usesFloatAtInvoke: false,
  accumulator: (layer) =>
    tfliteAccumulator("single", layer, quantizeMultiplier, multiplyByQuantizedMultiplierSingleRounding),
  add: (params) => tfliteAdd("single", params, multiplyByQuantizedMultiplierSingleRounding),
  rescale: (params) => tfliteRescale("single", params),
  averagePool: (params) => tfliteAveragePool("single", params),
  quantizeReal: tfliteQuantizeReal,
};
