// The "onnx" scheme: ONNX reference semantics (onnx.reference, onnx 1.13
// and later). Tables of hand-checked values and random cases against a
// step-by-step reference written here; the node tests are checked in
// onnx_nodes.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { onnxScheme } from "../../runtime/requantization/onnx.js";
import { checkTable, layerWithScale } from "./helpers.js";
import { randomAccumulator, randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function requantize(scale: number, acc: number, zeroPoint = 0): number {
  return onnxScheme.accumulator(layerWithScale(scale, zeroPoint)).requantize(acc, 0);
}

test("accumulator: ties to even with the zero point inside", () => {
  checkTable("zero point 0", [[1, 0], [3, 2], [5, 2], [-1, 0], [-3, -2]], (acc) => requantize(0.5, acc));
  checkTable("zero point 1", [[1, 2], [3, 2], [5, 4]], (acc) => requantize(0.5, acc, 1));
});

test("accumulator: exact division by powers of two", () => {
  for (let k = 1; k <= 24; k++) {
    for (const zeroPoint of [0, 37, 128, 255]) {
      for (const j of [0, 1, -1, 5, -77, 127, -128]) {
        assert.is(requantize(2 ** -k, j * 2 ** k, zeroPoint), j + zeroPoint, `${j} * 2^${k} / 2^${k} + ${zeroPoint}`);
      }
    }
  }
});

/** numpy's QLinearConv arithmetic: float32 scale, double product, zero point, rint. */
function reference(acc: number, inputScale: number, weightScale: number, outputScale: number, outputZeroPoint: number, bias: number): number {
  const multiplier = fl(fl(inputScale * weightScale) / outputScale);
  const biased = Number(BigInt.asIntN(32, BigInt(acc) + BigInt(bias)));
  return rneDouble(biased * multiplier + outputZeroPoint);
}

test("accumulator: extreme int32 accumulators", () => {
  for (const scale of [fl(0.99999994), 0.5, 2 ** -31, fl(0.0123), 3]) {
    for (const acc of [INT32_MIN, INT32_MIN + 1, -16777217, -1, 0, 1, 16777217, INT32_MAX]) {
      assert.is(requantize(scale, acc, 7), reference(acc, 1, scale, 1, 7, 0), `scale ${scale}, acc ${acc}`);
    }
  }
});

test("accumulator: 100 000 random cases against the reference", () => {
  const random = seededRandom(91);
  for (let layer = 0; layer < 500; layer++) {
    const inputScale = randomScale(random, -10, 0);
    const weightScales = [randomScale(random, -12, -2), randomScale(random, -12, -2)];
    const outputScale = randomScale(random, -10, 0);
    const outputZeroPoint = randomInt(random, 0, 255);
    const bias = new Int32Array([randomInt(random, -100000, 100000), randomInt(random, -100000, 100000)]);
    const requantizer = onnxScheme.accumulator({ kind: "fully_connected", inputScale, weightScales, outputScale, outputZeroPoint, channels: 2, bias });
    for (let i = 0; i < 200; i++) {
      const acc = random() < 0.9 ? randomInt(random, -(2 ** 20), 2 ** 20) : randomAccumulator(random);
      const channel = i & 1;
      const expected = reference(acc, inputScale, weightScales[channel], outputScale, outputZeroPoint, bias[channel]);
      if (requantizer.requantize(acc, channel) !== expected) assert.unreachable(`layer ${layer}, acc ${acc}, channel ${channel}`);
    }
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
