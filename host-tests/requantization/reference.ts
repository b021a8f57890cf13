// Exact references for the requantization tests: rational rounding with
// BigInt, the exact value of a double or float32, and a seeded random
// number generator. None of this imports the code under test.

/** Returns floor(a / b) for b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}

/** Returns a / b rounded to nearest, ties toward +infinity, for b > 0. */
export function roundHalfUpDiv(a: bigint, b: bigint): bigint {
  return floorDiv(2n * a + b, 2n * b);
}

/** Returns a / b rounded to nearest, ties away from zero, for b > 0. */
export function roundHalfAwayDiv(a: bigint, b: bigint): bigint {
  return a < 0n ? -roundHalfUpDiv(-a, b) : roundHalfUpDiv(a, b);
}

/** Returns a / b rounded to nearest, ties to even, for b > 0. */
export function roundHalfEvenDiv(a: bigint, b: bigint): bigint {
  const quotient = floorDiv(a, b);
  const twiceRemainder = 2n * (a - quotient * b);
  if (twiceRemainder > b) return quotient + 1n;
  if (twiceRemainder < b) return quotient;
  return quotient % 2n === 0n ? quotient : quotient + 1n;
}

/** Returns the low 32 bits of v as a signed integer, as C's int64-to-int32 conversion does. */
export function wrapInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** Exact value of a finite double or float32, numerator * 2^exponent. */
export interface Dyadic {
  numerator: bigint;
  /** The value is numerator * 2^exponent. */
  exponent: number;
}

/** Returns the exact value of a finite double, read from its IEEE-754 bits. */
export function dyadicOfDouble(x: number): Dyadic {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n === 1n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  if (biased === 0) return { numerator: sign * fraction, exponent: -1074 };
  return { numerator: sign * (fraction | (1n << 52n)), exponent: biased - 1075 };
}

/** Returns the exact value of a float32 (given as a double equal to it), read from its bits. */
export function dyadicOfFloat32(x: number): Dyadic {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  const bits = view.getUint32(0);
  const sign = bits >>> 31 === 1 ? -1n : 1n;
  const biased = (bits >>> 23) & 0xff;
  const fraction = BigInt(bits & 0x7fffff);
  if (biased === 0) return { numerator: sign * fraction, exponent: -149 };
  return { numerator: sign * (fraction | (1n << 23n)), exponent: biased - 150 };
}

/** Rounds the exact product k * value (value = numerator * 2^exponent) with `round`. */
export function roundProduct(k: bigint, value: Dyadic, round: (a: bigint, b: bigint) => bigint): bigint {
  const product = k * value.numerator;
  if (value.exponent >= 0) return product << BigInt(value.exponent);
  return round(product, 1n << BigInt(-value.exponent));
}

/** Returns the bit length of a positive BigInt. */
export function bitLength(v: bigint): number {
  return v.toString(2).length;
}

/** Returns a reproducible generator of doubles in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns a uniform integer in [low, high]. */
export function randomInt(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

/** Returns a float32 scale, log-uniform in [2^lowExponent, 2^highExponent). */
export function randomScale(random: () => number, lowExponent: number, highExponent: number): number {
  return Math.fround(2 ** (lowExponent + random() * (highExponent - lowExponent)));
}

/** Quantization of the two inputs and the output of an add, as the schemes' add takes it. */
export interface AddQuantization {
  aScale: number;
  aZeroPoint: number;
  bScale: number;
  bZeroPoint: number;
  outputScale: number;
  outputZeroPoint: number;
}

/**
 * Returns random add parameters: float32 scales log-uniform in [2^-10, 1),
 * the output's in [2^-10, 2^outputScaleExponent), and zero points in
 * [zeroPoints[0], zeroPoints[1]].
 */
export function randomAddParams(random: () => number, zeroPoints: readonly [number, number], outputScaleExponent: number): AddQuantization {
  return {
    aScale: randomScale(random, -10, 0),
    aZeroPoint: randomInt(random, zeroPoints[0], zeroPoints[1]),
    bScale: randomScale(random, -10, 0),
    bZeroPoint: randomInt(random, zeroPoints[0], zeroPoints[1]),
    outputScale: randomScale(random, -10, outputScaleExponent),
    outputZeroPoint: randomInt(random, zeroPoints[0], zeroPoints[1]),
  };
}

/**
 * Returns an int32 accumulator: mostly small, sometimes of any magnitude,
 * and sometimes at the int32 limits.
 */
export function randomAccumulator(random: () => number): number {
  const kind = random();
  if (kind < 0.02) return [-0x80000000, 0x7fffffff, -0x7fffffff, 0, 1, -1][randomInt(random, 0, 5)];
  const bits = kind < 0.5 ? randomInt(random, 1, 20) : randomInt(random, 1, 31);
  return randomInt(random, -(2 ** bits), 2 ** bits - 1);
}

/** Rounds a double half to even, written independently of the runtime's helper. */
export function rneDouble(x: number): number {
  const value = dyadicOfDouble(x);
  return Number(roundProduct(1n, value, roundHalfEvenDiv));
}

/** Rounds a double half away from zero, written independently of the runtime's helper. */
export function roundAwayDouble(x: number): number {
  const value = dyadicOfDouble(x);
  return Number(roundProduct(1n, value, roundHalfAwayDiv));
}
