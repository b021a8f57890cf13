// The "tflm" scheme: gemmlowp double rounding as TFLM's reference kernels
// compute it (tflite-micro at commit 90b983c2), against exact BigInt
// references of the C definitions and tables of hand-checked values.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { tflmScheme } from "../../runtime/requantization/tflm.js";
import {
  INT32_EDGE_ACCUMULATORS,
  INT32_MAX,
  INT32_MIN,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  checkTfliteAdds,
  expectError,
  layerWithScale,
  randomScaleCases,
  scaleRequantizer,
} from "./helpers.js";
import { dyadicOfDouble, randomAccumulator, randomInt, randomScale, roundHalfEvenDiv, roundProduct, seededRandom } from "./reference.js";
import { multiplyDoubleRounding, quantizeMultiplierReference } from "./tflite_reference.js";

const requantize = scaleRequantizer(tflmScheme);

test("accumulator: ties by shift", () => {
  // Scale 0.5 is M = 2^30 with no right shift: only the high multiply
  // rounds, ties toward +infinity.
  checkTable("scale 0.5", [[3, 2], [-3, -1], [5, 3], [-5, -2], [1, 1], [-1, 0]], (acc) => requantize(0.5, acc));
  // Scale 0.25 is M = 2^30 and a right shift by 1: ties away from zero.
  checkTable("scale 0.25", [[2, 1], [-2, -1], [6, 2], [-6, -2], [10, 3], [-10, -3]], (acc) => requantize(0.25, acc));
});

test("accumulator: double rounding compounds", () => {
  // x * M / 2^31 rounds first (1 * 2^30 / 2^31 = 0.5 -> 1), then the shift
  // rounds that 1 / 2 = 0.5 away from zero: 0.25 becomes 1.
  assert.is(requantize(0.25, 1), 1);
  assert.is(requantize(0.25, -1), 0);
  // 7 / 16 = 0.4375: 7 / 2 = 3.5 -> 4, then 4 / 8 = 0.5 -> 1.
  assert.is(requantize(2 ** -4, 7), 1);
  assert.is(requantize(2 ** -4, -7), 0);
  assert.is(requantize(2 ** -4, 4), 0);
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 24, [0, 37, -128, 255]);
});

/** Expected output of TFLM for one accumulator, from the exact reference. */
function expected(scale: number, acc: number, zeroPoint: number): number {
  const multiplier = quantizeMultiplierReference(scale, false);
  if (multiplier === null) throw new Error(`scale ${scale} has no TFLM multiplier`);
  return multiplyDoubleRounding(acc, multiplier) + zeroPoint;
}

test("accumulator: extreme int32 accumulators", () => {
  const scales = [Math.fround(0.99999994), 0.5, 2 ** -31, 2 ** -32, 1.5, 3, 2 ** 20, Math.fround(0.0123)];
  checkScalesAndAccumulators(requantize, scales, INT32_EDGE_ACCUMULATORS, expected);
  // A scale below about 2^-31 flushes the multiplier to 0.
  assert.is(requantize(2 ** -33, INT32_MAX, 7), 7);
});

test("accumulator: 200 000 random cases against the exact reference", () => {
  for (const { scale, zeroPoint, acc, actual } of randomScaleCases(tflmScheme, seededRandom(21), [-30, 8], [-128, 255])) {
    if (actual !== expected(scale, acc, zeroPoint)) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual}`);
    // Against the rational value: double rounding errs by at most one.
    if (scale < 1) {
      const nearest = Number(roundProduct(BigInt(acc), dyadicOfDouble(scale), roundHalfEvenDiv)) + zeroPoint;
      if (Math.abs(actual - nearest) > 1) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual} vs ${nearest}`);
    }
  }
});

test("accumulator: conv multiplies scales in double, fully connected in float32", () => {
  // fl(sx * sw) differs from sx * sw here, and so do the multipliers.
  const inputScale = Math.fround(0.0123456);
  const weightScale = Math.fround(0.00789);
  const outputScale = Math.fround(0.0456);
  const layer = { inputScale, weightScales: [weightScale], outputScale, outputZeroPoint: 3, channels: 1, bias: null };
  const conv = tflmScheme.accumulator({ ...layer, kind: "conv" });
  const fullyConnected = tflmScheme.accumulator({ ...layer, kind: "fully_connected" });
  const convMultiplier = quantizeMultiplierReference((inputScale * weightScale) / outputScale, false)!;
  const fullyConnectedMultiplier = quantizeMultiplierReference(Math.fround(inputScale * weightScale) / outputScale, false)!;
  assert.is.not(convMultiplier.multiplier, fullyConnectedMultiplier.multiplier);
  const random = seededRandom(22);
  for (let i = 0; i < 5000; i++) {
    const acc = randomAccumulator(random);
    assert.is(conv.requantize(acc, 0), multiplyDoubleRounding(acc, convMultiplier) + 3);
    assert.is(fullyConnected.requantize(acc, 0), multiplyDoubleRounding(acc, fullyConnectedMultiplier) + 3);
  }
  // Per-channel fully connected uses double, as conv does.
  const perChannel = tflmScheme.accumulator({ ...layer, kind: "fully_connected", weightScales: [weightScale, weightScale], channels: 2 });
  assert.is(perChannel.requantize(123456, 1), multiplyDoubleRounding(123456, convMultiplier) + 3);
});

test("accumulator: int32 bias wraps, float bias rounds half away", () => {
  const withInt32 = tflmScheme.accumulator(layerWithScale(0.5, 0, new Int32Array([1])));
  assert.is(withInt32.requantize(INT32_MAX, 0), INT32_MIN / 2);
  // b / (sx * sw) = 2.5 and -2.5 round away from zero, to 3 and -3.
  const withFloat = tflmScheme.accumulator({
    kind: "conv",
    inputScale: 0.5,
    weightScales: [0.25, 0.25],
    outputScale: 0.125,
    outputZeroPoint: 0,
    channels: 2,
    bias: new Float32Array([0.3125, -0.3125]),
  });
  assert.is(withFloat.requantize(0, 0), 3);
  assert.is(withFloat.requantize(0, 1), -3);
});

test("accumulator: invalid layers", () => {
  expectError(() => tflmScheme.accumulator(layerWithScale(0)), InvalidModelError, "weight scale of channel 0");
  expectError(() => tflmScheme.accumulator(layerWithScale(2 ** 31)), InvalidModelError, "int32 requantization range");
  expectError(
    () => tflmScheme.accumulator({ ...layerWithScale(1), weightScales: [1, 1], channels: 3 }),
    InvalidModelError,
    "2 weight scales for 3 output channels",
  );
  expectError(() => tflmScheme.accumulator({ ...layerWithScale(1), bias: new Int32Array(0) }), InvalidModelError, "bias has 0 values");
});

const unitAdd = { aScale: 1 / 16, aZeroPoint: 0, bScale: 1 / 16, bZeroPoint: 0, outputScale: 1 / 16, outputZeroPoint: 0 };

test("add: equal scales add exactly", () => {
  const adder = tflmScheme.add(unitAdd);
  for (const [a, b] of [[0, 0], [1, 2], [-128, -128], [127, 127], [-5, 3]]) assert.is(adder.add(a, b), a + b, `${a} + ${b}`);
});

test("add: 100 000 random cases against the exact reference", () => {
  checkTfliteAdds(tflmScheme, seededRandom(23), multiplyDoubleRounding);
});

test("add: an output scale too small for TFLite is unsupported", () => {
  expectError(() => tflmScheme.add({ ...unitAdd, outputScale: 2 ** -24 }), UnsupportedError, "ADD output multiplier");
});

test("average pool: raw sums round half away from zero", () => {
  const averager = tflmScheme.averagePool({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.5, outputZeroPoint: 0, memoryFormat: "contiguous" });
  checkTable("zero point 0, divisor 4", [[2, 1], [-2, -1], [6, 2], [-6, -2], [1, 0], [-1, 0], [3, 1]], (sum) => averager.average(sum, 4));
  checkTable("divisor 9", [[4, 0], [5, 1], [-5, -1], [13, 1], [14, 2]], (sum) => averager.average(sum, 9));
  // TFLM rounds the raw sum, zero points included: with zero point -128 a
  // centered 0.5 is a raw -127.5, which rounds to -128.
  const int8 = tflmScheme.averagePool({ inputScale: 0.5, inputZeroPoint: -128, outputScale: 0.5, outputZeroPoint: -128, memoryFormat: "contiguous" });
  checkTable("zero point -128, divisor 4", [[2, -128], [6, -127], [-2, -129], [0, -128]], (sum) => int8.average(sum, 4));
});

test("average pool: rescaling is unsupported", () => {
  const params = { inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.25, outputZeroPoint: 0, memoryFormat: "contiguous" as const };
  expectError(() => tflmScheme.averagePool(params), UnsupportedError, "equal input and output quantization");
  expectError(() => tflmScheme.averagePool({ ...params, outputScale: 0.5, outputZeroPoint: 1 }), UnsupportedError, "zero point 1");
});

test("rescale: TFLite's float32 requantization, ties away from zero", () => {
  const identity = tflmScheme.rescale({ inputScale: 0.3, inputZeroPoint: 5, outputScale: 0.3, outputZeroPoint: 5 });
  checkTable("identity", [[0, 0], [200, 200], [255, 255]], identity);
  const half = tflmScheme.rescale({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 1, outputZeroPoint: 3 });
  checkTable("half", [[1, 4], [3, 5], [5, 6], [2, 4], [0, 3]], half);
  const shifted = tflmScheme.rescale({ inputScale: 0.5, inputZeroPoint: 1, outputScale: 1, outputZeroPoint: 0 });
  checkTable("zero point 1", [[0, -1], [2, 1], [4, 2]], shifted);

  // Random parameters against the C expression, one float32 rounding a step.
  const random = seededRandom(24);
  for (let i = 0; i < 2000; i++) {
    const params = {
      inputScale: randomScale(random, -8, 0),
      inputZeroPoint: randomInt(random, 0, 255),
      outputScale: randomScale(random, -8, 0),
      outputZeroPoint: randomInt(random, 0, 255),
    };
    const rescale = tflmScheme.rescale(params);
    const scale = Math.fround(params.inputScale * Math.fround(1 / params.outputScale));
    const bias = Math.fround(-params.inputZeroPoint * scale);
    for (let x = 0; x < 256; x += 5) {
      const value = Math.fround(Math.fround(x * scale) + bias);
      const rounded = value < 0 ? -Math.floor(-value + 0.5) : Math.floor(value + 0.5);
      assert.is(rescale(x), rounded + params.outputZeroPoint);
    }
  }
});

test("quantizeReal: float32 division, ties away from zero", () => {
  checkTable(
    "scale 0.5",
    [[1.25, 3], [-1.25, -3], [0.75, 2], [0.2, 0], [-0.2, 0], [100, 200]],
    (real) => tflmScheme.quantizeReal(real, 0.5, 0),
  );
  assert.is(tflmScheme.quantizeReal(1.25, 0.5, -128), -125);
  // fl(x / s) = -997.49994 here, while x * fl(1 / s) would be -997.5.
  assert.is(tflmScheme.quantizeReal(-299.25, Math.fround(0.3), 0), -997);
  assert.ok(Object.is(tflmScheme.quantizeReal(-0.2, 0.5, 0), 0), "+0, not -0");
});

test.run();
