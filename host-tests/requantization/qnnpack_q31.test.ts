// The "qnnpack-q31" scheme: original QNNPACK's Q31 requantization
// (pytorch/QNNPACK at commit 7d2a4e99, q31-scalar.c), against exact BigInt
// references and tables.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { UnsupportedError } from "../../runtime/errors.js";
import { qnnpackQ31Scheme } from "../../runtime/requantization/qnnpack_q31.js";
import {
  INT32_EDGE_ACCUMULATORS,
  INT32_MAX,
  INT32_MIN,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  expectError,
  layerWithScale,
  randomScaleCases,
  scaleRequantizer,
} from "./helpers.js";
import { q31Reference } from "./qnnpack_reference.js";
import { dyadicOfFloat32, randomAccumulator, roundHalfEvenDiv, roundProduct, seededRandom } from "./reference.js";

const requantize = scaleRequantizer(qnnpackQ31Scheme);

test("accumulator: ties by shift", () => {
  // Scale 0.5 has shift 0: only the Q31 product rounds, ties toward +infinity.
  // microq follows the arithmetic of QNNPACK's src/requantization/q31-scalar.c:
  // (acc * 2^30 + 2^30) >> 31 maps -3 to -1, and the shift by 0 adds nothing.
  // QNNPACK's own tester expects otherwise: Q31__SCALAR.divide_by_po2_with_rounding_away
  // (test/requantization.cc, testDivideByPO2WithRoundingAway in requantization-tester.h)
  // runs s = 1, scale 2^-s = 0.5, and expects ties away from zero there, so -1 * 0.5 to give
  // -1 where q31-scalar.c computes 0 (the tester reaches this case with zero points of 1 and up; we have
  // not run QNNPACK's test). From s = 2, shift 1 and more, the tester and the code agree.
  checkTable("scale 0.5", [[3, 2], [-3, -1], [5, 3], [-5, -2]], (acc) => requantize(0.5, acc));
  // Scale 0.25 has shift 1: the remainder test rounds ties away from zero.
  checkTable("scale 0.25", [[2, 1], [-2, -1], [6, 2], [-6, -2], [10, 3], [-10, -3]], (acc) => requantize(0.25, acc));
});

test("accumulator: double rounding compounds as in gemmlowp", () => {
  assert.is(requantize(0.25, 1), 1);
  assert.is(requantize(0.25, -1), 0);
  assert.is(requantize(2 ** -4, 7), 1);
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 32, [0, 37, 128, 255]);
});

test("accumulator: multiplier and shift come from the float32 bits", () => {
  // fl(fl(sx * sw) / so) in float32, not the double quotient.
  const inputScale = Math.fround(0.0123456);
  const weightScale = Math.fround(0.00789);
  const outputScale = Math.fround(0.0456);
  const scale = Math.fround(Math.fround(inputScale * weightScale) / outputScale);
  assert.is.not(scale, (inputScale * weightScale) / outputScale);
  const requantizer = qnnpackQ31Scheme.accumulator({
    kind: "conv",
    inputScale,
    weightScales: [weightScale],
    outputScale,
    outputZeroPoint: 0,
    channels: 1,
    bias: null,
  });
  const random = seededRandom(41);
  for (let i = 0; i < 5000; i++) {
    const acc = randomAccumulator(random);
    assert.is(requantizer.requantize(acc, 0), q31Reference(acc, scale));
  }
});

test("accumulator: extreme int32 accumulators", () => {
  const scales = [Math.fround(0.99999994), 0.5, Math.fround(0.75), 2 ** -31, 2 ** -32, Math.fround(0.0123)];
  checkScalesAndAccumulators(requantize, scales, INT32_EDGE_ACCUMULATORS, (scale, acc, zeroPoint) => q31Reference(acc, scale) + zeroPoint);
});

test("accumulator: 200 000 random cases against the exact reference", () => {
  for (const { scale, zeroPoint, acc, actual } of randomScaleCases(qnnpackQ31Scheme, seededRandom(42), [-32, 0], [0, 255])) {
    if (actual !== q31Reference(acc, scale) + zeroPoint) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual}`);
    // Against the rational value: double rounding errs by at most one.
    const nearest = Number(roundProduct(BigInt(acc), dyadicOfFloat32(scale), roundHalfEvenDiv)) + zeroPoint;
    if (Math.abs(actual - nearest) > 1) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual} vs ${nearest}`);
  }
});

test("accumulator: bias is added in int32, a float bias pre-rounded as PyTorch does", () => {
  const wrapped = qnnpackQ31Scheme.accumulator(layerWithScale(0.5, 0, new Int32Array([1])));
  assert.is(wrapped.requantize(INT32_MAX, 0), q31Reference(INT32_MIN, 0.5));
  // b / (sx * sw) = 2.5 and 3.5 round to even, 2 and 4; at scale 0.5 those give 1 and 2.
  const floatBias = qnnpackQ31Scheme.accumulator({
    kind: "conv",
    inputScale: 0.5,
    weightScales: [0.25, 0.25],
    outputScale: 0.25,
    outputZeroPoint: 0,
    channels: 2,
    bias: new Float32Array([0.3125, 0.4375]),
  });
  assert.is(floatBias.requantize(0, 0), 1);
  assert.is(floatBias.requantize(0, 1), 2);
});

test("accumulator: scales outside [2^-32, 1) are unsupported", () => {
  expectError(() => qnnpackQ31Scheme.accumulator(layerWithScale(1)), UnsupportedError, "[2^-32, 1)", "output channel 0");
  expectError(() => qnnpackQ31Scheme.accumulator(layerWithScale(1.5)), UnsupportedError, "1.5");
  expectError(() => qnnpackQ31Scheme.accumulator(layerWithScale(2 ** -33)), UnsupportedError, "[2^-32, 1)");
  // The largest float32 below 1 is accepted.
  assert.is(requantize(Math.fround(0.99999994), 1000), q31Reference(1000, Math.fround(0.99999994)));
});

test("rescale: Q31 requantization of x - zi", () => {
  const params = { inputScale: 0.25, inputZeroPoint: 10, outputScale: 1, outputZeroPoint: 100 };
  const rescale = qnnpackQ31Scheme.rescale(params);
  for (let x = 0; x < 256; x++) assert.is(rescale(x), q31Reference(x - 10, 0.25) + 100);
  const identity = qnnpackQ31Scheme.rescale({ inputScale: 0.3, inputZeroPoint: 4, outputScale: 0.3, outputZeroPoint: 9 });
  checkTable("equal scales", [[4, 9], [0, 5], [255, 260]], identity);
  expectError(() => qnnpackQ31Scheme.rescale({ ...params, outputScale: 0.125 }), UnsupportedError, "output scale) 2 is outside");
});

test("quantizeReal: ties to even, as lrintf", () => {
  checkTable(
    "scale 0.5",
    [[1.25, 2], [1.75, 4], [-1.25, -2], [-1.75, -4], [0.25, 0], [0.3, 1]],
    (real) => qnnpackQ31Scheme.quantizeReal(real, 0.5, 0),
  );
  assert.is(qnnpackQ31Scheme.quantizeReal(1.25, 0.5, 128), 130);
});

test.run();
