// The "pytorch-qnnpack" scheme: PyTorch 1.13's qnnpack engine, float32
// requantization with ties to even. Tables of hand-checked values and
// random cases against a step-by-step float32 reference written here; the
// engine's own outputs are checked in pytorch_ops.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { pytorchQnnpackScheme } from "../../runtime/requantization/pytorch_qnnpack.js";
import { AccumulatorLayer } from "../../runtime/requantization/scheme.js";
import {
  FLOAT32_EDGE_ACCUMULATORS,
  INT32_MAX,
  INT32_MIN,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  layerWithScale,
  randomTwoChannelCases,
  scaleRequantizer,
} from "./helpers.js";
import { randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;

/** Computes the engine's conv/linear output for one channel, one float32 rounding per step. */
function reference(layer: AccumulatorLayer, channel: number, acc: number): number {
  const productScale = fl(layer.inputScale * layer.weightScales[channel]);
  let quantizedBias = 0;
  if (layer.bias instanceof Int32Array) quantizedBias = layer.bias[channel];
  else if (layer.bias !== null) quantizedBias = Math.min(INT32_MAX, Math.max(INT32_MIN, rneDouble(fl(layer.bias[channel] * fl(1 / productScale)))));
  const multiplier = fl(productScale * fl(1 / layer.outputScale));
  const biased = Number(BigInt.asIntN(32, BigInt(acc) + BigInt(quantizedBias)));
  return rneDouble(fl(fl(biased) * multiplier)) + layer.outputZeroPoint;
}

const requantize = scaleRequantizer(pytorchQnnpackScheme);

test("accumulator: ties to even, zero point added after rounding", () => {
  checkTable("scale 0.5", [[1, 0], [3, 2], [5, 2], [7, 4], [-1, 0], [-3, -2], [-5, -2]], (acc) => requantize(0.5, acc));
  checkTable("scale 0.5, zero point 1", [[1, 1], [3, 3], [5, 3]], (acc) => requantize(0.5, acc, 1));
  assert.ok(Object.is(requantize(0.5, -1), 0), "+0, not -0");
});

test("accumulator: a float bias is pre-rounded to an integer", () => {
  // b / (sx * sw) = 0.3125 / 0.125 = 2.5 rounds to bq = 2; with acc = 1 the
  // engine gives 3, where the float formula would round 3.5 to 4.
  const layer = { kind: "conv" as const, inputScale: 0.5, weightScales: [0.25], outputScale: 0.125, outputZeroPoint: 0, channels: 1 };
  const floatBias = pytorchQnnpackScheme.accumulator({ ...layer, bias: new Float32Array([0.3125]) });
  assert.is(floatBias.requantize(1, 0), 3);
  assert.is(floatBias.requantize(0, 0), 2);
  // An int32 bias is bq as stored.
  const intBias = pytorchQnnpackScheme.accumulator({ ...layer, bias: new Int32Array([5]) });
  assert.is(intBias.requantize(1, 0), 6);
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 24, [0, 37, 128, 255]);
});

test("accumulator: extreme int32 accumulators", () => {
  const scales = [fl(0.99999994), 0.5, 2 ** -31, fl(0.0123), 3];
  checkScalesAndAccumulators(requantize, scales, FLOAT32_EDGE_ACCUMULATORS, (scale, acc, zeroPoint) => reference(layerWithScale(scale, zeroPoint), 0, acc));
  // acc + bias wraps in int32 before the float conversion.
  const wrapped = pytorchQnnpackScheme.accumulator(layerWithScale(0.5, 0, new Int32Array([1])));
  assert.is(wrapped.requantize(INT32_MAX, 0), -(2 ** 30));
});

test("accumulator: 100 000 random cases against the float32 reference", () => {
  const cases = randomTwoChannelCases(pytorchQnnpackScheme, seededRandom(71), "conv", (random) => (random() < 0.3 ? "int32" : "float32"));
  for (const { layerIndex, layer, channel, acc, actual } of cases) {
    if (actual !== reference(layer, channel, acc)) assert.unreachable(`layer ${layerIndex}, acc ${acc}, channel ${channel}`);
  }
});

test("average pool: float32 multiplier, ties to even, both memory formats", () => {
  for (const memoryFormat of ["contiguous", "channels_last"] as const) {
    const averager = pytorchQnnpackScheme.averagePool({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.5, outputZeroPoint: 1, memoryFormat });
    checkTable(`${memoryFormat} divisor 4`, [[2, 1], [6, 3], [10, 3], [-2, 1], [-6, -1]], (sum) => averager.average(sum, 4));
  }
  const random = seededRandom(72);
  for (let i = 0; i < 100_000; i++) {
    const inputScale = randomScale(random, -10, 0);
    const outputScale = random() < 0.5 ? inputScale : randomScale(random, -10, 0);
    const divisor = randomInt(random, 1, 100);
    const sum = randomInt(random, -255 * divisor, 255 * divisor);
    const zeroPoint = randomInt(random, 0, 255);
    const averager = pytorchQnnpackScheme.averagePool({ inputScale, inputZeroPoint: 0, outputScale, outputZeroPoint: zeroPoint, memoryFormat: "contiguous" });
    const expected = rneDouble(fl(fl(sum) * fl(fl(inputScale) / fl(fl(outputScale) * divisor)))) + zeroPoint;
    if (averager.average(sum, divisor) !== expected) assert.unreachable(`${inputScale} ${outputScale} ${sum} / ${divisor}`);
  }
});

test("rescale: float formula in double, ties to even", () => {
  const rescale = pytorchQnnpackScheme.rescale({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("half", [[1, 1], [3, 3], [5, 3], [0, 1]], rescale);
});

test("quantizeReal: multiplies by the float32 inverse of the scale", () => {
  // fl(x * fl(1 / s)) = -997.5 rounds to -998; fl(x / s) would be -997.49994.
  assert.is(pytorchQnnpackScheme.quantizeReal(-299.25, fl(0.3), 0), -998);
  checkTable("scale 1", [[2.5, 2], [3.5, 4], [-2.5, -2], [0.5, 0]], (real) => pytorchQnnpackScheme.quantizeReal(real, 1, 0));
  assert.is(pytorchQnnpackScheme.quantizeReal(0.5, 1, 1), 1);
});

test.run();
