// Exact BigInt references for TFLite's integer requantization in both
// builds (tflite-micro at commit 90b983c2: quantization_util.cc, common.cc,
// reference/integer_ops/add.h), written from the C sources' definitions
// and independent of microq's code.

import { AddQuantization, bitLength, dyadicOfDouble, roundHalfAwayDiv, roundHalfUpDiv, roundProduct } from "./reference.js";

export interface Multiplier {
  multiplier: bigint;
  shift: number;
}

/**
 * QuantizeMultiplier: real = q * 2^(shift - 31) with q the frexp fraction
 * times 2^31 rounded half away from zero. `saturate` selects the
 * single-rounding build's clamp of shifts above 30; the double-rounding
 * build returns null there (TFLM aborts).
 */
export function quantizeMultiplierReference(real: number, saturate: boolean): Multiplier | null {
  if (real === 0) return { multiplier: 0n, shift: 0 };
  const value = dyadicOfDouble(real);
  // real = numerator * 2^exponent = fraction * 2^shift with fraction in [0.5, 1).
  let shift = bitLength(value.numerator) + value.exponent;
  let multiplier = roundProduct(value.numerator, { numerator: 1n, exponent: value.exponent + 31 - shift }, roundHalfAwayDiv);
  if (multiplier === 1n << 31n) {
    multiplier = 1n << 30n;
    shift++;
  }
  if (shift < -31) return { multiplier: 0n, shift: 0 };
  if (shift > 30) return saturate ? { multiplier: (1n << 31n) - 1n, shift: 30 } : null;
  return { multiplier, shift };
}

/** Double-rounding MultiplyByQuantizedMultiplier (gemmlowp), exactly. */
export function multiplyDoubleRounding(x: number, { multiplier, shift }: Multiplier): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const shifted = BigInt.asIntN(32, BigInt(x) << BigInt(leftShift));
  const overflow = shifted === -(1n << 31n) && multiplier === -(1n << 31n);
  // SaturatingRoundingDoublingHighMul: x * M / 2^31 to nearest, ties toward +infinity.
  const high = overflow ? (1n << 31n) - 1n : roundHalfUpDiv(shifted * multiplier, 1n << 31n);
  // RoundingDivideByPOT: ties away from zero.
  return Number(roundHalfAwayDiv(high, 1n << BigInt(rightShift)));
}

/** Single-rounding MultiplyByQuantizedMultiplier, exactly, with the int64-to-int32 wrap. */
export function multiplySingleRounding(x: number, { multiplier, shift }: Multiplier): number {
  const totalShift = 31 - shift;
  return Number(BigInt.asIntN(32, roundHalfUpDiv(BigInt(x) * multiplier, 1n << BigInt(totalShift))));
}

/** TFLM's int8 AddFunc with CalculateOpDataAdd's parameters, exactly; null where TFLM aborts. */
export function addReference(
  a: number,
  b: number,
  params: AddQuantization,
  multiply: (x: number, m: Multiplier) => number,
): number | null {
  const twiceMax = 2 * Math.max(params.aScale, params.bScale);
  const derive = (real: number) => {
    if (!(real > 0 && real < 1)) return null;
    const m = quantizeMultiplierReference(real, false);
    return m !== null && m.shift <= 0 ? m : null;
  };
  const aMultiplier = derive(params.aScale / twiceMax);
  const bMultiplier = derive(params.bScale / twiceMax);
  const outputMultiplier = derive(twiceMax / (2 ** 20 * params.outputScale));
  if (aMultiplier === null || bMultiplier === null || outputMultiplier === null) return null;
  const aScaled = multiply((a - params.aZeroPoint) * 2 ** 20, aMultiplier);
  const bScaled = multiply((b - params.bZeroPoint) * 2 ** 20, bMultiplier);
  return multiply(aScaled + bScaled, outputMultiplier) + params.outputZeroPoint;
}
