// Exact BigInt references for original QNNPACK's integer requantization
// (pytorch/QNNPACK at commit 7d2a4e99: q31-scalar.c, precise-scalar.c and
// src/qnnpack/requantization.h), written from the definitions and
// independent of microq's code.

import { AddQuantization, dyadicOfFloat32, roundHalfAwayDiv, roundHalfEvenDiv, roundHalfUpDiv, roundProduct } from "./reference.js";

/** Q31 requantization of x by a float32 scale in [2^-32, 1): two roundings. */
export function q31Reference(x: number, scale: number): number {
  const value = dyadicOfFloat32(scale); // 24-bit mantissa * 2^exponent
  const multiplier = value.numerator << 7n;
  const shift = -24 - value.exponent;
  // (x * M + 2^30) >> 31, then a shift with ties away from zero.
  const q31Product = roundHalfUpDiv(BigInt(x) * multiplier, 1n << 31n);
  return Number(roundHalfAwayDiv(q31Product, 1n << BigInt(shift)));
}

/** Precise requantization: x * scale rounded once, ties away from zero. */
export function preciseReference(x: number, scale: number): number {
  return Number(roundProduct(BigInt(x), dyadicOfFloat32(scale), roundHalfAwayDiv));
}

/** QNNPACK's add of stored values a and b, exactly, from the float32 scale ratios. */
export function addReference(
  a: number,
  b: number,
  params: AddQuantization,
): number {
  const aRatio = dyadicOfFloat32(Math.fround(params.aScale / params.outputScale));
  const bRatio = dyadicOfFloat32(Math.fround(params.bScale / params.outputScale));
  // floor(log2(ratio)) = bit length of the mantissa - 1 + exponent.
  const exponentOf = (ratio: { numerator: bigint; exponent: number }) => ratio.numerator.toString(2).length - 1 + ratio.exponent;
  const shift = 21 - Math.max(exponentOf(aRatio), exponentOf(bRatio));
  const multiplierOf = (ratio: { numerator: bigint; exponent: number }) =>
    roundProduct(ratio.numerator, { numerator: 1n, exponent: ratio.exponent + shift }, roundHalfEvenDiv);
  const acc = multiplierOf(aRatio) * BigInt(a - params.aZeroPoint) + multiplierOf(bRatio) * BigInt(b - params.bZeroPoint);
  return Number(roundHalfAwayDiv(acc, 1n << BigInt(shift))) + params.outputZeroPoint;
}

/** QNNPACK's average of a centered window sum over `divisor` taps, exactly. */
export function averageReference(centeredSum: number, divisor: number, inputScale: number, outputScale: number, outputZeroPoint: number): number {
  const scale = Math.fround(inputScale / Math.fround(outputScale * divisor));
  return preciseReference(centeredSum, scale) + outputZeroPoint;
}
