// The "pytorch-qnnpack" scheme: PyTorch 1.13's qnnpack engine, float32
// requantization with ties to even. Tables of hand-checked values and
// random cases against a step-by-step float32 reference written here; the
// engine's own outputs are checked in pytorch_ops.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { pytorchQnnpackScheme } from "../../runtime/requantization/pytorch_qnnpack.js";
import { checkTable, layerWithScale } from "./helpers.js";
import { randomAccumulator, randomInt, randomScale, rneDouble, seededRandom } from "./reference.js";

const fl = Math.fround;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Computes the engine's conv/linear output, one float32 rounding per step. */
function reference(acc: number, inputScale: number, weightScale: number, outputScale: number, outputZeroPoint: number, bias: number | null, biasIsInt: boolean): number {
  const productScale = fl(inputScale * weightScale);
  let quantizedBias = 0;
  if (bias !== null) {
    quantizedBias = biasIsInt ? bias : Math.min(INT32_MAX, Math.max(INT32_MIN, rneDouble(fl(bias * fl(1 / productScale)))));
  }
  const multiplier = fl(productScale * fl(1 / outputScale));
  const biased = Number(BigInt.asIntN(32, BigInt(acc) + BigInt(quantizedBias)));
  return rneDouble(fl(fl(biased) * multiplier)) + outputZeroPoint;
}

function requantize(scale: number, acc: number, zeroPoint = 0): number {
  return pytorchQnnpackScheme.accumulator(layerWithScale(scale, zeroPoint)).requantize(acc, 0);
}

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
  // acc + bias wraps in int32 before the float conversion.
  const wrapped = pytorchQnnpackScheme.accumulator(layerWithScale(0.5, 0, new Int32Array([1])));
  assert.is(wrapped.requantize(INT32_MAX, 0), -(2 ** 30));
});

test("accumulator: 100 000 random cases against the float32 reference", () => {
  const random = seededRandom(71);
  for (let layer = 0; layer < 500; layer++) {
    const inputScale = randomScale(random, -10, 0);
    const weightScales = [randomScale(random, -12, -2), randomScale(random, -12, -2)];
    const outputScale = randomScale(random, -10, 0);
    const outputZeroPoint = randomInt(random, 0, 255);
    const biasIsInt = random() < 0.3;
    const bias = biasIsInt
      ? new Int32Array([randomInt(random, -100000, 100000), randomInt(random, -100000, 100000)])
      : new Float32Array([(random() - 0.5) * 4, (random() - 0.5) * 4]);
    const requantizer = pytorchQnnpackScheme.accumulator({ kind: "conv", inputScale, weightScales, outputScale, outputZeroPoint, channels: 2, bias });
    for (let i = 0; i < 200; i++) {
      const acc = random() < 0.9 ? randomInt(random, -(2 ** 20), 2 ** 20) : randomAccumulator(random);
      const channel = i & 1;
      const expected = reference(acc, inputScale, weightScales[channel], outputScale, outputZeroPoint, bias[channel], biasIsInt);
      if (requantizer.requantize(acc, channel) !== expected) assert.unreachable(`layer ${layer}, acc ${acc}, channel ${channel}`);
    }
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
