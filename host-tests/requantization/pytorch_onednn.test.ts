// The "pytorch-onednn" scheme: PyTorch 1.13's onednn engine, float32
// requantization with the zero point inside the tie-break. Tables of
// hand-checked values and random cases against a step-by-step float32
// reference written here; the engine's own outputs are checked in
// pytorch_ops.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { pytorchOnednnScheme } from "../../runtime/requantization/pytorch_onednn.js";
import { checkTable, layerWithScale } from "./helpers.js";
import { randomAccumulator, randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Computes the engine's conv/linear output, one float32 rounding per step. */
function reference(acc: number, inputScale: number, weightScale: number, outputScale: number, outputZeroPoint: number, bias: number | null, biasIsInt: boolean): number {
  const inverseProduct = fl(fl(1 / inputScale) * fl(1 / weightScale));
  const outputMultiplier = fl(fl(1 / outputScale) / inverseProduct);
  let realBias = 0;
  if (bias !== null) realBias = biasIsInt ? fl(bias * fl(inputScale * weightScale)) : bias;
  const scaledBias = fl(realBias * inverseProduct);
  const t = fl(fl(fl(acc) + scaledBias) * outputMultiplier);
  return rneDouble(fl(t + outputZeroPoint));
}

function requantize(scale: number, acc: number, zeroPoint = 0): number {
  return pytorchOnednnScheme.accumulator(layerWithScale(scale, zeroPoint)).requantize(acc, 0);
}

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
  for (let k = 1; k <= 24; k++) {
    for (const zeroPoint of [0, 37, 128, 255]) {
      for (const j of [0, 1, -1, 5, -77, 127, -128]) {
        assert.is(requantize(2 ** -k, j * 2 ** k, zeroPoint), j + zeroPoint, `${j} * 2^${k} / 2^${k} + ${zeroPoint}`);
      }
    }
  }
});

test("accumulator: extreme int32 accumulators", () => {
  for (const scale of [fl(0.99999994), 0.5, 2 ** -31, fl(0.0123), 3]) {
    for (const acc of [INT32_MIN, INT32_MIN + 1, -16777217, -1, 0, 1, 16777217, INT32_MAX]) {
      assert.is(requantize(scale, acc, 7), reference(acc, 1, scale, 1, 7, null, false), `scale ${scale}, acc ${acc}`);
    }
  }
});

test("accumulator: 100 000 random cases against the float32 reference", () => {
  const random = seededRandom(81);
  for (let layer = 0; layer < 500; layer++) {
    const inputScale = randomScale(random, -10, 0);
    const weightScales = [randomScale(random, -12, -2), randomScale(random, -12, -2)];
    const outputScale = randomScale(random, -10, 0);
    const outputZeroPoint = randomInt(random, 0, 255);
    const biasIsInt = random() < 0.3;
    const bias = biasIsInt
      ? new Int32Array([randomInt(random, -100000, 100000), randomInt(random, -100000, 100000)])
      : new Float32Array([(random() - 0.5) * 4, (random() - 0.5) * 4]);
    const requantizer = pytorchOnednnScheme.accumulator({ kind: "conv", inputScale, weightScales, outputScale, outputZeroPoint, channels: 2, bias });
    for (let i = 0; i < 200; i++) {
      const acc = random() < 0.9 ? randomInt(random, -(2 ** 20), 2 ** 20) : randomAccumulator(random);
      const channel = i & 1;
      const expected = reference(acc, inputScale, weightScales[channel], outputScale, outputZeroPoint, bias[channel], biasIsInt);
      if (requantizer.requantize(acc, channel) !== expected) assert.unreachable(`layer ${layer}, acc ${acc}, channel ${channel}`);
    }
  }
});

test("add: float formula in double, ties to even", () => {
  const adder = pytorchOnednnScheme.add({ aScale: 0.5, aZeroPoint: 0, bScale: 0.5, bZeroPoint: 0, outputScale: 1, outputZeroPoint: 1 });
  checkTable("halves", [[[1, 0], 1], [[3, 0], 3], [[5, 0], 3], [[-1, 0], 1], [[-3, 0], -1]], ([a, b]) => adder.add(a, b));
  const random = seededRandom(82);
  for (let i = 0; i < 100_000; i++) {
    const params = {
      aScale: randomScale(random, -10, 0),
      aZeroPoint: randomInt(random, 0, 255),
      bScale: randomScale(random, -10, 0),
      bZeroPoint: randomInt(random, 0, 255),
      outputScale: randomScale(random, -10, 0),
      outputZeroPoint: randomInt(random, 0, 255),
    };
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
