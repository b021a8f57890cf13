// Scheme "tflm": the integers of TensorFlow Lite Micro's reference kernels
// (tflite-micro at commit 90b983c2), with gemmlowp's double rounding.
//
// Rounding: MultiplyByQuantizedMultiplier rounds twice. The saturating
// rounding doubling high multiply rounds x * M / 2^31 to nearest with ties
// toward +infinity, then the rounding right shift divides by 2^e with ties
// away from zero. The two roundings can compound: x = 1 with the multiplier
// of 0.25 (M = 2^30, e = 1) gives 1, not 0. ADD uses the same primitive
// three times. Average pooling divides its raw integer sum with ties away
// from zero, and concatenation and QUANTIZE round float32 values half away
// from zero.
//
// Range: every invoke-time intermediate is an int32, because
// runtime/fixedpoint.ts builds the 64-bit product from 16-bit limbs. The
// bias is added with int32 wrapping, as in TFLM's accumulator.
//
// Cost: integer only at invoke except average pooling's one division per
// window, which uses JavaScript's `/` as microq's TFLM pooling kernel does,
// and quantizeReal, whose input is a float.

import { multiplyByQuantizedMultiplier } from "../fixedpoint.js";
import { quantizeMultiplier } from "../quantize_multiplier.js";
import { RequantizationScheme } from "./scheme.js";
import { tfliteAccumulator, tfliteAdd, tfliteAveragePool, tfliteQuantizeReal, tfliteRescale } from "./tflite_common.js";

export const tflmScheme: RequantizationScheme = {
  name: "tflm",
  description: "TensorFlow Lite Micro reference kernels: gemmlowp double rounding",
  usesFloatAtInvoke: false,
  accumulator: (layer) => tfliteAccumulator("tflm", layer, quantizeMultiplier, multiplyByQuantizedMultiplier),
  add: (params) => tfliteAdd("tflm", params, multiplyByQuantizedMultiplier),
  rescale: (params) => tfliteRescale("tflm", params),
  averagePool: (params) => tfliteAveragePool("tflm", params),
  quantizeReal: tfliteQuantizeReal,
};
