// The "single" scheme: TFLite's TFLITE_SINGLE_ROUNDING build
// (tflite-micro at commit 90b983c2, kernels/internal/common.cc), against
// exact BigInt references and tables. Ties round toward +infinity.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { singleScheme } from "../../runtime/requantization/single.js";
import { tflmScheme } from "../../runtime/requantization/tflm.js";
import { checkTable, layerWithScale } from "./helpers.js";
import {
  randomAccumulator,
  randomInt,
  randomScale,
  roundHalfUpDiv,
  roundProduct,
  seededRandom,
} from "./reference.js";
import { addReference, multiplySingleRounding, quantizeMultiplierReference } from "./tflite_reference.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function requantize(scale: number, acc: number, zeroPoint = 0): number {
  return singleScheme.accumulator(layerWithScale(scale, zeroPoint)).requantize(acc, 0);
}

test("accumulator: ties round toward +infinity", () => {
  checkTable("scale 0.5", [[3, 2], [-3, -1], [5, 3], [-5, -2], [1, 1], [-1, 0]], (acc) => requantize(0.5, acc));
  checkTable("scale 0.25", [[2, 1], [-2, 0], [6, 2], [-6, -1], [10, 3], [-10, -2]], (acc) => requantize(0.25, acc));
});

test("accumulator: one rounding, where double rounding compounds", () => {
  // The tflm scheme gives 1 for both (0.25 and 0.4375).
  assert.is(requantize(0.25, 1), 0);
  assert.is(requantize(2 ** -4, 7), 0);
  assert.is(requantize(2 ** -4, 9), 1);
});

test("accumulator: exact division by powers of two", () => {
  for (let k = 1; k <= 24; k++) {
    for (const zeroPoint of [0, 37, -128, 255]) {
      for (const j of [0, 1, -1, 5, -77, 127, -128]) {
        assert.is(requantize(2 ** -k, j * 2 ** k, zeroPoint), j + zeroPoint, `${j} * 2^${k} / 2^${k} + ${zeroPoint}`);
      }
    }
  }
});

function expected(scale: number, acc: number, zeroPoint: number): number {
  return multiplySingleRounding(acc, quantizeMultiplierReference(scale, true)!) + zeroPoint;
}

test("accumulator: extreme int32 accumulators", () => {
  const scales = [Math.fround(0.99999994), 0.5, 2 ** -31, 2 ** -32, 1.5, 3, 2 ** 20, Math.fround(0.0123)];
  const accumulators = [INT32_MIN, INT32_MIN + 1, -65536, -1, 0, 1, 65535, INT32_MAX];
  for (const scale of scales) {
    for (const acc of accumulators) assert.is(requantize(scale, acc, 7), expected(scale, acc, 7), `scale ${scale}, acc ${acc}`);
  }
  // Multipliers of 2^30 and more saturate instead of failing.
  assert.is(requantize(2 ** 31, 1), expected(2 ** 31, 1, 0));
  assert.is(requantize(2 ** 31, 1), 0x3fffffff + 1);
});

test("accumulator: 200 000 random cases against the exact rational value", () => {
  const random = seededRandom(31);
  for (let layer = 0; layer < 500; layer++) {
    const scale = randomScale(random, -30, 8);
    const zeroPoint = randomInt(random, -128, 255);
    const requantizer = singleScheme.accumulator(layerWithScale(scale, zeroPoint));
    const multiplier = quantizeMultiplierReference(scale, true)!;
    // The Q31 multiplier as an exact dyadic value M * 2^(shift - 31).
    const quantizedScale = { numerator: multiplier.multiplier, exponent: multiplier.shift - 31 };
    for (let i = 0; i < 400; i++) {
      const acc = randomAccumulator(random);
      const actual = requantizer.requantize(acc, 0);
      // One rounding of acc times the quantized multiplier, ties up, wrapped.
      const rational = Number(BigInt.asIntN(32, roundProduct(BigInt(acc), quantizedScale, roundHalfUpDiv))) + zeroPoint;
      if (actual !== rational || actual !== expected(scale, acc, zeroPoint)) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual}`);
    }
  }
});

test("add: 100 000 random cases against the exact reference", () => {
  const random = seededRandom(32);
  let checked = 0;
  while (checked < 100_000) {
    const params = {
      aScale: randomScale(random, -10, 0),
      aZeroPoint: randomInt(random, -128, 127),
      bScale: randomScale(random, -10, 0),
      bZeroPoint: randomInt(random, -128, 127),
      outputScale: randomScale(random, -10, 1),
      outputZeroPoint: randomInt(random, -128, 127),
    };
    if (addReference(0, 0, params, multiplySingleRounding) === null) continue;
    const adder = singleScheme.add(params);
    for (let i = 0; i < 200; i++) {
      const a = randomInt(random, -128, 127);
      const b = randomInt(random, -128, 127);
      const actual = adder.add(a, b);
      if (actual !== addReference(a, b, params, multiplySingleRounding)) assert.unreachable(`${JSON.stringify(params)} ${a} + ${b}: ${actual}`);
    }
    checked += 200;
  }
});

test("pooling, rescale and quantizeReal are TFLM's", () => {
  const poolParams = { inputScale: 0.5, inputZeroPoint: -3, outputScale: 0.5, outputZeroPoint: -3, memoryFormat: "contiguous" as const };
  const single = singleScheme.averagePool(poolParams);
  const tflm = tflmScheme.averagePool(poolParams);
  for (let sum = -40; sum <= 40; sum++) {
    for (const divisor of [1, 2, 4, 9]) assert.is(single.average(sum, divisor), tflm.average(sum, divisor));
  }
  const rescaleParams = { inputScale: 0.37, inputZeroPoint: 9, outputScale: 0.21, outputZeroPoint: 100 };
  const singleRescale = singleScheme.rescale(rescaleParams);
  const tflmRescale = tflmScheme.rescale(rescaleParams);
  for (let x = 0; x < 256; x++) assert.is(singleRescale(x), tflmRescale(x));
  for (const real of [-2.5, -0.25, 0.25, 1.25, 7.5]) assert.is(singleScheme.quantizeReal(real, 0.5, 1), tflmScheme.quantizeReal(real, 0.5, 1));
});

test.run();
