// Rounding rules that PyTorch 1.13's qnnpack and onednn engines share,
// established on the outputs of Debian's python3-torch 1.13.1+dfsg-4
// (x86-64, no fbgemm) and, for quantize_per_tensor, on
// aten/src/ATen/native/quantized/AffineQuantizerBase.cpp (quantize_val
// without FBGEMM).

import { checkRescaleParams, roundHalfToEven, toFloat32 } from "./common.js";
import { RescaleParams, SchemeName } from "./scheme.js";

/**
 * PyTorch's quantize_per_tensor of one float32 value:
 * rne(fl(x * fl(1 / fl(scale)))) plus the zero point. It multiplies by the
 * float32 inverse of the scale, which can differ from dividing by it.
 */
export function pytorchQuantizeReal(real: number, scale: number, zeroPoint: number): number {
  const inverseScale = toFloat32(1 / toFloat32(scale));
  return roundHalfToEven(toFloat32(toFloat32(real) * inverseScale)) + zeroPoint;
}

/**
 * Requantizing copy of quantized cat on both engines: the float formula
 * rne((x - zi) * si / so) + zo in double, ties to even, which reproduces
 * both engines on every value, ties included.
 */
export function pytorchRescale(scheme: SchemeName, params: RescaleParams): (x: number) => number {
  checkRescaleParams(scheme, params);
  const inputScale = params.inputScale;
  const inputZeroPoint = params.inputZeroPoint;
  const outputScale = params.outputScale;
  const outputZeroPoint = params.outputZeroPoint;
  return (x: number) => roundHalfToEven(((x - inputZeroPoint) * inputScale) / outputScale) + outputZeroPoint;
}
