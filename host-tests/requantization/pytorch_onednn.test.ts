// The "pytorch-onednn" scheme: PyTorch 1.13's onednn engine, float32
// requantization with the zero point inside the tie-break. Tables of
// hand-checked values and random cases against a step-by-step float32
// reference written here; the engine's own outputs are checked in
// pytorch_ops.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { pytorchOnednnScheme } from "../../runtime/requantization/pytorch_onednn.js";
import { AccumulatorLayer } from "../../runtime/requantization/scheme.js";
import {
  FLOAT32_EDGE_ACCUMULATORS,
  checkPowerOfTwoDivision,
  checkScalesAndAccumulators,
  checkTable,
  layerWithScale,
  randomTwoChannelCases,
  scaleRequantizer,
} from "./helpers.js";
import { randomAddParams, randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;

/** Computes the engine's conv/linear output for one channel, one float32 rounding per step. */
function reference(layer: AccumulatorLayer, channel: number, acc: number): number {
  const inputScale = layer.inputScale;
  const weightScale = layer.weightScales[channel];
  const inverseProduct = fl(fl(1 / inputScale) * fl(1 / weightScale));
  const outputMultiplier = fl(fl(1 / layer.outputScale) / inverseProduct);
  let realBias = 0;
  if (layer.bias !== null) realBias = layer.bias instanceof Int32Array ? fl(layer.bias[channel] * fl(inputScale * weightScale)) : layer.bias[channel];
  const scaledBias = fl(realBias * inverseProduct);
  const t = fl(fl(fl(acc) + scaledBias) * outputMultiplier);
  return rneDouble(fl(t + layer.outputZeroPoint));
}

const requantize = scaleRequantizer(pytorchOnednnScheme);

test("accumulator: the zero point takes part in the tie-break", () => {
  checkTable("zero point 0", [[1, 0], [3, 2], [5, 2], [-1, 0], [-3, -2]], (acc) => requantize(0.5, acc));
  // 0.5 + 1 = 1.5 rounds to 2, where rounding first would give 0 + 1.
  checkTable("zero point 1", [[1, 2], [3, 2], [5, 4], [-1, 0]], (acc) => requantize(0.5, acc, 1));
  checkTable("zero point 2", [[1, 2], [3, 4]], (acc) => requantize(0.5, acc, 2));
});

test("accumulator: float and int32 biases", () => {
  const layer = { kind: "conv" as const, inputScale: 0.5, weightScales: [0.25], outputScale: 0.125, outputZeroPoint: 0, channels: 1 };
  // The float bias is not pre-rounded: 1 + 2.5 = 3.5 rounds to 4.
  const floatBias = pytorchOnednnScheme.accumulator({ ...layer, bias: new Float32Array([0.3125]) });
  assert.is(floatBias.requantize(1, 0), 4);
  // An int32 bias becomes fl(bq * fl(sx * sw)) = 5 * 0.125 first.
  const intBias = pytorchOnednnScheme.accumulator({ ...layer, bias: new Int32Array([5]) });
  assert.is(intBias.requantize(1, 0), 6);
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 24, [0, 37, 128, 255]);
});

test("accumulator: extreme int32 accumulators", () => {
  const scales = [fl(0.99999994), 0.5, 2 ** -31, fl(0.0123), 3];
  checkScalesAndAccumulators(requantize, scales, FLOAT32_EDGE_ACCUMULATORS, (scale, acc, zeroPoint) => reference(layerWithScale(scale, zeroPoint), 0, acc));
});

test("accumulator: 100 000 random cases against the float32 reference", () => {
  const cases = randomTwoChannelCases(pytorchOnednnScheme, seededRandom(81), "conv", (random) => (random() < 0.3 ? "int32" : "float32"));
  for (const { layerIndex, layer, channel, acc, actual } of cases) {
    if (actual !== reference(layer, channel, acc)) assert.unreachable(`layer ${layerIndex}, acc ${acc}, channel ${channel}`);
  }
});

test("add: float formula in double, ties to even", () => {
  const adder = pytorchOnednnScheme.add({ aScale: 0.5, aZeroPoint: 0, bScale: 0.5, bZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("halves", [[[1, 0], 1], [[3, 0], 3], [[5, 0], 3], [[-1, 0], 1], [[-3, 0], -1]], ([a, b]) => adder.add(a, b));
  const random = seededRandom(82);
  for (let i = 0; i < 100_000; i++) {
    const params = randomAddParams(random, [0, 255], 0);
    const a = randomInt(random, 0, 255);
    const b = randomInt(random, 0, 255);
    const real = (a - params.aZeroPoint) * params.aScale + (b - params.bZeroPoint) * params.bScale;
    const expected = rneDouble(real / params.outputScale) + params.outputZeroPoint;
    if (pytorchOnednnScheme.add(params).add(a, b) !== expected) assert.unreachable(`${JSON.stringify(params)} ${a} + ${b}`);
  }
});

test("average pool: memory format decides the rounding", () => {
  const params = { inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.5, outputZeroPoint: 1 };
  const contiguous = pytorchOnednnScheme.averagePool({ ...params, memoryFormat: "contiguous" });
  const channelsLast = pytorchOnednnScheme.averagePool({ ...params, memoryFormat: "channels_last" });
  // 2 / 4 = 0.5: inside the zero point 1.5 rounds to 2; outside 0 + 1.
  checkTable("contiguous", [[2, 2], [6, 2], [-2, 0], [-6, 0]], (sum) => contiguous.average(sum, 4));
  checkTable("channels_last", [[2, 1], [6, 3], [-2, 1], [-6, -1]], (sum) => channelsLast.average(sum, 4));

  const random = seededRandom(83);
  for (let i = 0; i < 100_000; i++) {
    const inputScale = randomScale(random, -10, 0);
    const outputScale = random() < 0.5 ? inputScale : randomScale(random, -10, 0);
    const divisor = randomInt(random, 1, 100);
    const sum = randomInt(random, -255 * divisor, 255 * divisor);
    const zeroPoint = randomInt(random, 0, 255);
    const pool = { inputScale, inputZeroPoint: 0, outputScale, outputZeroPoint: zeroPoint };
    const inside = rneDouble((sum * inputScale) / (outputScale * divisor) + zeroPoint);
    const outside = rneDouble(fl(fl(sum) * fl(inputScale / (outputScale * divisor)))) + zeroPoint;
    if (pytorchOnednnScheme.averagePool({ ...pool, memoryFormat: "contiguous" }).average(sum, divisor) !== inside) assert.unreachable(`contiguous ${JSON.stringify(pool)} ${sum} / ${divisor}`);
    if (pytorchOnednnScheme.averagePool({ ...pool, memoryFormat: "channels_last" }).average(sum, divisor) !== outside) assert.unreachable(`channels_last ${JSON.stringify(pool)} ${sum} / ${divisor}`);
  }
});

test("rescale and quantizeReal are PyTorch's", () => {
  const rescale = pytorchOnednnScheme.rescale({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("half", [[1, 1], [3, 3], [5, 3]], rescale);
  assert.is(pytorchOnednnScheme.quantizeReal(-299.25, fl(0.3), 0), -998);
  assert.is(pytorchOnednnScheme.quantizeReal(2.5, 1, 1), 3);
});

test.run();
