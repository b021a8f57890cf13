// int64 helpers of the 16x8 kernels against a BigInt transcription of
// TFLM's int64 MultiplyByQuantizedMultiplier (double-rounding build,
// tensorflow/lite/kernels/internal/common.cc at tflite-micro commit
// 90b983c2) and of plain int64 addition.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  INT16X8_PRODUCTS_PER_PARTIAL_SUM,
  SPLIT_SUM_MAX_TERMS,
  addInt64High,
  addInt64Low,
  multiplyByQuantizedMultiplierInt64,
  multiplyInt64ByQ15,
  reduceMultiplierToQ15,
  splitSumHigh,
  splitSumLow,
} from "../../runtime/fixedpoint64.js";

/** TFLM's int64 MultiplyByQuantizedMultiplier, with int64 wrapping and the int32 cast. */
function referenceMultiply(x: bigint, multiplierQ31: number, shift: number): number {
  const reduced = multiplierQ31 < 0x7fff0000 ? (multiplierQ31 + (1 << 15)) >> 16 : 0x7fff;
  const totalShift = BigInt(15 - shift);
  const rounded = BigInt.asIntN(64, x * BigInt(reduced) + (1n << (totalShift - 1n)));
  // BigInt >> is an arithmetic (flooring) shift, as int64 >> is on every TFLM target.
  return Number(BigInt.asIntN(32, rounded >> totalShift));
}

function words(x: bigint): [number, number] {
  const wrapped = BigInt.asUintN(64, x);
  return [Number(BigInt.asIntN(32, wrapped >> 32n)), Number(BigInt.asIntN(32, wrapped))];
}

function fromWords(high: number, low: number): bigint {
  return (BigInt(high) << 32n) + BigInt(low >>> 0);
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

function randomInt64(next: () => number): bigint {
  return fromWords(next(), next());
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

const EDGE_VALUES: bigint[] = [
  0n, 1n, -1n, 2n, -2n, 127n, -128n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n,
  -0x100000000n, (1n << 47n) - 1n, -(1n << 47n), (1n << 46n) + 12345n, INT64_MIN, INT64_MAX,
  // Ties of the rounding shift for several shifts, and their neighbours.
  1n << 7n, (1n << 7n) - 1n, -(1n << 7n), 3n << 14n, -(3n << 14n), 1n << 30n, -(1n << 30n), 1n << 45n, -(1n << 45n),
];

const EDGE_MULTIPLIERS = [0, 1, 0x7fff, 0x8000, 1 << 30, 0x40008000, 0x7ffeffff, 0x7fff0000, 0x7fff7fff, 0x7fffffff];

test("Q15 reduction: TFLM's rounding and cap", () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [0x7fff, 0],
    [0x8000, 1],
    [1 << 30, 0x4000],
    [0x40007fff, 0x4000],
    [0x40008000, 0x4001],
    [0x7ffeffff, 0x7fff],
    [0x7fff0000, 0x7fff],
    [0x7fffffff, 0x7fff],
  ];
  for (const [q31, q15] of cases) assert.is(reduceMultiplierToQ15(q31), q15, `multiplier ${q31}`);
});

test("int64 multiply: edge values, every shift", () => {
  let checked = 0;
  for (const x of EDGE_VALUES) {
    const [high, low] = words(x);
    for (const multiplier of EDGE_MULTIPLIERS) {
      for (let shift = -31; shift <= 7; shift++) {
        const expected = referenceMultiply(x, multiplier, shift);
        const actual = multiplyByQuantizedMultiplierInt64(high, low, multiplier, shift);
        if (actual !== expected) assert.unreachable(`x ${x}, multiplier ${multiplier}, shift ${shift}: ${actual}, expected ${expected}`);
        checked++;
      }
    }
  }
  assert.is(checked, EDGE_VALUES.length * EDGE_MULTIPLIERS.length * 39);
});

test("int64 multiply: random int64 and accumulator-sized x", () => {
  const next = random32(0x5eed64);
  for (let i = 0; i < 200000; i++) {
    // Alternate full-range int64 with values in TFLM's documented range
    // (|x| < 2^47) and small ones, where results do not saturate the cast.
    let x = randomInt64(next);
    if (i % 3 === 1) x = BigInt.asIntN(48, x);
    if (i % 3 === 2) x = BigInt.asIntN(30, x);
    const multiplier = i % 5 === 0 ? EDGE_MULTIPLIERS[(next() >>> 0) % EDGE_MULTIPLIERS.length] : next() >>> 1;
    const shift = ((next() >>> 0) % 39) - 31;
    const [high, low] = words(x);
    const expected = referenceMultiply(x, multiplier, shift);
    const actual = multiplyByQuantizedMultiplierInt64(high, low, multiplier, shift);
    if (actual !== expected) assert.unreachable(`x ${x}, multiplier ${multiplier}, shift ${shift}: ${actual}, expected ${expected}`);
  }
});

test("int64 multiply: prepared Q15 form matches", () => {
  const next = random32(77);
  for (let i = 0; i < 20000; i++) {
    const x = BigInt.asIntN(48, randomInt64(next));
    const multiplier = next() >>> 1;
    const shift = ((next() >>> 0) % 39) - 31;
    const [high, low] = words(x);
    assert.is(multiplyInt64ByQ15(high, low, reduceMultiplierToQ15(multiplier), 15 - shift), referenceMultiply(x, multiplier, shift));
  }
});

test("int64 add: wraps modulo 2^64", () => {
  const next = random32(1234);
  const values = [...EDGE_VALUES];
  for (let i = 0; i < 2000; i++) values.push(randomInt64(next));
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < 40; j++) {
      const a = values[i];
      const b = values[(i * 7 + j * 13) % values.length];
      const [aHigh, aLow] = words(a);
      const [bHigh, bLow] = words(b);
      const [expectedHigh, expectedLow] = words(a + b);
      assert.is(addInt64Low(aLow, bLow), expectedLow, `${a} + ${b}, low word`);
      assert.is(addInt64High(aHigh, aLow, bHigh, bLow), expectedHigh, `${a} + ${b}, high word`);
    }
  }
});

test("split sum: exact total of int32 partial sums", () => {
  const next = random32(99);
  const extremes = [0x7fffffff, -0x80000000, -1, 0, 1, 0x10000, -0x10000];
  for (let trial = 0; trial < 300; trial++) {
    const terms = trial === 0 ? SPLIT_SUM_MAX_TERMS : ((next() >>> 0) % 2000) + 1;
    let sumHigh = 0;
    let sumLow = 0;
    let expected = 0n;
    for (let t = 0; t < terms; t++) {
      // The first trial adds the minimum partial sum as often as allowed.
      let partial = next();
      if (t % 11 === 0) partial = extremes[t % extremes.length];
      if (trial === 0) partial = -0x80000000;
      sumLow += partial & 0xffff;
      sumHigh += partial >> 16;
      expected += BigInt(partial);
    }
    const [expectedHigh, expectedLow] = words(expected);
    assert.is(splitSumHigh(sumHigh, sumLow), expectedHigh, `trial ${trial}, high word`);
    assert.is(splitSumLow(sumHigh, sumLow), expectedLow, `trial ${trial}, low word`);
  }
});

test("partial sum bound: 511 int16 x int8 products fit int32", () => {
  const most = INT16X8_PRODUCTS_PER_PARTIAL_SUM * 32768 * 128;
  const least = INT16X8_PRODUCTS_PER_PARTIAL_SUM * -32768 * 127;
  assert.ok(most <= 0x7fffffff, `${most}`);
  assert.ok(least >= -0x80000000, `${least}`);
  assert.ok((INT16X8_PRODUCTS_PER_PARTIAL_SUM + 1) * 32768 * 128 > 0x7fffffff);
});

test.run();
