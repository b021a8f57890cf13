// HARD_SWISH on int8 tensors under the "tflm" scheme, as TFLM 90b983c2's
// hard_swish_common.cc and reference_ops::HardSwish (reference/hard_swish.h)
// compute it, with every intermediate in int16 as there:
//   x * relu6(x + 3) / 6 = (x on the output scale) * ("reluish" value in [0, 1]),
// where the reluish value is x rescaled so that 3 becomes 2^15, saturated to
// [-1, 1], then mapped affinely to [0, 1].

import { UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { acceptsTflmInput, clamp, int8TableLookup, prepareActivationTensors, tabulateInt8 } from "./activation_common.js";

const INT16_MIN = -32768;
const INT16_MAX = 32767;

/** Multipliers of TFLM's HardSwishParams, each an int16 Q15 fraction with a power-of-two exponent. */
export interface HardSwishParameters {
  inputZeroPoint: number;
  outputZeroPoint: number;
  /** From the high-resolution input scale (input_scale / 2^7) to 3 / 2^15. */
  reluishMultiplierQ15: number;
  reluishExponent: number;
  /** From the high-resolution input scale to the output scale. Its exponent is at most 0. */
  outputMultiplierQ15: number;
  outputExponent: number;
}

/** Wraps to int16 as a C++ conversion to int16_t does. */
function toInt16(x: number): number {
  return (x << 16) >> 16;
}

/** x * 2^amount saturated to int16, for amount in [0, 30]. */
function saturatingLeftShiftInt16(x: number, amount: number): number {
  return clamp(x * 2 ** amount, INT16_MIN, INT16_MAX);
}

/** gemmlowp's int16 SaturatingRoundingDoublingHighMul: round(a * b / 2^15), ties toward +infinity. */
export function saturatingRoundingDoublingHighMulInt16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  const product = a * b;
  const nudge = product >= 0 ? 1 << 14 : 1 - (1 << 14);
  // |product + nudge| < 2^30, so | 0 truncates toward zero as C's division does.
  return toInt16(((product + nudge) / 32768) | 0);
}

/** TFLM's SaturatingDoublingHighMul: a * b / 2^15 truncated toward zero. */
export function saturatingDoublingHighMulInt16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  return toInt16(((a * b) / 32768) | 0);
}

/**
 * gemmlowp's RoundingDivideByPOT instantiated for int16, exponent in [0, 31].
 * Its mask (1 << exponent) - 1 is truncated to int16, so for an exponent of
 * 16 or more it is -1 and the result is 1 for x >= 0 and -1 for x < 0, which
 * this function reproduces.
 */
export function roundingDivideByPOTInt16(x: number, exponent: number): number {
  const mask = toInt16(exponent >= 31 ? -1 : (1 << exponent) - 1);
  const remainder = x & mask;
  const threshold = toInt16((mask >> 1) + (x < 0 ? 1 : 0));
  return toInt16((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/** Returns TFLM's int8 HARD_SWISH output for one stored input value. */
export function hardSwishValue(value: number, p: HardSwishParameters): number {
  // |value - zeroPoint| <= 255, and 255 * 2^7 still fits int16.
  const inputOnHiresScale = toInt16((value - p.inputZeroPoint) * 128);
  const inputOnPreshiftOutputScale = saturatingRoundingDoublingHighMulInt16(inputOnHiresScale, p.outputMultiplierQ15);

  // Rescale to the scale where 3 is 2^15. A left shift is split so that any
  // saturation happens at the last bit, after the multiplier.
  let reluish = inputOnHiresScale;
  if (p.reluishExponent > 0) reluish = saturatingLeftShiftInt16(reluish, p.reluishExponent - 1);
  reluish = saturatingRoundingDoublingHighMulInt16(reluish, p.reluishMultiplierQ15);
  if (p.reluishExponent > 0) reluish = saturatingLeftShiftInt16(reluish, 1);
  if (p.reluishExponent < 0) reluish = roundingDivideByPOTInt16(reluish, -p.reluishExponent);

  // From [-1, 1] in Q15 to [0, 1] in Q15.
  reluish = (reluish + (1 << 15)) >> 1;

  const preshiftOutput = saturatingDoublingHighMulInt16(reluish, inputOnPreshiftOutputScale);
  // The zero point is added in int16, which wraps as TFLM's int16_t sum does.
  const output = toInt16(roundingDivideByPOTInt16(preshiftOutput, -p.outputExponent) + p.outputZeroPoint);
  return clamp(output, -128, 127);
}

/**
 * Returns the int16 form of a Q31 multiplier, as TFLM's
 * DownScaleInt32ToInt16Multiplier: rounded to Q15, capped at 32767.
 */
export function downScaleToInt16Multiplier(multiplierQ31: number): number {
  if (multiplierQ31 >= 0x7fffffff - (1 << 15)) return INT16_MAX;
  return (multiplierQ31 + (1 << 15)) >> 16;
}

/** Derives HardSwishParams as TFLM's HardSwishPrepare, in float32 where TFLM divides in float32. */
export function hardSwishParameters(
  op: OperatorDef,
  inputScale: number,
  inputZeroPoint: number,
  outputScale: number,
  outputZeroPoint: number,
): HardSwishParameters {
  const hiresInputScale = Math.fround(Math.fround(1 / 128) * inputScale);
  const reluishScale = Math.fround(3 / 32768);
  const output = quantizeMultiplier(Math.fround(hiresInputScale / outputScale), `operator ${op.index} (HARD_SWISH) output`);
  const reluish = quantizeMultiplier(Math.fround(hiresInputScale / reluishScale), `operator ${op.index} (HARD_SWISH) reluish`);
  return {
    inputZeroPoint,
    outputZeroPoint,
    reluishMultiplierQ15: downScaleToInt16Multiplier(reluish.multiplierQ31),
    reluishExponent: reluish.shift,
    outputMultiplierQ15: downScaleToInt16Multiplier(output.multiplierQ31),
    outputExponent: output.shift,
  };
}

export const tflmHardSwishKernel: Kernel = {
  name: "HARD_SWISH",
  accepts: acceptsTflmInput([TensorType.INT8]),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, [TensorType.INT8]);
    const parameters = hardSwishParameters(op, input.scale, input.zeroPoint, output.scale, output.zeroPoint);
    if (parameters.outputExponent > 0) {
      throw new UnsupportedError(
        `operator ${op.index} (HARD_SWISH): input scale ${input.scale} of ${describeTensor(input.tensor)} is 2^7 times ` +
          `output scale ${output.scale} of ${describeTensor(output.tensor)} or more; TFLM's HARD_SWISH needs the ` +
          `output step above input_scale / 128, so requantize the model with the TFLite converter`,
      );
    }

    const table = tabulateInt8((value) => hardSwishValue(value, parameters));
    context.notePersistentBytes(table.byteLength);
    return int8TableLookup(input.tensor.index, output.tensor.index, table);
  },
};
