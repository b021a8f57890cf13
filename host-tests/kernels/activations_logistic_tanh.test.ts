// LOGISTIC and TANH under the "tflm" scheme. The LOGISTIC layer of
// dtln_noise_suppression is checked against TFLM's dump (commit 90b983c2).
// Every int8 input is checked against a BigInt transcription of TFLM's
// fixed-point path (activations_reference.ts) and against float64 within
// 1 LSB, and int16 inputs against a transcription of TFLM's table
// interpolation. The last tests cover the prepare checks TFLM makes.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { tflmLogisticKernel, tflmTanhKernel } from "../../kernels/activations/logistic_tanh.js";
import { SIGMOID_TABLE_Q16 } from "../../kernels/activations/int16_sigmoid_table.js";
import { findKernel } from "../../kernels/registry.js";
import { UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { Kernel } from "../../kernels/kernel.js";
import { bytesOf, handOperator, prepareLayer, readDumpIndex, runDumpedLayer, runLayer, tensorDef } from "./layer_harness.js";
import { int16LogisticRef, int16RescaleRef, int16TanhRef, int8LogisticOrTanhRef } from "./activations_reference.js";
import { TFLM_SIGMOID_TABLE } from "./lstm_reference.js";

const LOGISTIC = 14;
const TANH = 28;

const ALL_INT8 = Array.from({ length: 256 }, (_, i) => i - 128);

function runInt8(kernel: Kernel, code: number, values: readonly number[], inScale: number, inZp: number, outScale: number, outZp: number): number[] {
  const input = tensorDef(0, TensorType.INT8, [values.length], [inScale], [inZp]);
  const output = tensorDef(1, TensorType.INT8, [values.length], [outScale], [outZp]);
  const setup = handOperator(kernel.name, code, [input, output], null);
  const out = runLayer(kernel, setup, new Map([[0, bytesOf(Int8Array.from(values))]])).get(1)!;
  return Array.from(new Int8Array(out.buffer));
}

function runInt16(kernel: Kernel, code: number, values: readonly number[], inScale: number, outScale = 2 ** -15): number[] {
  const input = tensorDef(0, TensorType.INT16, [values.length], [inScale], [0]);
  const output = tensorDef(1, TensorType.INT16, [values.length], [outScale], [0]);
  const setup = handOperator(kernel.name, code, [input, output], null);
  const out = runLayer(kernel, setup, new Map([[0, bytesOf(Int16Array.from(values))]])).get(1)!;
  return Array.from(new Int16Array(out.buffer));
}

test("dtln LOGISTIC layer matches TFLM's dump", () => {
  const dumped = readDumpIndex("dtln_noise_suppression").find((t) => t.index === 44);
  assert.ok(dumped);
  assert.is(dumped.producer_op, "LOGISTIC");
  const [actual, expected] = runDumpedLayer(tflmLogisticKernel, "dtln_noise_suppression", 3);
  assert.equal(Array.from(new Int8Array(actual.buffer)), Array.from(new Int8Array(expected.slice().buffer)));
});

// (input scale, input zero point). The first is dtln's; 2 leaves a radius of
// 3 and 8 a radius of 0, where every input saturates.
const INT8_QUANTIZATIONS: ReadonlyArray<[number, number]> = [
  [0.0387752913, -2],
  [1 / 16, 0],
  [0.1, 10],
  [0.02, -128],
  [0.003, 127],
  [0.5, 5],
  [2, 0],
  [8, 0],
];

for (const [isTanh, kernel, code] of [
  [false, tflmLogisticKernel, LOGISTIC],
  [true, tflmTanhKernel, TANH],
] as const) {
  const name = isTanh ? "tanh" : "logistic";
  const [outScale, outZp] = isTanh ? [1 / 128, 0] : [1 / 256, -128];

  test(`int8 ${name} equals TFLM transcription`, () => {
    for (const [scale, zp] of INT8_QUANTIZATIONS) {
      const actual = runInt8(kernel, code, ALL_INT8, scale, zp, outScale, outZp);
      const expected = ALL_INT8.map((v) => int8LogisticOrTanhRef(v, scale, zp, isTanh));
      assert.equal(actual, expected, `scale ${scale}, zero point ${zp}`);
    }
  });

  test(`int8 ${name} within 1 LSB of float64`, () => {
    // Scales above 2 leave so small a radius that TFLM saturates early.
    for (const [scale, zp] of INT8_QUANTIZATIONS.filter(([s]) => s <= 2)) {
      const actual = runInt8(kernel, code, ALL_INT8, scale, zp, outScale, outZp);
      ALL_INT8.forEach((v, i) => {
        const real = (v - zp) * Math.fround(scale);
        const f = isTanh ? Math.tanh(real) : 1 / (1 + Math.exp(-real));
        const expected = Math.min(127, Math.max(-128, Math.round(f / outScale) + outZp));
        assert.ok(Math.abs(actual[i] - expected) <= 1, `scale ${scale}, zp ${zp}, input ${v}: ${actual[i]} vs ${expected}`);
      });
    }
  });
}

test("int8 logistic of zero is one half", () => {
  assert.equal(runInt8(tflmLogisticKernel, LOGISTIC, [3, 3], 0.05, 3, 1 / 256, -128), [0, 0]);
  assert.equal(runInt8(tflmTanhKernel, TANH, [3], 0.05, 3, 1 / 128, 0), [0]);
});

test("int8 logistic rejects output zero point", () => {
  assert.throws(() => runInt8(tflmLogisticKernel, LOGISTIC, [0], 0.05, 0, 1 / 256, 0), (e: unknown) => e instanceof UnsupportedError && /zero point -128/.test((e as Error).message));
});

test("sigmoid table matches TFLM's entries", () => {
  assert.is(SIGMOID_TABLE_Q16.length, 256);
  // Entries copied from TFLM's kernels/internal/common.h.
  assert.equal([0, 1, 4, 8, 100, 254, 255].map((k) => SIGMOID_TABLE_Q16[k]), [32768, 33451, 35493, 38180, 64536, 65534, 65535]);
  assert.equal(Array.from(SIGMOID_TABLE_Q16), TFLM_SIGMOID_TABLE);
  for (let k = 0; k < 256; k++) {
    const exact = 65536 / (1 + Math.exp(-k / 24));
    assert.ok(Math.abs(SIGMOID_TABLE_Q16[k] - exact) < 1.2, `entry ${k}`);
  }
});

const ALL_INT16 = Array.from({ length: 65536 }, (_, i) => i - 32768);
// Powers of two 2^-12 and 2^-11 take TFLM's exact multiplier 3 << shift for
// tanh (2^-11 only for tanh); the others go through the truncated multiplier.
const INT16_SCALES = [2 ** -12, 2 ** -11, 2 ** -15, 1 / 3000, 0.001, 0.0001, 2 ** -12 * 1.0004];

for (const [isTanh, kernel, code] of [
  [false, tflmLogisticKernel, LOGISTIC],
  [true, tflmTanhKernel, TANH],
] as const) {
  const name = isTanh ? "tanh" : "logistic";

  test(`int16 ${name} equals TFLM transcription`, () => {
    for (const scale of INT16_SCALES) {
      const [multiplier, shift] = int16RescaleRef(scale, isTanh);
      const actual = runInt16(kernel, code, ALL_INT16, scale);
      const reference = isTanh ? int16TanhRef : int16LogisticRef;
      const expected = ALL_INT16.map((v) => reference(v, multiplier, shift, TFLM_SIGMOID_TABLE));
      assert.equal(actual, expected, `scale ${scale}`);
    }
  });

  test(`int16 ${name} near float64`, () => {
    // The table's own error (up to 1.11 / 65536) and the input rescale leave
    // at most 1.5 Q15 steps for logistic and 3 for tanh at these scales. The last scale is excluded:
    // TFLM treats it as 2^-12, so its error grows with the input.
    for (const scale of INT16_SCALES.slice(0, -1)) {
      const actual = runInt16(kernel, code, ALL_INT16, scale);
      let worst = 0;
      ALL_INT16.forEach((v, i) => {
        const real = v * Math.fround(scale);
        const f = isTanh ? Math.tanh(real) : 1 / (1 + Math.exp(-real));
        worst = Math.max(worst, Math.abs(actual[i] - Math.min(32767, f * 32768)));
      });
      assert.ok(worst <= (isTanh ? 3 : 1.5), `scale ${scale}: ${worst} LSB`);
    }
  });
}

test("int16 logistic rejects output scale", () => {
  assert.throws(() => runInt16(tflmLogisticKernel, LOGISTIC, [0], 2 ** -12, 2 ** -14), (e: unknown) => e instanceof UnsupportedError && /2\^-15/.test((e as Error).message));
});

test("int16 tanh rejects nonzero zero point", () => {
  const input = tensorDef(0, TensorType.INT16, [1], [2 ** -12], [3]);
  const output = tensorDef(1, TensorType.INT16, [1], [2 ** -15], [0]);
  const setup = handOperator("TANH", TANH, [input, output], null);
  assert.throws(() => prepareLayer(tflmTanhKernel, setup), (e: unknown) => e instanceof UnsupportedError && /zero point 0/.test((e as Error).message));
});

test("registry routes tflm int8 logistic here", () => {
  const input = tensorDef(0, TensorType.INT8, [4], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT8, [4], [1 / 256], [-128]);
  const setup = handOperator("LOGISTIC", LOGISTIC, [input, output], null);
  const kernel = findKernel(LOGISTIC)!;
  const out = runLayer(kernel, setup, new Map([[0, bytesOf(Int8Array.from([-20, 0, 5, 100]))]])).get(1)!;
  assert.equal(Array.from(new Int8Array(out.buffer)), [-20, 0, 5, 100].map((v) => int8LogisticOrTanhRef(v, 0.1, 0, false)));
});

test.run();
