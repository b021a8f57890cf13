// Requantization primitives against a BigInt transcription of gemmlowp's
// definitions in fixedpoint.h. The high multiply adds a sign-dependent nudge
// to the 64-bit product and divides with C's truncation toward zero. The
// rounding divide by 2^n rounds ties away from zero.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  multiplyByQuantizedMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from "../../runtime/fixedpoint.js";
import { quantizeMultiplier } from "../../runtime/quantize_multiplier.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function referenceHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const product = BigInt(a) * BigInt(b);
  const nudge = product >= 0n ? 1n << 30n : 1n - (1n << 30n);
  // BigInt division truncates toward zero, as C's int64 division does.
  return Number((product + nudge) / (1n << 31n));
}

function referenceDivideByPOT(x: number, exponent: number): number {
  const divisor = 2 ** exponent;
  const quotient = x / divisor;
  const floor = Math.floor(quotient);
  const fraction = quotient - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return x < 0 ? floor : floor + 1; // ties away from zero
}

function referenceMultiply(x: number, multiplierQ31: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const shifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(leftShift)));
  return referenceDivideByPOT(referenceHighMul(shifted, multiplierQ31), rightShift);
}

/** Deterministic xorshift32 generator, so failures reproduce. */
function random32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state | 0;
  };
}

test("high multiply: edge cases", () => {
  const cases: Array<[number, number, number]> = [
    [INT32_MIN, INT32_MIN, INT32_MAX],
    [INT32_MIN, INT32_MAX, -INT32_MAX],
    [INT32_MAX, INT32_MAX, INT32_MAX - 1],
    [1, 1 << 30, 1], // 0.5 rounds up
    [-1, 1 << 30, 0], // -0.5 rounds toward +infinity
    [3, 1 << 30, 2], // 1.5 rounds up
    [-3, 1 << 30, -1], // -1.5 rounds toward +infinity
    [0, INT32_MIN, 0],
    [INT32_MIN, 1, -1],
    [INT32_MIN, -1, 1],
  ];
  for (const [a, b, expected] of cases) {
    assert.is(saturatingRoundingDoublingHighMul(a, b), expected, `a=${a} b=${b}`);
    assert.is(referenceHighMul(a, b), expected, `reference a=${a} b=${b}`);
  }
});

test("high multiply: random int32 pairs", () => {
  const next = random32(0x1234567);
  for (let i = 0; i < 200000; i++) {
    const a = next();
    const b = i % 3 === 0 ? next() >>> 1 : next();
    const got = saturatingRoundingDoublingHighMul(a, b);
    if (got !== referenceHighMul(a, b)) assert.unreachable(`a=${a} b=${b}: got ${got}, expected ${referenceHighMul(a, b)}`);
  }
});

test("rounding divide: ties away from zero", () => {
  const cases: Array<[number, number, number]> = [
    [5, 1, 3],
    [-5, 1, -3],
    [6, 2, 2], // 1.5
    [-6, 2, -2], // -1.5
    [7, 2, 2],
    [-7, 2, -2],
    [INT32_MAX, 31, 1],
    [INT32_MIN, 31, -1],
    [-0x40000000, 31, -1], // -0.5 goes away from zero
    [0x3fffffff, 31, 0],
    [123, 0, 123],
  ];
  for (const [x, exponent, expected] of cases) {
    assert.is(roundingDivideByPOT(x, exponent), expected, `x=${x} exponent=${exponent}`);
    assert.is(referenceDivideByPOT(x, exponent), expected, `reference x=${x} exponent=${exponent}`);
  }
});

test("quantize multiplier: TFLM derivation", () => {
  assert.equal(quantizeMultiplier(0.25, "test"), { multiplierQ31: 1 << 30, shift: -1 });
  assert.equal(quantizeMultiplier(1, "test"), { multiplierQ31: 1 << 30, shift: 1 });
  assert.equal(quantizeMultiplier(0, "test"), { multiplierQ31: 0, shift: 0 });
  // A fraction that rounds up to 2^31 is renormalized to 2^30 with shift + 1.
  assert.equal(quantizeMultiplier(1 - 2 ** -40, "test"), { multiplierQ31: 1 << 30, shift: 1 });
  // Below 2^-32 the shift would pass -31, so the multiplier flushes to 0.
  assert.equal(quantizeMultiplier(2 ** -33, "test"), { multiplierQ31: 0, shift: 0 });
  assert.equal(quantizeMultiplier(2 ** -32, "test"), { multiplierQ31: 1 << 30, shift: -31 });
  assert.throws(() => quantizeMultiplier(2 ** 31, "test"), /beyond the int32 requantization range/);
  assert.throws(() => quantizeMultiplier(Number.NaN, "test"), /not a finite non-negative number/);
});

test("multiply by quantized multiplier: worked cases", () => {
  // 0.25 * 1 = 0.25, but double rounding gives 1: the high multiply rounds
  // 0.5 up to 1, then the divide by 2 rounds 0.5 away from zero.
  const quarter = quantizeMultiplier(0.25, "test");
  assert.is(multiplyByQuantizedMultiplier(1, quarter.multiplierQ31, quarter.shift), 1);
  // 0.0123456 * -4981 = -61.49..., which rounds to -61 once, and to -62
  // under double rounding.
  const small = quantizeMultiplier(0.0123456, "test");
  assert.is(multiplyByQuantizedMultiplier(-4981, small.multiplierQ31, small.shift), -62);
  // Scales >= 1 use the left shift: 3.5 * 1000 = 3500 exactly.
  const large = quantizeMultiplier(3.5, "test");
  assert.ok(large.shift > 0);
  assert.is(multiplyByQuantizedMultiplier(1000, large.multiplierQ31, large.shift), 3500);
  // A flushed multiplier gives 0 for any accumulator.
  const tiny = quantizeMultiplier(2 ** -40, "test");
  assert.is(multiplyByQuantizedMultiplier(INT32_MAX, tiny.multiplierQ31, tiny.shift), 0);
});

test("multiply by quantized multiplier: random against reference", () => {
  const next = random32(987654321);
  for (let i = 0; i < 100000; i++) {
    const x = i % 2 === 0 ? next() : next() >> 12;
    const multiplierQ31 = (next() >>> 1) | 0x40000000;
    const shift = (((next() >>> 0) % 62) | 0) - 31;
    const got = multiplyByQuantizedMultiplier(x, multiplierQ31, shift);
    const expected = referenceMultiply(x, multiplierQ31, shift);
    if (got !== expected) assert.unreachable(`x=${x} m=${multiplierQ31} shift=${shift}: got ${got}, expected ${expected}`);
  }
});

test.run();
