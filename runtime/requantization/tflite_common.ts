// TFLite's quantized arithmetic, shared by the "tflm" (double rounding) and
// "single" (single rounding) schemes. The two builds differ only in
// MultiplyByQuantizedMultiplier and in how QuantizeMultiplier treats a
// multiplier of 2^30 or more, so both are parameters here. Sources:
// tflite-micro at commit 90b983c2, tensorflow/lite/micro/kernels/add_common.cc,
// kernels/internal/reference/integer_ops/add.h and pooling.h,
// reference/concatenation.h (ConcatenationWithScaling), reference/quantize.h
// (AffineQuantize) and kernels/kernel_util.cc.

import { UnsupportedError } from "../errors.js";
import { QuantizedMultiplier, quantizeMultiplier } from "../quantize_multiplier.js";
import {
  channelWeightScales,
  checkAddParams,
  checkDerivedParameter,
  checkRescaleParams,
  int32ChannelBias,
  roundHalfAway,
  toFloat32,
} from "./common.js";
import {
  AccumulatorLayer,
  AccumulatorRequantizer,
  AddParams,
  AddRequantizer,
  AverageRequantizer,
  AveragePoolParams,
  RescaleParams,
  SchemeName,
} from "./scheme.js";

/** Multiplies an int32 by multiplierQ31 * 2^(shift - 31) with one build's rounding. */
export type MultiplyByQuantizedMultiplier = (x: number, multiplierQ31: number, shift: number) => number;

/** Derives a Q31 multiplier and shift from a real multiplier, as one build's QuantizeMultiplier. */
export type DeriveMultiplier = (realMultiplier: number, subject: string) => QuantizedMultiplier;

/** ADD's left shift of the centered inputs for 8-bit activations (16-bit ones use 15). */
const ADD_LEFT_SHIFT = 20;

/**
 * Returns the requantizer of a conv or fully connected layer. TFLM derives
 * a conv multiplier as double(sx) * double(sw) / double(so). A per-tensor
 * fully connected one is the float32 product fl(sx * sw) divided in double
 * (GetQuantizedConvolutionMultipler), and per-channel fully connected uses
 * doubles as conv does.
 */
export function tfliteAccumulator(
  scheme: SchemeName,
  layer: AccumulatorLayer,
  derive: DeriveMultiplier,
  multiply: MultiplyByQuantizedMultiplier,
): AccumulatorRequantizer {
  const weightScales = channelWeightScales(scheme, layer);
  const channels = layer.channels;
  const inputScale = layer.inputScale;
  const outputScale = layer.outputScale;
  const float32Product = layer.kind === "fully_connected" && layer.weightScales.length === 1;

  const multipliers = new Int32Array(channels);
  const shifts = new Int32Array(channels);
  for (let channel = 0; channel < channels; channel++) {
    const productScale = float32Product ? toFloat32(inputScale * weightScales[channel]) : inputScale * weightScales[channel];
    const quantized = derive(productScale / outputScale, `requantization scheme "${scheme}", output channel ${channel}`);
    multipliers[channel] = quantized.multiplierQ31;
    shifts[channel] = quantized.shift;
  }

  const bias = integerBias(scheme, layer, weightScales);
  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      // TFLM adds the bias inside its int32 accumulator, so wrap as it does.
      return multiply((acc + bias[channel]) | 0, multipliers[channel], shifts[channel]) + outputZeroPoint;
    },
  };
}

/**
 * Returns the bias of each channel as int32: an int32 bias as stored, zeros
 * without a bias, and a float32 bias quantized to round(b / (sx * sw)) with
 * ties away from zero, computed in double. A float32 bias that is not
 * finite or leaves int32 throws InvalidModelError (int32ChannelBias).
 * NOTE: TFLite models store int32 biases, so no TFLite source fixes the
 * rule for a float bias, which comes from PyTorch. This one is exact up to
 * the rounding of the quotient.
 */
function integerBias(scheme: SchemeName, layer: AccumulatorLayer, weightScales: Float64Array): Int32Array {
  return int32ChannelBias(scheme, layer, (real, channel) => roundHalfAway(real / (layer.inputScale * weightScales[channel])));
}

/**
 * Returns the adder of TFLM's 8-bit ADD (CalculateOpDataAdd and AddFunc).
 * Both centered inputs are shifted left by 20 bits and scaled by Q31
 * multipliers of s / (2 * max(sa, sb)). Their sum is scaled by
 * 2 * max(sa, sb) / (2^20 * so), each step with `multiply`.
 */
export function tfliteAdd(scheme: SchemeName, params: AddParams, multiply: MultiplyByQuantizedMultiplier): AddRequantizer {
  checkAddParams(scheme, params);

  const twiceMaxInputScale = 2 * Math.max(params.aScale, params.bScale);
  const a = multiplierBelowOne(scheme, "first input", params.aScale / twiceMaxInputScale);
  const b = multiplierBelowOne(scheme, "second input", params.bScale / twiceMaxInputScale);
  const output = multiplierBelowOne(scheme, "output", twiceMaxInputScale / ((1 << ADD_LEFT_SHIFT) * params.outputScale));

  const aZeroPoint = params.aZeroPoint;
  const bZeroPoint = params.bZeroPoint;
  const outputZeroPoint = params.outputZeroPoint;
  const aMultiplier = a.multiplierQ31;
  const aShift = a.shift;
  const bMultiplier = b.multiplierQ31;
  const bShift = b.shift;
  const outputMultiplier = output.multiplierQ31;
  const outputShift = output.shift;
  return {
    add(aValue: number, bValue: number): number {
      // Range: a centered 8-bit input is at most 255 in magnitude, so the
      // shifted one stays below 2^28, and each scaled input, at most half
      // of that, keeps their sum inside int32.
      const aScaled = multiply((aValue - aZeroPoint) << ADD_LEFT_SHIFT, aMultiplier, aShift);
      const bScaled = multiply((bValue - bZeroPoint) << ADD_LEFT_SHIFT, bMultiplier, bShift);
      return multiply(aScaled + bScaled, outputMultiplier, outputShift) + outputZeroPoint;
    },
  };
}

/**
 * Derives a multiplier as QuantizeMultiplierSmallerThanOneExp does. TFLite
 * aborts unless the real multiplier lies in (0, 1) with a shift of at most
 * 0, and this function throws UnsupportedError there.
 */
function multiplierBelowOne(scheme: SchemeName, operand: string, realMultiplier: number): QuantizedMultiplier {
  const subject = `requantization scheme "${scheme}": ADD ${operand} multiplier ${realMultiplier}`;
  if (!(realMultiplier > 0 && realMultiplier < 1)) {
    throw new UnsupportedError(
      `${subject} is outside (0, 1), which TFLite's ADD requires; the output scale is too small for the inputs' scales`,
    );
  }
  const quantized = quantizeMultiplier(realMultiplier, subject);
  if (quantized.shift > 0) {
    throw new UnsupportedError(`${subject} rounds up to 1, which TFLite's ADD rejects; the output scale is too small for the inputs' scales`);
  }
  return quantized;
}

/**
 * Returns the averager of TFLM's integer AVERAGE_POOL_2D, which divides the
 * window's raw sum by the tap count with ties away from zero. It does not
 * rescale, so it requires equal input and output quantization.
 */
export function tfliteAveragePool(scheme: SchemeName, params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams(scheme, params);
  if (params.inputScale !== params.outputScale || params.inputZeroPoint !== params.outputZeroPoint) {
    throw new UnsupportedError(
      `requantization scheme "${scheme}": average pooling from scale ${params.inputScale}, zero point ${params.inputZeroPoint} ` +
        `to scale ${params.outputScale}, zero point ${params.outputZeroPoint}; TFLM's integer average pooling needs equal ` +
        `input and output quantization, so choose a scheme that rescales`,
    );
  }

  const zeroPoint = params.inputZeroPoint;
  return {
    average(centeredSum: number, divisor: number): number {
      // TFLM sums the stored values, zero points included.
      const sum = centeredSum + divisor * zeroPoint;
      const halfDivisor = divisor >> 1;
      // C's division truncates toward zero. For |sum| < 2^31 and divisor
      // < 2^22 the double quotient errs by less than its distance to the
      // next integer, so `| 0` truncates it exactly as C does.
      return sum > 0 ? ((sum + halfDivisor) / divisor) | 0 : ((sum - halfDivisor) / divisor) | 0;
    },
  };
}

/**
 * Returns TFLite's requantizing copy for concatenation
 * (ConcatenationWithScaling). It copies when the quantization is equal and
 * otherwise computes round(x * fl(si * fl(1 / so)) + fl(-zi * scale)) in
 * float32, ties away from zero, plus zo.
 */
export function tfliteRescale(scheme: SchemeName, params: RescaleParams): (x: number) => number {
  checkRescaleParams(scheme, params);
  const outputZeroPoint = params.outputZeroPoint;
  if (params.inputScale === params.outputScale && params.inputZeroPoint === outputZeroPoint) {
    return (x: number) => x;
  }

  const inverseOutputScale = toFloat32(1 / params.outputScale);
  const scale = toFloat32(params.inputScale * inverseOutputScale);
  const bias = toFloat32(-params.inputZeroPoint * scale);
  // TFLite computes these without checks. A finite bias keeps the sum below
  // from adding opposite infinities, which would give NaN.
  checkDerivedParameter(scheme, "inverse output scale fl(1 / so)", inverseOutputScale, true);
  checkDerivedParameter(scheme, "rescale factor fl(si * fl(1 / so))", scale, true);
  checkDerivedParameter(scheme, "rescale offset fl(-zi * scale)", bias, false);
  // NOTE: the product and the sum round to float32 separately, as the C
  // source reads. A compiler that fuses them into one multiply-add rounds
  // once and may differ in rare ties.
  return (x: number) => roundHalfAway(toFloat32(toFloat32(x * scale) + bias)) + outputZeroPoint;
}

/** TFLM's QUANTIZE from float32 (AffineQuantize): round(fl(x / scale)), ties away from zero, plus the zero point. */
export function tfliteQuantizeReal(real: number, scale: number, zeroPoint: number): number {
  return roundHalfAway(toFloat32(toFloat32(real) / toFloat32(scale))) + zeroPoint;
}
