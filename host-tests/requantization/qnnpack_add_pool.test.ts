// QNNPACK's integer add (q8vadd) and average pooling (q8avgpool), which the
// qnnpack-q31 and qnnpack-precise schemes use and, for add, pytorch-qnnpack
// too. Checked against exact BigInt references from the float32 scale
// ratios (pytorch/QNNPACK at commit 7d2a4e99, src/qnnpack/requantization.h)
// and against PyTorch 1.13's qnnpack add cases.

import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UnsupportedError } from "../../runtime/errors.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { RequantizationScheme } from "../../runtime/requantization/scheme.js";
import { FIXTURES } from "../fixtures.js";
import { checkTable, expectError } from "./helpers.js";
import { addReference, averageReference } from "./qnnpack_reference.js";
import { randomAddParams, randomInt, randomScale, seededRandom } from "./reference.js";

const ADD_SCHEMES = ["qnnpack-q31", "qnnpack-precise", "pytorch-qnnpack"].map(schemeByName);
const POOL_SCHEMES = ["qnnpack-q31", "qnnpack-precise"].map(schemeByName);

function forEachScheme(schemes: RequantizationScheme[], check: (scheme: RequantizationScheme) => void): void {
  for (const scheme of schemes) check(scheme);
}

test("add: ties away from zero", () => {
  // Ratios 0.5 and 0.5: (a + b) / 2 exactly, rounded half away from zero.
  const params = { aScale: 0.5, aZeroPoint: 0, bScale: 0.5, bZeroPoint: 0, outputScale: 1, outputZeroPoint: 0 };
  forEachScheme(ADD_SCHEMES, (scheme) => {
    const adder = scheme.add(params);
    checkTable(`${scheme.name} halves`, [[[1, 0], 1], [[-1, 0], -1], [[3, 0], 2], [[-3, 0], -2], [[2, 2], 2], [[1, -2], -1]], ([a, b]) => adder.add(a, b));
    const shifted = scheme.add({ ...params, aZeroPoint: 10, bZeroPoint: 20, outputZeroPoint: 128 });
    assert.is(shifted.add(11, 20), 129, `${scheme.name} with zero points`);
  });
});

test("add: 100 000 random cases against the exact reference", () => {
  const random = seededRandom(61);
  let checked = 0;
  while (checked < 100_000) {
    const params = randomAddParams(random, [0, 255], 0);
    const aRatio = Math.fround(params.aScale / params.outputScale);
    const bRatio = Math.fround(params.bScale / params.outputScale);
    const inRange = (ratio: number) => ratio >= 2 ** -14 && ratio < 2 ** 8;
    if (!inRange(aRatio) || !inRange(bRatio) || Math.max(aRatio, bRatio) < 2 ** -10) continue;
    const adders = ADD_SCHEMES.map((scheme) => scheme.add(params));
    for (let i = 0; i < 100; i++) {
      const a = randomInt(random, 0, 255);
      const b = randomInt(random, 0, 255);
      const expected = addReference(a, b, params);
      for (const adder of adders) {
        if (adder.add(a, b) !== expected) assert.unreachable(`${JSON.stringify(params)} ${a} + ${b}: ${adder.add(a, b)} != ${expected}`);
      }
    }
    checked += 100;
  }
});

test("add: scale ratios outside QNNPACK's range are unsupported", () => {
  const params = { aScale: 1, aZeroPoint: 0, bScale: 1, bZeroPoint: 0, outputScale: 1, outputZeroPoint: 0 };
  forEachScheme(ADD_SCHEMES, (scheme) => {
    expectError(() => scheme.add({ ...params, outputScale: 2 ** -9 }), UnsupportedError, "[2^-14, 2^8)", scheme.name);
    expectError(() => scheme.add({ ...params, bScale: 2 ** -15 }), UnsupportedError, "second input");
    expectError(() => scheme.add({ ...params, aScale: 2 ** -11, bScale: 2 ** -12 }), UnsupportedError, "below 2^-10");
  });
});

test("add: PyTorch 1.13 qnnpack add cases exact", () => {
  const dir = resolve(FIXTURES, "pytorch", "ops");
  const files = readdirSync(dir).filter((file) => /^qnnpack__(ties_)?add(_relu)?\.json$/.test(file));
  assert.is(files.length, 4);
  for (const file of files) {
    const data = JSON.parse(readFileSync(resolve(dir, file), "utf8"));
    const [a, b] = data.inputs;
    const params = {
      aScale: a.scale,
      aZeroPoint: a.zero_point,
      bScale: b.scale,
      bZeroPoint: b.zero_point,
      outputScale: data.output.scale,
      outputZeroPoint: data.output.zero_point,
    };
    const low = data.op === "add_relu" ? data.output.zero_point : 0;
    forEachScheme(ADD_SCHEMES, (scheme) => {
      const adder = scheme.add(params);
      const actual = a.values.map((value: number, i: number) => Math.min(255, Math.max(low, adder.add(value, b.values[i]))));
      assert.equal(actual, data.output.values, `${scheme.name} on ${file}`);
    });
  }
});

test("average pool: ties away from zero", () => {
  const params = { inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.5, outputZeroPoint: 100, memoryFormat: "contiguous" as const };
  forEachScheme(POOL_SCHEMES, (scheme) => {
    const averager = scheme.averagePool(params);
    checkTable(`${scheme.name} divisor 4`, [[2, 101], [-2, 99], [6, 102], [-6, 98], [1, 100], [-1, 100]], (sum) => averager.average(sum, 4));
    checkTable(`${scheme.name} divisor 9`, [[4, 100], [5, 101], [-5, 99]], (sum) => averager.average(sum, 9));
  });
});

test("average pool: 200 000 random cases against the exact reference", () => {
  const random = seededRandom(62);
  for (let layer = 0; layer < 400; layer++) {
    const outputScale = randomScale(random, -12, 2);
    const inputScale = Math.fround(outputScale * 2 ** (-8 + random() * 15.9));
    const outputZeroPoint = randomInt(random, 0, 255);
    const params = { inputScale, inputZeroPoint: randomInt(random, 0, 255), outputScale, outputZeroPoint, memoryFormat: "contiguous" as const };
    const averagers = POOL_SCHEMES.map((scheme) => scheme.averagePool(params));
    for (let i = 0; i < 250; i++) {
      // Mostly the same few divisors, as a kernel passes them.
      const divisor = random() < 0.8 ? [4, 9, 36, 49][randomInt(random, 0, 3)] : randomInt(random, 1, 0xffffff);
      const maxSum = 255 * Math.min(divisor, 0x7fffff);
      const sum = randomInt(random, -maxSum, maxSum);
      const expected = averageReference(sum, divisor, inputScale, outputScale, outputZeroPoint);
      for (const averager of averagers) {
        if (averager.average(sum, divisor) !== expected) assert.unreachable(`${JSON.stringify(params)} sum ${sum} / ${divisor}`);
      }
    }
  }
});

test("average pool: scale ratios outside [2^-8, 2^8) are unsupported", () => {
  const params = { inputScale: 1, inputZeroPoint: 0, outputScale: 2 ** -8, outputZeroPoint: 0, memoryFormat: "contiguous" as const };
  forEachScheme(POOL_SCHEMES, (scheme) => {
    expectError(() => scheme.averagePool(params), UnsupportedError, "[2^-8, 2^8)");
    expectError(() => scheme.averagePool({ ...params, outputScale: 2 ** 9 }), UnsupportedError, "[2^-8, 2^8)");
  });
});

test.run();
