// The "single" scheme: TFLite's TFLITE_SINGLE_ROUNDING build
// (tflite-micro at commit 90b983c2, kernels/internal/common.cc), against
// exact BigInt references and tables. Ties round toward +infinity.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError } from "../../runtime/errors.js";
import { singleScheme } from "../../runtime/requantization/single.js";
import { tflmScheme } from "../../runtime/requantization/tflm.js";
import {
  INT32_EDGE_ACCUMULATORS,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  checkTfliteAdds,
  expectError,
  layerWithScale,
  randomScaleCases,
  scaleRequantizer,
} from "./helpers.js";
import { roundHalfUpDiv, roundProduct, seededRandom } from "./reference.js";
import { multiplySingleRounding, quantizeMultiplierReference } from "./tflite_reference.js";

const requantize = scaleRequantizer(singleScheme);

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
  checkPowerOfTwoDivision(requantize, 24, [0, 37, -128, 255]);
});

function expected(scale: number, acc: number, zeroPoint: number): number {
  return multiplySingleRounding(acc, quantizeMultiplierReference(scale, true)!) + zeroPoint;
}

test("accumulator: extreme int32 accumulators", () => {
  const scales = [Math.fround(0.99999994), 0.5, 2 ** -31, 2 ** -32, 1.5, 3, 2 ** 20, Math.fround(0.0123)];
  checkScalesAndAccumulators(requantize, scales, INT32_EDGE_ACCUMULATORS, expected);
  // TFLite clamps multipliers of 2^30 and more, and then leaves the product
  // undefined for |acc| >= 3; microq rejects them as the tflm scheme does.
  expectError(() => singleScheme.accumulator(layerWithScale(2 ** 31)), InvalidModelError, "int32 requantization range");
});

test("accumulator: 200 000 random cases against the exact rational value", () => {
  for (const { scale, zeroPoint, acc, actual } of randomScaleCases(singleScheme, seededRandom(31), [-30, 8], [-128, 255])) {
    const multiplier = quantizeMultiplierReference(scale, true)!;
    // The Q31 multiplier as an exact dyadic value M * 2^(shift - 31).
    const quantizedScale = { numerator: multiplier.multiplier, exponent: multiplier.shift - 31 };
    // One rounding of acc times the quantized multiplier, ties up, wrapped.
    const rational = Number(BigInt.asIntN(32, roundProduct(BigInt(acc), quantizedScale, roundHalfUpDiv))) + zeroPoint;
    if (actual !== rational || actual !== expected(scale, acc, zeroPoint)) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual}`);
  }
});

test("add: 100 000 random cases against the exact reference", () => {
  checkTfliteAdds(singleScheme, seededRandom(32), multiplySingleRounding);
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
