// The "onnx" scheme: ONNX reference semantics (onnx.reference, onnx 1.13
// and later). Tables of hand-checked values and random cases against a
// step-by-step reference written here; the node tests are checked in
// onnx_nodes.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { onnxScheme } from "../../runtime/requantization/onnx.js";
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
import { randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;

const requantize = scaleRequantizer(onnxScheme);

test("accumulator: ties to even with the zero point inside", () => {
  checkTable("zero point 0", [[1, 0], [3, 2], [5, 2], [-1, 0], [-3, -2]], (acc) => requantize(0.5, acc));
  checkTable("zero point 1", [[1, 2], [3, 2], [5, 4]], (acc) => requantize(0.5, acc, 1));
});

test("accumulator: exact division by powers of two", () => {
  checkPowerOfTwoDivision(requantize, 24, [0, 37, 128, 255]);
});

/** numpy's QLinearConv arithmetic for one channel with an int32 bias or none: float32 scale, double product, zero point, rint. */
function reference(layer: AccumulatorLayer, channel: number, acc: number): number {
  const multiplier = fl(fl(layer.inputScale * layer.weightScales[channel]) / layer.outputScale);
  const bias = layer.bias === null ? 0 : layer.bias[channel];
  const biased = Number(BigInt.asIntN(32, BigInt(acc) + BigInt(bias)));
  return rneDouble(biased * multiplier + layer.outputZeroPoint);
}

test("accumulator: extreme int32 accumulators", () => {
  const scales = [fl(0.99999994), 0.5, 2 ** -31, fl(0.0123), 3];
  checkScalesAndAccumulators(requantize, scales, FLOAT32_EDGE_ACCUMULATORS, (scale, acc, zeroPoint) => reference(layerWithScale(scale, zeroPoint), 0, acc));
});

test("accumulator: 100 000 random cases against the reference", () => {
  for (const { layerIndex, layer, channel, acc, actual } of randomTwoChannelCases(onnxScheme, seededRandom(91), "fully_connected", () => "int32")) {
    if (actual !== reference(layer, channel, acc)) assert.unreachable(`layer ${layerIndex}, acc ${acc}, channel ${channel}`);
  }
});

test("accumulator: a float bias is quantized as QuantizeLinear with scale fl(sx * sw)", () => {
  // 0.3125 / 0.125 = 2.5 rounds to 2.
  const requantizer = onnxScheme.accumulator({
    kind: "conv",
    inputScale: 0.5,
    weightScales: [0.25],
    outputScale: 0.125,
    outputZeroPoint: 0,
    channels: 1,
    bias: new Float32Array([0.3125]),
  });
  assert.is(requantizer.requantize(1, 0), 3);
});

test("quantizeReal: QuantizeLinear, float32 division, zero point outside", () => {
  checkTable("scale 1", [[2.5, 2], [3.5, 4], [-2.5, -2], [0.5, 0]], (real) => onnxScheme.quantizeReal(real, 1, 0));
  assert.is(onnxScheme.quantizeReal(0.5, 1, 1), 1);
  // fl(x / s) = -997.49994 rounds to -997, where PyTorch's inverse gives -998.
  assert.is(onnxScheme.quantizeReal(-299.25, fl(0.3), 0), -997);
});

test("add, rescale and average pool: QDQ composition in float32", () => {
  const adder = onnxScheme.add({ aScale: 0.5, aZeroPoint: 0, bScale: 0.5, bZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("add", [[[1, 0], 1], [[3, 0], 3], [[5, 0], 3]], ([a, b]) => adder.add(a, b));
  const rescale = onnxScheme.rescale({ inputScale: 0.5, inputZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("rescale", [[1, 1], [3, 3], [5, 3]], rescale);
  const averager = onnxScheme.averagePool({ inputScale: 1, inputZeroPoint: 0, outputScale: 1, outputZeroPoint: 1, memoryFormat: "contiguous" });
  checkTable("average", [[2, 1], [6, 3], [10, 3]], (sum) => averager.average(sum, 4));

  const random = seededRandom(92);
  for (let i = 0; i < 100_000; i++) {
    const aScale = randomScale(random, -10, 0);
    const bScale = randomScale(random, -10, 0);
    const outputScale = randomScale(random, -10, 0);
    const [aZeroPoint, bZeroPoint, outputZeroPoint] = [randomInt(random, 0, 255), randomInt(random, 0, 255), randomInt(random, 0, 255)];
    const a = randomInt(random, 0, 255);
    const b = randomInt(random, 0, 255);
    const sum = fl(fl((a - aZeroPoint) * aScale) + fl((b - bZeroPoint) * bScale));
    const added = onnxScheme.add({ aScale, aZeroPoint, bScale, bZeroPoint, outputScale, outputZeroPoint }).add(a, b);
    if (added !== rneDouble(fl(sum / outputScale)) + outputZeroPoint) assert.unreachable(`add ${i}`);
    const rescaled = onnxScheme.rescale({ inputScale: aScale, inputZeroPoint: aZeroPoint, outputScale, outputZeroPoint })(a);
    if (rescaled !== rneDouble(fl(fl((a - aZeroPoint) * aScale) / outputScale)) + outputZeroPoint) assert.unreachable(`rescale ${i}`);
    const divisor = randomInt(random, 1, 100);
    const windowSum = randomInt(random, -255 * divisor, 255 * divisor);
    const pool = { inputScale: aScale, inputZeroPoint: 0, outputScale, outputZeroPoint, memoryFormat: "contiguous" as const };
    const mean = fl(fl(windowSum * aScale) / divisor);
    if (onnxScheme.averagePool(pool).average(windowSum, divisor) !== rneDouble(fl(mean / outputScale)) + outputZeroPoint) assert.unreachable(`average ${i}`);
  }
});

test.run();
