// Helpers the requantization schemes share: rounding of doubles, float32
// bit patterns, and validation of the quantization parameters a scheme is
// prepared with.

import { InvalidModelError } from "../errors.js";
import { AccumulatorLayer, AddParams, RescaleParams } from "./scheme.js";

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;

/**
 * Rounds a double to the nearest integer with ties to even, as C's
 * nearbyint and numpy's rint do in the default rounding mode.
 */
export function roundHalfToEven(x: number): number {
  const rounded = Math.round(x);
  // Math.round sends ties toward +infinity. For |x| < 2^52 the difference
  // is exact, and it is 0.5 only at a tie, where an odd result steps down.
  const tieRoundedToOdd = rounded - x === 0.5 && rounded % 2 !== 0;
  // Adding 0 turns the -0 that Math.round returns for x in [-0.5, 0) into
  // +0, which XS stores as an integer.
  return (tieRoundedToOdd ? rounded - 1 : rounded) + 0;
}

/** Rounds a double to the nearest integer with ties away from zero, as C's round. */
export function roundHalfAway(x: number): number {
  const rounded = Math.round(x);
  // Math.round sends ties toward +infinity, which is away from zero except
  // for negative ties.
  const negativeTie = x < 0 && rounded - x === 0.5;
  return (negativeTie ? rounded - 1 : rounded) + 0;
}

/** Largest integer magnitude that float32 represents exactly with all smaller ones: 2^24. */
const FLOAT32_EXACT_INTEGER = 0x1000000;

/**
 * Rounds x to the nearest float32, ties to even, as Math.fround specifies.
 * NOTE: XS's Math.fround (xsMath.c in @agoric/xsnap 0.15.0) returns an
 * argument that XS stores as an int32 unchanged, so 16777217 stays
 * 16777217 there. Every int32 value is therefore rounded here with integer
 * operations, and only other values go to Math.fround. No typed array is
 * written, so the bundle stays safe to preload into flash.
 */
export function toFloat32(x: number): number {
  if (x !== (x | 0) || x === 0) return Math.fround(x);
  const magnitude = x < 0 ? -x : x;
  if (magnitude <= FLOAT32_EXACT_INTEGER) return x;
  // 2^24 < magnitude <= 2^31: keep the 24 leading significant bits. The
  // dropped low bits number 1 to 8, so unit is at most 256.
  const unit = 2 ** (8 - Math.clz32(magnitude));
  const remainder = magnitude % unit;
  let rounded = magnitude - remainder;
  const half = unit / 2;
  // Ties go to the even multiple of unit.
  if (remainder > half || (remainder === half && (rounded / unit) % 2 === 1)) rounded += unit;
  return x < 0 ? -rounded : rounded;
}

/**
 * IEEE-754 bit pattern of x rounded to float32, as an unsigned integer.
 * It allocates a 4-byte buffer, so it belongs in prepare, not in invoke.
 */
export function float32Bits(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, toFloat32(x), true);
  return view.getUint32(0, true);
}

/**
 * Throws InvalidModelError unless `scale` is a finite positive number.
 * `scaleName` names the scale in the message, for example "output scale".
 */
export function checkScale(scheme: string, scaleName: string, scale: number): void {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new InvalidModelError(
      `requantization scheme "${scheme}": ${scaleName} ${scale} is not a finite positive number; check the tensors' quantization`,
    );
  }
}

/** Throws InvalidModelError unless the zero point is an integer. */
export function checkZeroPoint(scheme: string, zeroPointName: string, zeroPoint: number): void {
  if (!Number.isInteger(zeroPoint)) {
    throw new InvalidModelError(
      `requantization scheme "${scheme}": ${zeroPointName} ${zeroPoint} is not an integer; check the tensors' quantization`,
    );
  }
}

/**
 * Validates a layer's scales, zero point, channel count and bias length,
 * and returns the weight scale of each output channel (a per-tensor scale
 * repeated).
 */
export function channelWeightScales(scheme: string, layer: AccumulatorLayer): Float64Array {
  const channels = layer.channels;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new InvalidModelError(`requantization scheme "${scheme}": ${channels} output channels; a layer needs at least one`);
  }
  checkScale(scheme, "input scale", layer.inputScale);
  checkScale(scheme, "output scale", layer.outputScale);
  checkZeroPoint(scheme, "output zero point", layer.outputZeroPoint);

  const count = layer.weightScales.length;
  if (count !== 1 && count !== channels) {
    throw new InvalidModelError(
      `requantization scheme "${scheme}": ${count} weight scales for ${channels} output channels; ` +
        `expected 1 (per tensor) or ${channels} (per channel)`,
    );
  }
  const scales = new Float64Array(channels);
  for (let channel = 0; channel < channels; channel++) {
    const scale = layer.weightScales[count === 1 ? 0 : channel];
    checkScale(scheme, `weight scale of channel ${channel}`, scale);
    scales[channel] = scale;
  }

  if (layer.bias !== null && layer.bias.length < channels) {
    throw new InvalidModelError(
      `requantization scheme "${scheme}": bias has ${layer.bias.length} values for ${channels} output channels; check the bias tensor`,
    );
  }
  return scales;
}

/**
 * Throws InvalidModelError unless `value`, a parameter that a scheme derives
 * from the scales at prepare (a multiplier, an inverse scale, a scaled
 * bias), is finite and, when `nonzero` is true, not 0. Float32 and double
 * arithmetic on valid scales gives Infinity, NaN or 0 only for scales far
 * outside the usual range, and the kernels would turn such a parameter into
 * wrong integers without an error. `parameter` names the value with its
 * formula and output channel, for example
 * "multiplier fl(fl(sx * sw) / so) of output channel 3".
 */
export function checkDerivedParameter(scheme: string, parameter: string, value: number, nonzero: boolean): void {
  if (Number.isFinite(value) && (!nonzero || value !== 0)) return;
  const expected = nonzero ? "a finite nonzero number" : "a finite number";
  throw new InvalidModelError(
    `requantization scheme "${scheme}": ${parameter} is ${value}, expected ${expected}; the layer's scales are too small ` +
      `or too large for the scheme's arithmetic, so requantize the layer with less extreme scales or check that the file is not corrupted`,
  );
}

/** Throws InvalidModelError unless the float32 bias of an output channel is finite. */
export function checkFloatBias(scheme: string, channel: number, value: number): void {
  if (Number.isFinite(value)) return;
  throw new InvalidModelError(
    `requantization scheme "${scheme}": float32 bias of output channel ${channel} is ${value}, not a finite number; ` +
      `the file is corrupted`,
  );
}

/**
 * Returns the int32 bias of each output channel, for schemes that add the
 * bias inside an int32 accumulator: an int32 bias as stored, zeros without
 * a bias, and quantize(b, channel) for a float32 bias b. Throws
 * InvalidModelError for a float32 bias that is not finite or whose
 * quantized value is not an int32. It does not saturate such a bias,
 * because acc + bias would then wrap and flip the output.
 */
export function int32ChannelBias(
  scheme: string,
  layer: AccumulatorLayer,
  quantize: (bias: number, channel: number) => number,
): Int32Array {
  const bias = layer.bias;
  if (bias instanceof Int32Array) return bias;
  const result = new Int32Array(layer.channels);
  if (bias === null) return result;
  for (let channel = 0; channel < layer.channels; channel++) {
    checkFloatBias(scheme, channel, bias[channel]);
    const quantized = quantize(bias[channel], channel);
    if (!(Number.isInteger(quantized) && quantized >= INT32_MIN && quantized <= INT32_MAX)) {
      throw new InvalidModelError(
        `requantization scheme "${scheme}": float32 bias ${bias[channel]} of output channel ${channel} quantizes to ` +
          `${quantized} in units of input scale * weight scale, outside int32; the file is corrupted, or requantize ` +
          `the layer with larger input or weight scales`,
      );
    }
    result[channel] = quantized;
  }
  return result;
}

/** Validates the scales and zero points of a rescaling copy or an average pool. */
export function checkRescaleParams(scheme: string, params: RescaleParams): void {
  checkScale(scheme, "input scale", params.inputScale);
  checkScale(scheme, "output scale", params.outputScale);
  checkZeroPoint(scheme, "input zero point", params.inputZeroPoint);
  checkZeroPoint(scheme, "output zero point", params.outputZeroPoint);
}

/** Validates the scales and zero points of an elementwise add. */
export function checkAddParams(scheme: string, params: AddParams): void {
  checkScale(scheme, "first input scale", params.aScale);
  checkScale(scheme, "second input scale", params.bScale);
  checkScale(scheme, "output scale", params.outputScale);
  checkZeroPoint(scheme, "first input zero point", params.aZeroPoint);
  checkZeroPoint(scheme, "second input zero point", params.bZeroPoint);
  checkZeroPoint(scheme, "output zero point", params.outputZeroPoint);
}
