// The int32-limb primitives under the single-rounding and QNNPACK schemes,
// against exact BigInt arithmetic: the rounded shift of a 64-bit product,
// and the integer derivation of QNNPACK's pooling scale fl(si / fl(so * N)).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { float32ScaleQuotient } from "../../runtime/requantization/qnnpack_common.js";
import { multiplyShiftRoundHalfAway, multiplyShiftRoundHalfUp } from "../../runtime/requantization/wide_product.js";
import {
  dyadicOfFloat32,
  randomAccumulator,
  randomInt,
  roundHalfAwayDiv,
  roundHalfUpDiv,
  seededRandom,
  wrapInt32,
} from "./reference.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function expectedHalfUp(x: number, multiplier: number, shift: number): number {
  return wrapInt32(roundHalfUpDiv(BigInt(x) * BigInt(multiplier), 1n << BigInt(shift)));
}

function expectedHalfAway(x: number, multiplier: number, shift: number): number {
  return wrapInt32(roundHalfAwayDiv(BigInt(x) * BigInt(multiplier), 1n << BigInt(shift)));
}

test("product shift: table of ties", () => {
  // [x, multiplier, shift, half up, half away]: x * multiplier / 2^shift.
  const cases: [number, number, number, number, number][] = [
    [5, 1, 1, 3, 3], // 2.5
    [-5, 1, 1, -2, -3], // -2.5
    [3, 1, 1, 2, 2], // 1.5
    [-3, 1, 1, -1, -2], // -1.5
    [1, 1, 1, 1, 1], // 0.5
    [-1, 1, 1, 0, -1], // -0.5
    [-1, 1, 2, 0, 0], // -0.25
    [3, 1 << 30, 31, 2, 2], // 1.5 through a Q31 multiplier of 0.5
    [-3, 1 << 30, 31, -1, -2],
    [1, 1, 62, 0, 0],
    [-1, 0x7fffffff, 62, 0, 0],
    [7, 0, 20, 0, 0],
    [-7, 0, 20, 0, 0],
  ];
  for (const [x, multiplier, shift, halfUp, halfAway] of cases) {
    assert.is(multiplyShiftRoundHalfUp(x, multiplier, shift), halfUp, `half up ${x} * ${multiplier} / 2^${shift}`);
    assert.is(multiplyShiftRoundHalfAway(x, multiplier, shift), halfAway, `half away ${x} * ${multiplier} / 2^${shift}`);
  }
});

test("product shift: int32 extremes at every shift", () => {
  const xs = [INT32_MIN, INT32_MIN + 1, -65536, -65535, -1, 0, 1, 65535, 65536, INT32_MAX];
  const multipliers = [0, 1, 0xffff, 0x10000, 0x40000000, 0x7fffff80, 0x7fffffff];
  for (let shift = 1; shift <= 62; shift++) {
    for (const x of xs) {
      for (const multiplier of multipliers) {
        assert.is(multiplyShiftRoundHalfUp(x, multiplier, shift), expectedHalfUp(x, multiplier, shift), `${x} * ${multiplier} >> ${shift}`);
        assert.is(multiplyShiftRoundHalfAway(x, multiplier, shift), expectedHalfAway(x, multiplier, shift), `${x} * ${multiplier} >> ${shift}`);
      }
    }
  }
});

test("product shift: 300 000 random cases exact", () => {
  const random = seededRandom(11);
  for (let i = 0; i < 300_000; i++) {
    const x = randomAccumulator(random);
    const multiplier = random() < 0.5 ? randomInt(random, 0x800000, 0xffffff) : randomInt(random, 0, INT32_MAX);
    const shift = randomInt(random, 1, 62);
    const halfUp = multiplyShiftRoundHalfUp(x, multiplier, shift);
    const halfAway = multiplyShiftRoundHalfAway(x, multiplier, shift);
    if (halfUp !== expectedHalfUp(x, multiplier, shift) || halfAway !== expectedHalfAway(x, multiplier, shift)) {
      assert.unreachable(`${x} * ${multiplier} >> ${shift}: got ${halfUp} and ${halfAway}`);
    }
  }
});

/** Mantissa and exponent of a normal float32 as float32ScaleQuotient takes them. */
function parts(scale: number): [number, number] {
  const value = dyadicOfFloat32(scale);
  return [Number(value.numerator), value.exponent];
}

function checkQuotient(inputScale: number, outputScale: number, divisor: number, result: Int32Array): void {
  const [inputMantissa, inputExponent] = parts(inputScale);
  const [outputMantissa, outputExponent] = parts(outputScale);
  float32ScaleQuotient(inputMantissa, inputExponent, outputMantissa, outputExponent, divisor, result);
  const expected = dyadicOfFloat32(Math.fround(inputScale / Math.fround(outputScale * divisor)));
  if (result[0] !== Number(expected.numerator) || -result[1] !== expected.exponent) {
    assert.unreachable(
      `fl(${inputScale} / fl(${outputScale} * ${divisor})): got ${result[0]} * 2^-${result[1]}, ` +
        `expected ${expected.numerator} * 2^${expected.exponent}`,
    );
  }
}

test("pooling scale quotient: table and edge divisors", () => {
  const result = new Int32Array(2);
  // fl(fl(2/3) * 3) rounds up to 2, which renormalizes the product.
  const scales = [1, 0.5, 0.75, Math.fround(0.1), Math.fround(1 / 3), Math.fround(2 / 3), Math.fround(0.0294099), Math.fround(1 - 2 ** -24), Math.fround(1 + 2 ** -23)];
  const divisors = [1, 2, 3, 4, 9, 36, 49, 64, 255, 4096, 4097, 0x7fffff, 0x800000, 0x800001, 0xfffffe, 0xffffff];
  for (const inputScale of scales) {
    for (const outputScale of scales) {
      for (const divisor of divisors) checkQuotient(inputScale, outputScale, divisor, result);
    }
  }
});

test("pooling scale quotient: 200 000 random cases exact", () => {
  const random = seededRandom(12);
  const result = new Int32Array(2);
  for (let i = 0; i < 200_000; i++) {
    const outputScale = Math.fround(2 ** (-12 + random() * 16));
    const inputScale = Math.fround(outputScale * 2 ** (-8 + random() * 16));
    const divisor = random() < 0.7 ? randomInt(random, 1, 400) : randomInt(random, 1, 0xffffff);
    checkQuotient(inputScale, outputScale, divisor, result);
  }
});

test.run();
