// QNNPACK's parameter derivations and integer kernels that several schemes
// share: the conv and fully connected requantizer and the rescaling copy of
// the qnnpack-q31 and qnnpack-precise schemes, the add (q8vadd), the average
// pool (q8avgpool and q8gavgpool), the scale range checks, and PyTorch's
// quantization of a float bias. Source:
// pytorch/QNNPACK at commit 7d2a4e99 (August 2019), src/add.c,
// src/average-pooling.c, src/global-average-pooling.c, src/convolution.c and
// src/qnnpack/requantization.h. PyTorch 1.13's fork of QNNPACK derives add
// parameters the same way.

import { roundingDivideByPOT } from "../fixedpoint.js";
import { UnsupportedError } from "../errors.js";
import {
  channelWeightScales,
  checkAddParams,
  checkDerivedParameter,
  checkRescaleParams,
  float32Bits,
  int32ChannelBias,
  roundHalfToEven,
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
import { multiplyShiftRoundHalfAway } from "./wide_product.js";

/** Smallest scale QNNPACK's requantization accepts, 2^-32. */
const MIN_REQUANTIZATION_SCALE = 2 ** -32;

/**
 * Float32 bit pattern of a requantization scale QNNPACK accepts: in
 * [2^-32, 1), which its Q31 and precise paths both assume. Outside that
 * range QNNPACK rejects the operator, and so does this function, with an
 * UnsupportedError naming `scaleName`.
 */
export function qnnpackScaleBits(scheme: SchemeName, scaleName: string, scale: number): number {
  if (!(scale >= MIN_REQUANTIZATION_SCALE && scale < 1)) {
    throw new UnsupportedError(
      `requantization scheme "${scheme}": ${scaleName} ${scale} is outside [2^-32, 1), the range QNNPACK's requantization accepts; ` +
        `choose the "tflm" or "pytorch-qnnpack" scheme for this model`,
    );
  }
  return float32Bits(scale);
}

/**
 * Requantization scale of each output channel, fl(fl(sx * sw) / so), the
 * float32 expression QNNPACK's convolution and fully connected operators
 * evaluate. Original QNNPACK has per-tensor weights only; a per-channel
 * layer gets one such scale per channel.
 */
export function qnnpackChannelScales(layer: AccumulatorLayer, weightScales: Float64Array): Float64Array {
  const scales = new Float64Array(layer.channels);
  for (let channel = 0; channel < layer.channels; channel++) {
    const productScale = toFloat32(toFloat32(layer.inputScale) * toFloat32(weightScales[channel]));
    scales[channel] = toFloat32(productScale / toFloat32(layer.outputScale));
  }
  return scales;
}

/**
 * One of QNNPACK's integer requantizations of x * scale, for a float32 scale
 * in [2^-32, 1) given by its bits: the multiplier and right shift it derives
 * from the bits, and its rounding of the product.
 */
export interface QnnpackRequantization {
  readonly scheme: SchemeName;
  multiplier(scaleBits: number): number;
  shift(scaleBits: number): number;
  /** x * multiplier * 2^-shift for an int32 x, rounded by this requantization's rule. */
  multiplyShift(x: number, multiplier: number, shift: number): number;
}

/**
 * Returns the requantizer of a conv or fully connected layer: the scale
 * fl(fl(sx * sw) / so) of each channel (qnnpackChannelScales), split into a
 * multiplier and shift by `requantization`, and the bias quantized as
 * PyTorch quantizes it (pytorchIntegerBias).
 */
export function qnnpackAccumulator(requantization: QnnpackRequantization, layer: AccumulatorLayer): AccumulatorRequantizer {
  const scheme = requantization.scheme;
  const weightScales = channelWeightScales(scheme, layer);
  const scales = qnnpackChannelScales(layer, weightScales);
  const multipliers = new Int32Array(layer.channels);
  const shifts = new Int32Array(layer.channels);
  for (let channel = 0; channel < layer.channels; channel++) {
    const bits = qnnpackScaleBits(scheme, `requantization scale fl(fl(sx * sw) / so) of output channel ${channel}`, scales[channel]);
    multipliers[channel] = requantization.multiplier(bits);
    shifts[channel] = requantization.shift(bits);
  }

  const bias = pytorchIntegerBias(scheme, layer, weightScales);
  const outputZeroPoint = layer.outputZeroPoint;
  const multiplyShift = requantization.multiplyShift;
  return {
    requantize(acc: number, channel: number): number {
      // QNNPACK adds the bias inside its int32 accumulator, so wrap as it does.
      return multiplyShift((acc + bias[channel]) | 0, multipliers[channel], shifts[channel]) + outputZeroPoint;
    },
  };
}

/**
 * Returns a rescaling copy: `requantization` applied to x - zi with the
 * scale fl(si / so), plus zo. QNNPACK has no rescaling copy of its own, so
 * this extends its arithmetic to one.
 */
export function qnnpackRescale(requantization: QnnpackRequantization, params: RescaleParams): (x: number) => number {
  checkRescaleParams(requantization.scheme, params);
  const inputZeroPoint = params.inputZeroPoint;
  const outputZeroPoint = params.outputZeroPoint;
  const scale = toFloat32(toFloat32(params.inputScale) / toFloat32(params.outputScale));
  // A scale of exactly 1 is outside QNNPACK's range but exact in any rounding.
  if (scale === 1) return (x: number) => x - inputZeroPoint + outputZeroPoint;

  const bits = qnnpackScaleBits(requantization.scheme, "rescale factor fl(input scale / output scale)", scale);
  const multiplier = requantization.multiplier(bits);
  const shift = requantization.shift(bits);
  const multiplyShift = requantization.multiplyShift;
  return (x: number) => multiplyShift(x - inputZeroPoint, multiplier, shift) + outputZeroPoint;
}

/**
 * Bias of each channel as int32. A float32 bias b is quantized as PyTorch
 * quantizes it for QNNPACK, quantize_per_tensor(b, sx * sw, 0, qint32):
 * rne(fl(b * fl(1 / fl(sx * sw)))). An int32 bias is used as stored; no
 * bias gives zeros. Throws InvalidModelError for a float32 bias that is not
 * finite or leaves int32, where PyTorch would saturate it, and for an
 * inverse scale fl(1 / fl(sx * sw)) that overflows float32.
 */
export function pytorchIntegerBias(scheme: SchemeName, layer: AccumulatorLayer, weightScales: Float64Array): Int32Array {
  return int32ChannelBias(scheme, layer, (real, channel) => {
    const inverseScale = toFloat32(1 / toFloat32(layer.inputScale * weightScales[channel]));
    checkDerivedParameter(scheme, `inverse bias scale fl(1 / fl(sx * sw)) of output channel ${channel}`, inverseScale, true);
    return roundHalfToEven(toFloat32(real * inverseScale));
  });
}

/**
 * QNNPACK's quantized add (qnnp_compute_add_quantization_params and
 * qnnp_add_quantize). With ra = fl(sa / so), rb = fl(sb / so) and
 * shift = 21 - floor(log2(max(ra, rb))), the multipliers are
 * rne(ra * 2^shift) and rne(rb * 2^shift), below 2^22, and
 * y = (ma * (a - za) + mb * (b - zb)) / 2^shift, rounded with ties away
 * from zero, plus zo.
 */
export function qnnpackAdd(scheme: SchemeName, params: AddParams): AddRequantizer {
  checkAddParams(scheme, params);
  const outputScale = toFloat32(params.outputScale);
  const aRatio = toFloat32(toFloat32(params.aScale) / outputScale);
  const bRatio = toFloat32(toFloat32(params.bScale) / outputScale);
  checkAddRatio(scheme, "first input", aRatio);
  checkAddRatio(scheme, "second input", bRatio);

  // The largest ratio's exponent sets the shift. QNNPACK asserts a shift
  // below 32, so the largest ratio must be at least 2^-10.
  const maxRatio = Math.max(aRatio, bRatio);
  const maxExponent = ((float32Bits(maxRatio) >>> 23) & 0xff) - 127;
  const shift = 21 - maxExponent;
  if (shift > 31) {
    throw new UnsupportedError(
      `requantization scheme "${scheme}": add scale ratios ${aRatio} and ${bRatio} are both below 2^-10, ` +
        `which QNNPACK's add cannot shift; choose the "tflm" or "pytorch-onednn" scheme for this model`,
    );
  }
  const aMultiplier = roundHalfToEven(aRatio * 2 ** shift);
  const bMultiplier = roundHalfToEven(bRatio * 2 ** shift);

  const aZeroPoint = params.aZeroPoint;
  const bZeroPoint = params.bZeroPoint;
  const outputZeroPoint = params.outputZeroPoint;
  return {
    add(a: number, b: number): number {
      // Range: multipliers below 2^22 times centered 8-bit values of at
      // most 255 in magnitude keep each product below 2^30, so the sum is
      // an int32.
      const acc = aMultiplier * (a - aZeroPoint) + bMultiplier * (b - bZeroPoint);
      return roundingDivideByPOT(acc, shift) + outputZeroPoint;
    },
  };
}

function checkAddRatio(scheme: SchemeName, operand: string, ratio: number): void {
  if (!(ratio >= 2 ** -14 && ratio < 2 ** 8)) {
    throw new UnsupportedError(
      `requantization scheme "${scheme}": add ${operand} scale over output scale is ${ratio}, outside [2^-14, 2^8), ` +
        `the range QNNPACK's add accepts; choose the "tflm" or "pytorch-onednn" scheme for this model`,
    );
  }
}

/**
 * Returns QNNPACK's average pooling (qnnp_compute_avgpool_quantization_params
 * and qnnp_avgpool_quantize). For a window of N taps the scale is
 * fl(si / fl(so * N)), a float32 value m * 2^-s with a 24-bit integer m.
 * The result is round(centeredSum * m / 2^s) with ties away from zero, plus
 * zo. QNNPACK divides by the full window size, padding included.
 *
 * The scale depends on the divisor the kernel passes, which QNNPACK limits
 * to [1, 2^24), so the averager derives m and s at invoke with integer
 * operations only (float32ScaleQuotient) and keeps the last divisor's pair.
 */
export function qnnpackAveragePool(scheme: SchemeName, params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams(scheme, params);
  const ratio = toFloat32(toFloat32(params.inputScale) / toFloat32(params.outputScale));
  if (!(ratio >= 2 ** -8 && ratio < 2 ** 8)) {
    throw new UnsupportedError(
      `requantization scheme "${scheme}": average pooling input scale over output scale is ${ratio}, ` +
        `outside [2^-8, 2^8), the range QNNPACK's average pooling accepts; choose another scheme for this model`,
    );
  }
  // QNNPACK requires normal float32 scales, and so * N must not overflow
  // float32 for any N below 2^24.
  for (const scale of [params.inputScale, params.outputScale]) {
    if (!(toFloat32(scale) >= 2 ** -126 && toFloat32(scale) < 2 ** 100)) {
      throw new UnsupportedError(
        `requantization scheme "${scheme}": average pooling scale ${scale} is outside [2^-126, 2^100), ` +
          `the normal float32 range the integer derivation of QNNPACK's pooling scale assumes`,
      );
    }
  }

  const inputBits = float32Bits(params.inputScale);
  const outputBits = float32Bits(params.outputScale);
  const inputMantissa = (inputBits & 0x7fffff) | 0x800000;
  const inputExponent = ((inputBits >>> 23) & 0xff) - 150;
  const outputMantissa = (outputBits & 0x7fffff) | 0x800000;
  const outputExponent = ((outputBits >>> 23) & 0xff) - 150;
  const outputZeroPoint = params.outputZeroPoint;

  const derived = new Int32Array(2);
  let lastDivisor = 0;
  let multiplier = 0;
  let shift = 0;
  return {
    average(centeredSum: number, divisor: number): number {
      if (divisor !== lastDivisor) {
        float32ScaleQuotient(inputMantissa, inputExponent, outputMantissa, outputExponent, divisor, derived);
        multiplier = derived[0];
        shift = derived[1];
        lastDivisor = divisor;
      }
      // Range: centeredSum is an int32 for windows below 2^23 taps of
      // 8-bit values, and the shift lies in [16, 55] because the scale lies
      // in [2^-32, 2^8).
      return multiplyShiftRoundHalfAway(centeredSum, multiplier, shift) + outputZeroPoint;
    },
  };
}

/**
 * Writes the float32 value fl(si / fl(so * divisor)) as QNNPACK splits it,
 * a 24-bit mantissa (result[0], in [2^23, 2^24)) and a right shift
 * (result[1]) with value = mantissa * 2^-shift, computed with int32
 * operations only. si = inputMantissa * 2^inputExponent and
 * so = outputMantissa * 2^outputExponent are normal float32 values with
 * 24-bit mantissas, divisor is in [1, 2^24), and both roundings are IEEE
 * round-to-nearest-even.
 */
export function float32ScaleQuotient(
  inputMantissa: number,
  inputExponent: number,
  outputMantissa: number,
  outputExponent: number,
  divisor: number,
  result: Int32Array,
): void {
  // Product outputMantissa * divisor < 2^48 as high * 2^24 + low, from
  // 12-bit limbs whose products stay below 2^25.
  const a1 = outputMantissa >> 12;
  const a0 = outputMantissa & 0xfff;
  const b1 = divisor >> 12;
  const b0 = divisor & 0xfff;
  const cross = a1 * b0 + a0 * b1;
  const lowFull = a0 * b0 + ((cross & 0xfff) << 12);
  const high = a1 * b1 + (cross >> 12) + (lowFull >> 24);
  const low = lowFull & 0xffffff;

  // Round the product to 24 bits, ties to even: fl(so * divisor) =
  // divisorMantissa * 2^(outputExponent + dropped). The product is at least
  // outputMantissa >= 2^23, so with high = 0 it is already 24 bits wide.
  // Rounding up may give divisorMantissa = 2^24, which the division below
  // handles like any other value.
  let divisorMantissa = low;
  let dropped = 0;
  if (high !== 0) {
    dropped = 32 - Math.clz32(high);
    divisorMantissa = (high << (24 - dropped)) | (low >> dropped);
    const remainder = low & ((1 << dropped) - 1);
    const half = 1 << (dropped - 1);
    if (remainder > half || (remainder === half && (divisorMantissa & 1) === 1)) divisorMantissa++;
  }

  // Long division inputMantissa * 2^bits / divisorMantissa, with bits
  // chosen so the quotient has 24 bits. The remainder stays below 2^24, so
  // doubling it fits int32.
  let quotient = 0;
  let remainder = inputMantissa;
  let bits = 24;
  if (remainder >= divisorMantissa) {
    quotient = 1;
    remainder -= divisorMantissa;
    bits = 23;
  }
  for (let i = 0; i < bits; i++) {
    remainder <<= 1;
    quotient <<= 1;
    if (remainder >= divisorMantissa) {
      quotient |= 1;
      remainder -= divisorMantissa;
    }
  }

  // Round the quotient to nearest, ties to even. It cannot round up to
  // 2^24: that would need the ratio of the two mantissas, distinct integers
  // of at most 2^24, within 2^-24 of 2 or within 2^-25 of 1.
  const twiceRemainder = remainder << 1;
  if (twiceRemainder > divisorMantissa || (twiceRemainder === divisorMantissa && (quotient & 1) === 1)) quotient++;

  result[0] = quotient;
  result[1] = outputExponent + dropped + bits - inputExponent;
}

/**
 * QNNPACK's rounding of a real value to a quantized one, as its sigmoid
 * table does with lrintf: rne(fl(real / scale)), plus the zero point.
 */
export function qnnpackQuantizeReal(real: number, scale: number, zeroPoint: number): number {
  return roundHalfToEven(toFloat32(toFloat32(real) / toFloat32(scale))) + zeroPoint;
}
