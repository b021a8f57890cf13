// Fixed-point exp and reciprocal, checked two ways:
//   - bit for bit against a BigInt transcription of gemmlowp's
//     fixedpoint/fixedpoint.h (commit fda83bdc, the version TFLM builds
//     against) and of TFLM's GetReciprocal, which use 64-bit intermediates
//     and C's truncating division where the runtime stays in int32;
//   - against the real functions (Math.exp, 1 / (1 + x)) within the
//     tolerances of gemmlowp's own test/test_fixedpoint.cc: 500 raw units
//     for exp, 6 for 1 / (1 + x).
// Inputs follow that test too: powers of two and their neighbours, the
// int32 extremes, zero and seeded random values.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  Q0_ONE,
  expOnIntervalBetweenNegativeOneQuarterAnd0Excl,
  expOnNegativeValues,
  getReciprocal,
  oneOverOnePlusXForXIn01,
  reciprocalBitsOverUnit,
  rescale,
  roundingHalfSum,
  saturatingRoundingMultiplyByPOT,
} from "../../runtime/fixedpoint_exp.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

// ---------------------------------------------------------------------------
// BigInt transcription of gemmlowp's scalar int32 code.

const B_MIN = -(1n << 31n);
const B_MAX = (1n << 31n) - 1n;

/** int32 wraparound, as the compiled C++ additions behave. */
function wrap(x: bigint): bigint {
  return BigInt.asIntN(32, x);
}

function refHighMul(a: bigint, b: bigint): bigint {
  if (a === B_MIN && b === B_MIN) return B_MAX;
  const product = a * b;
  const nudge = product >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return (product + nudge) / (1n << 31n);
}

function refDivideByPOT(x: bigint, exponent: number): bigint {
  const e = BigInt(exponent);
  const mask = (1n << e) - 1n;
  const remainder = x & mask;
  const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
  return (x >> e) + (remainder > threshold ? 1n : 0n);
}

function refMultiplyByPOT(x: bigint, exponent: number): bigint {
  if (exponent < 0) return refDivideByPOT(x, -exponent);
  if (exponent === 0) return x;
  const threshold = (1n << BigInt(31 - exponent)) - 1n;
  if (x > threshold) return B_MAX;
  if (x < -threshold) return B_MIN;
  return x * (1n << BigInt(exponent));
}

function refHalfSum(a: bigint, b: bigint): bigint {
  const sum = a + b;
  const sign = sum >= 0n ? 1n : -1n;
  return (sum + sign) / 2n;
}

function refExpQuarter(a: bigint): bigint {
  const constantTerm = 1895147668n;
  const oneThird = 715827883n;
  const x = wrap(a + (1n << 28n));
  const x2 = refHighMul(x, x);
  const x3 = refHighMul(x2, x);
  const x4 = refHighMul(x2, x2);
  const x4Over4 = refMultiplyByPOT(x4, -2);
  const poly = refMultiplyByPOT(wrap(refHighMul(wrap(x4Over4 + x3), oneThird) + x2), -1);
  return wrap(constantTerm + refHighMul(constantTerm, wrap(x + poly)));
}

const REF_BARREL: ReadonlyArray<[number, bigint]> = [
  [-2, 1672461947n],
  [-1, 1302514674n],
  [0, 790015084n],
  [1, 290630308n],
  [2, 39332535n],
  [3, 720401n],
  [4, 242n],
];

function refExpNegative(a: bigint, integerBits: number): bigint {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1n << BigInt(fractionalBits - 2);
  const mask = oneQuarter - 1n;
  const aModQuarterMinusOneQuarter = wrap((a & mask) - oneQuarter);
  let result = refExpQuarter(refMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits));
  const remainder = wrap(aModQuarterMinusOneQuarter - a);
  for (const [exponent, multiplier] of REF_BARREL) {
    if (integerBits > exponent && (remainder & (1n << BigInt(fractionalBits + exponent))) !== 0n) {
      result = refHighMul(result, multiplier);
    }
  }
  if (integerBits > 5 && a < -(1n << BigInt(36 - integerBits))) result = 0n;
  if (a === 0n) result = B_MAX;
  return result;
}

function refOneOverOnePlusX(a: bigint): bigint {
  const halfDenominator = refHalfSum(a, B_MAX);
  let x = wrap(1515870810n + refHighMul(halfDenominator, -1010580540n));
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = refHighMul(halfDenominator, x);
    const oneMinus = wrap((1n << 29n) - halfDenominatorTimesX);
    x = wrap(x + refMultiplyByPOT(refHighMul(x, oneMinus), 2));
  }
  return refMultiplyByPOT(x, 1);
}

/** TFLM's GetReciprocal: returns [shifted scale, num_bits_over_unit]. */
function refGetReciprocal(x: bigint, integerBits: number): [bigint, number] {
  let headroomPlusOne = 0;
  const unsigned = BigInt.asUintN(32, x);
  while (headroomPlusOne < 32 && (unsigned & (1n << BigInt(31 - headroomPlusOne))) === 0n) headroomPlusOne++;
  const shiftedMinusOne = BigInt.asIntN(32, BigInt.asUintN(32, unsigned << BigInt(headroomPlusOne)) - (1n << 31n));
  return [refOneOverOnePlusX(shiftedMinusOne), integerBits - headroomPlusOne];
}

// ---------------------------------------------------------------------------
// Inputs.

/** Seeded xorshift32, so failures reproduce. */
function randomInt32s(count: number, seed: number): number[] {
  let state = seed | 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values.push(state | 0);
  }
  return values;
}

/** gemmlowp's test values: +-(2^i + {-2..2}), the int32 extremes, zero and random values. */
function testValues(): number[] {
  const values: number[] = [0];
  for (let i = 0; i < 31; i++) {
    for (let delta = -2; delta <= 2; delta++) {
      values.push(((1 << i) + delta) | 0, (-(1 << i) + delta) | 0);
    }
  }
  values.push(INT32_MIN, INT32_MIN + 1, INT32_MIN + 2, INT32_MAX - 2, INT32_MAX - 1, INT32_MAX);
  return values.concat(randomInt32s(2000, 0x2545f491));
}

function clampValues(values: readonly number[], min: number, max: number): number[] {
  return values.map((v) => Math.min(max, Math.max(min, v)));
}

/** gemmlowp's FromDouble for Q0: round to the nearest raw value, saturated. */
function q0FromReal(x: number): number {
  return Math.min(INT32_MAX, Math.max(INT32_MIN, Math.round(x * 2 ** 31)));
}

// ---------------------------------------------------------------------------
// Primitives.

test("saturatingRoundingMultiplyByPOT hand cases", () => {
  assert.is(saturatingRoundingMultiplyByPOT(3, -1), 2, "1.5 rounds away from zero");
  assert.is(saturatingRoundingMultiplyByPOT(-3, -1), -2, "-1.5 rounds away from zero");
  assert.is(saturatingRoundingMultiplyByPOT(5, -2), 1, "1.25 rounds to 1");
  assert.is(saturatingRoundingMultiplyByPOT(7, 0), 7, "exponent 0 is the identity");
  assert.is(saturatingRoundingMultiplyByPOT(3, 4), 48, "left shift");
  assert.is(saturatingRoundingMultiplyByPOT(1 << 30, 1), INT32_MAX, "2^31 saturates");
  assert.is(saturatingRoundingMultiplyByPOT((1 << 30) - 1, 1), 0x7ffffffe, "just below saturation");
  assert.is(saturatingRoundingMultiplyByPOT(-(1 << 30), 1), INT32_MIN, "-2^31 is the minimum");
  assert.is(saturatingRoundingMultiplyByPOT(-(1 << 30) - 1, 1), INT32_MIN, "below -2^31 saturates");
});

test("saturatingRoundingMultiplyByPOT matches gemmlowp", () => {
  for (const x of testValues()) {
    for (let exponent = -31; exponent <= 31; exponent++) {
      const expected = Number(refMultiplyByPOT(BigInt(x), exponent));
      assert.is(saturatingRoundingMultiplyByPOT(x, exponent), expected, `x ${x}, exponent ${exponent}`);
    }
  }
});

test("rescale converts integer bits", () => {
  // 1.5 is 1.5 * 2^26 in Q5 and 1.5 * 2^19 in Q12.
  assert.is(rescale(3 << 25, 5, 12), 3 << 18);
  // -0.25 is -2^29 in Q0 and -2^24 in Q5.
  assert.is(rescale(-(1 << 29), 0, 5), -(1 << 24));
  assert.is(rescale(-(1 << 24), 5, 0), -(1 << 29));
});

test("roundingHalfSum hand cases", () => {
  assert.is(roundingHalfSum(1, 2), 2, "1.5 rounds up");
  assert.is(roundingHalfSum(-1, -2), -2, "-1.5 rounds down");
  assert.is(roundingHalfSum(-1, 0), -1, "-0.5 rounds away from zero");
  assert.is(roundingHalfSum(1, 0), 1, "0.5 rounds away from zero");
  assert.is(roundingHalfSum(INT32_MAX, INT32_MAX), INT32_MAX, "no overflow at the maximum");
  assert.is(roundingHalfSum(INT32_MIN, INT32_MIN), INT32_MIN, "no overflow at the minimum");
  assert.is(roundingHalfSum(INT32_MAX, INT32_MIN), -1, "-0.5 from the extremes");
});

test("roundingHalfSum matches gemmlowp", () => {
  const values = testValues();
  const others = randomInt32s(values.length, 0x1234567);
  values.forEach((a, i) => {
    for (const b of [others[i], INT32_MAX, INT32_MIN, 0, -1, 1, a]) {
      assert.is(roundingHalfSum(a, b), Number(refHalfSum(BigInt(a), BigInt(b))), `a ${a}, b ${b}`);
    }
  });
});

// ---------------------------------------------------------------------------
// exp.

test("exp on [-1/4, 0) matches gemmlowp", () => {
  for (const a of clampValues(testValues(), -(1 << 29), 0)) {
    assert.is(expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a), Number(refExpQuarter(BigInt(a))), `a ${a}`);
  }
});

test("exp on [-1/4, 0) within 500 raw units", () => {
  for (const a of clampValues(testValues(), -(1 << 29), 0)) {
    const expected = q0FromReal(Math.exp(a / 2 ** 31));
    const actual = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a);
    assert.ok(Math.abs(actual - expected) <= 500, `a ${a}: ${actual} vs exp ${expected}`);
  }
});

for (let integerBits = 0; integerBits <= 6; integerBits++) {
  test(`expOnNegativeValues Q${integerBits} matches gemmlowp`, () => {
    for (const a of clampValues(testValues(), INT32_MIN, 0)) {
      assert.is(expOnNegativeValues(a, integerBits), Number(refExpNegative(BigInt(a), integerBits)), `a ${a}`);
    }
  });

  test(`expOnNegativeValues Q${integerBits} within 500 raw units`, () => {
    for (const a of clampValues(testValues(), INT32_MIN, 0)) {
      const expected = q0FromReal(Math.exp(a / 2 ** (31 - integerBits)));
      const actual = expOnNegativeValues(a, integerBits);
      assert.ok(Math.abs(actual - expected) <= 500, `a ${a}: ${actual} vs exp ${expected}`);
    }
  });
}

test("expOnNegativeValues hand cases", () => {
  assert.is(expOnNegativeValues(0, 5), Q0_ONE, "exp(0) saturates to the Q0 maximum");
  // exp(-1) * 2^31 = 790015084.2
  const expMinusOne = expOnNegativeValues(-(1 << 26), 5);
  assert.ok(Math.abs(expMinusOne - 790015084) <= 500, `exp(-1) in Q5 is ${expMinusOne}`);
  // exp(-32) * 2^31 = 2.7e-5, so the raw result is 0 or 1.
  const expMinusThirtyTwo = expOnNegativeValues(INT32_MIN, 5);
  assert.ok(expMinusThirtyTwo >= 0, `exp(-32) in Q5 is ${expMinusThirtyTwo}`);
  assert.ok(expMinusThirtyTwo <= 1, `exp(-32) in Q5 is ${expMinusThirtyTwo}`);
  assert.is(expOnNegativeValues(INT32_MIN, 6), 0, "Q6 clamps below -32 to zero");
});

// ---------------------------------------------------------------------------
// Reciprocal.

test("oneOverOnePlusXForXIn01 matches gemmlowp", () => {
  for (const a of clampValues(testValues(), 0, INT32_MAX)) {
    assert.is(oneOverOnePlusXForXIn01(a), Number(refOneOverOnePlusX(BigInt(a))), `a ${a}`);
  }
});

test("oneOverOnePlusXForXIn01 within 6 raw units", () => {
  for (const a of clampValues(testValues(), 0, INT32_MAX)) {
    const expected = q0FromReal(1 / (1 + a / 2 ** 31));
    const actual = oneOverOnePlusXForXIn01(a);
    assert.ok(Math.abs(actual - expected) <= 6, `a ${a}: ${actual} vs 1/(1+x) ${expected}`);
  }
  assert.is(oneOverOnePlusXForXIn01(0), Q0_ONE, "1/(1+0) saturates to the Q0 maximum");
});

test("getReciprocal matches TFLM", () => {
  for (const x of clampValues(testValues(), 1, INT32_MAX)) {
    for (const integerBits of [0, 5, 12]) {
      const [scale, bitsOverUnit] = refGetReciprocal(BigInt(x), integerBits);
      assert.is(getReciprocal(x, integerBits), Number(scale), `x ${x}, Q${integerBits} scale`);
      assert.is(reciprocalBitsOverUnit(x, integerBits), bitsOverUnit, `x ${x}, Q${integerBits} bits over unit`);
    }
  }
});

test("getReciprocal approximates 1/x", () => {
  // Sums of exps in softmax: Q12 values from 1.0 (raw 2^19) upward.
  for (const x of clampValues(testValues(), 1 << 19, INT32_MAX)) {
    const real = x / 2 ** 19;
    const bits = reciprocalBitsOverUnit(x, 12);
    const expected = q0FromReal(2 ** bits / real);
    const actual = getReciprocal(x, 12);
    assert.ok(Math.abs(actual - expected) <= 6, `x ${real}: ${actual} vs ${expected}`);
  }
});

test("getReciprocal hand cases", () => {
  // 1.0 and 2.0 in Q12: the scaled reciprocal is 1 (saturated), with 0 and
  // 1 bits over unit.
  assert.is(getReciprocal(1 << 19, 12), Q0_ONE);
  assert.is(reciprocalBitsOverUnit(1 << 19, 12), 0);
  assert.is(getReciprocal(1 << 20, 12), Q0_ONE);
  assert.is(reciprocalBitsOverUnit(1 << 20, 12), 1);
  // 3.0 in Q12: 1/3 = (2/3) * 2^-1, and 2/3 in Q0 is about 1431655765.
  assert.ok(Math.abs(getReciprocal(3 << 19, 12) - 1431655765) <= 6);
  assert.is(reciprocalBitsOverUnit(3 << 19, 12), 1);
});

test.run();
