// The "qnnpack-precise" scheme: original QNNPACK's precise requantization
// (pytorch/QNNPACK at commit 7d2a4e99, precise-scalar.c), one rounding of
// the exact product with ties away from zero, against exact BigInt
// rationals and tables.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { UnsupportedError } from "../../runtime/errors.js";
import { qnnpackPreciseScheme } from "../../runtime/requantization/qnnpack_precise.js";
import {
  INT32_EDGE_ACCUMULATORS,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  expectError,
  layerWithScale,
  randomScaleCases,
  scaleRequantizer,
} from "./helpers.js";
import { preciseReference } from "./qnnpack_reference.js";
import { seededRandom } from "./reference.js";

const requantize = scaleRequantizer(qnnpackPreciseScheme);

test("accumulator: ties away from zero", () => {
  checkTable("scale 0.5", [[3, 2], [-3, -2], [5, 3], [-5, -3], [1, 1], [-1, -1]], (acc) => requantize(0.5, acc));
  checkTable("scale 0.25", [[2, 1], [-2, -1], [6, 2], [-6, -2], [1, 0], [-1, 0], [3, 1]], (acc) => requantize(0.25, acc));
  // 7 / 16 = 0.4375 rounds to 0, where the double-rounding schemes give 1.
  assert.is(requantize(2 ** -4, 7), 0);
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 32, [0, 37, 128, 255]);
});

test("accumulator: extreme int32 accumulators", () => {
  const scales = [Math.fround(0.99999994), 0.5, Math.fround(0.75), 2 ** -31, 2 ** -32, Math.fround(0.0123)];
  checkScalesAndAccumulators(requantize, scales, INT32_EDGE_ACCUMULATORS, (scale, acc, zeroPoint) => preciseReference(acc, scale) + zeroPoint);
});

test("accumulator: 200 000 random cases against the exact rational value", () => {
  for (const { scale, zeroPoint, acc, actual } of randomScaleCases(qnnpackPreciseScheme, seededRandom(51), [-32, 0], [0, 255])) {
    if (actual !== preciseReference(acc, scale) + zeroPoint) assert.unreachable(`scale ${scale}, acc ${acc}: ${actual}`);
  }
});

test("accumulator: per-channel scales and an int32 bias", () => {
  const requantizer = qnnpackPreciseScheme.accumulator({
    kind: "fully_connected",
    inputScale: 0.5,
    weightScales: [0.25, 0.125],
    outputScale: 1,
    outputZeroPoint: 3,
    channels: 2,
    bias: new Int32Array([4, -4]),
  });
  // (acc + bias) * 0.125 and * 0.0625.
  assert.is(requantize(0.125, 8, 3), 4);
  assert.is(requantizer.requantize(8, 0), 5);
  assert.is(requantizer.requantize(4, 1), 3);
  assert.is(requantizer.requantize(-4, 1), 2);
});

test("accumulator: scales outside [2^-32, 1) are unsupported", () => {
  expectError(() => qnnpackPreciseScheme.accumulator(layerWithScale(1)), UnsupportedError, "[2^-32, 1)");
  expectError(() => qnnpackPreciseScheme.accumulator(layerWithScale(2 ** -33)), UnsupportedError, "[2^-32, 1)");
});

test("rescale: precise requantization of x - zi", () => {
  const rescale = qnnpackPreciseScheme.rescale({ inputScale: 0.3, inputZeroPoint: 10, outputScale: 0.7, outputZeroPoint: 100 });
  const scale = Math.fround(Math.fround(0.3) / Math.fround(0.7));
  for (let x = 0; x < 256; x++) assert.is(rescale(x), preciseReference(x - 10, scale) + 100);
  expectError(
    () => qnnpackPreciseScheme.rescale({ inputScale: 0.7, inputZeroPoint: 10, outputScale: 0.3, outputZeroPoint: 100 }),
    UnsupportedError,
    "rescale factor",
  );
});

test.run();
