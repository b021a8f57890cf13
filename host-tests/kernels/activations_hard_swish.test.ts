// HARD_SWISH under the "tflm" scheme: every int8 input for several
// quantizations against a transcription of TFLM 90b983c2's
// reference_ops::HardSwish with its int16 intermediates
// (activations_reference.ts), against float64, the int16 rounding helpers,
// and the routing between this kernel and the affine table kernel.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { roundingDivideByPOTInt16, saturatingRoundingDoublingHighMulInt16, tflmHardSwishKernel } from "../../kernels/activations/hard_swish.js";
import { findKernel } from "../../kernels/registry.js";
import { UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { Kernel } from "../../kernels/kernel.js";
import { bytesOf, handOperator, runLayer, tensorDef } from "./layer_harness.js";
import { hardSwishRef } from "./activations_reference.js";

const HARD_SWISH = 117;
const ALL_INT8 = Array.from({ length: 256 }, (_, i) => i - 128);

function run(kernel: Kernel, values: readonly number[], inS: number, inZp: number, outS: number, outZp: number): number[] {
  const input = tensorDef(0, TensorType.INT8, [values.length], [inS], [inZp]);
  const output = tensorDef(1, TensorType.INT8, [values.length], [outS], [outZp]);
  const setup = handOperator("HARD_SWISH", HARD_SWISH, [input, output], null);
  const out = runLayer(kernel, setup, new Map([[0, bytesOf(Int8Array.from(values))]])).get(1)!;
  return Array.from(new Int8Array(out.buffer));
}

// (input scale, input zero point, output scale, output zero point). The
// ranges are those of MobileNet v3 style layers: inputs of a few units to a
// few tens, outputs on a comparable or finer scale.
const QUANTIZATIONS: ReadonlyArray<[number, number, number, number]> = [
  [0.05, 0, 0.03, -40],
  [0.1, -20, 0.08, -90],
  [0.02, 10, 0.015, -100],
  [0.2, 0, 0.15, -110],
  [0.5, -100, 0.4, -128],
  [0.01, -128, 0.005, -128],
  [6 / 256, 0, 3 / 128, -50],
  [0.003, 5, 0.002, -3],
];

test("int8 hard_swish equals TFLM transcription", () => {
  for (const [inS, inZp, outS, outZp] of QUANTIZATIONS) {
    const actual = run(tflmHardSwishKernel, ALL_INT8, inS, inZp, outS, outZp);
    const expected = ALL_INT8.map((v) => hardSwishRef(v, inS, inZp, outS, outZp));
    assert.equal(actual, expected, `quantization ${[inS, inZp, outS, outZp]}`);
  }
});

test("int8 hard_swish within 1 LSB of float64", () => {
  for (const [inS, inZp, outS, outZp] of QUANTIZATIONS) {
    const actual = run(tflmHardSwishKernel, ALL_INT8, inS, inZp, outS, outZp);
    ALL_INT8.forEach((v, i) => {
      const x = (v - inZp) * Math.fround(inS);
      const real = (x * Math.min(6, Math.max(0, x + 3))) / 6;
      const expected = Math.min(127, Math.max(-128, Math.round(real / Math.fround(outS)) + outZp));
      assert.ok(Math.abs(actual[i] - expected) <= 1, `quantization ${[inS, inZp, outS, outZp]}, input ${v}: ${actual[i]} vs ${expected}`);
    });
  }
});

test("int16 rounding multiply rounds ties up", () => {
  // 16384 * 1 / 2^15 = 0.5 rounds to 1, and -0.5 to 0.
  assert.is(saturatingRoundingDoublingHighMulInt16(16384, 1), 1);
  assert.is(saturatingRoundingDoublingHighMulInt16(-16384, 1), 0);
  assert.is(saturatingRoundingDoublingHighMulInt16(-16385, 1), -1);
  assert.is(saturatingRoundingDoublingHighMulInt16(-32768, -32768), 32767);
  assert.is(saturatingRoundingDoublingHighMulInt16(32767, 32767), 32766);
});

test("int16 rounding divide keeps the mask quirk", () => {
  assert.equal([5, -5, 6, -6, 7, -7].map((x) => roundingDivideByPOTInt16(x, 1)), [3, -3, 3, -3, 4, -4]);
  assert.is(roundingDivideByPOTInt16(-32768, 15), -1);
  // gemmlowp's int16 mask is all ones from exponent 16 on: 1 for x >= 0, -1 below.
  assert.equal([0, 100, -1, -100].map((x) => roundingDivideByPOTInt16(x, 16)), [1, 1, -1, -1]);
  assert.equal([0, -3].map((x) => roundingDivideByPOTInt16(x, 31)), [1, -1]);
});

test("hard_swish rejects a coarse output scale", () => {
  // input_scale / 128 at or above the output scale gives a positive exponent.
  assert.throws(
    () => run(tflmHardSwishKernel, [0], 1, 0, 1 / 256, 0),
    (e: unknown) => e instanceof UnsupportedError && /HARD_SWISH/.test((e as Error).message),
  );
});

test("registry routes tflm hard_swish here", () => {
  const [inS, inZp, outS, outZp] = QUANTIZATIONS[0];
  const actual = run(findKernel(HARD_SWISH)!, ALL_INT8, inS, inZp, outS, outZp);
  assert.equal(actual, ALL_INT8.map((v) => hardSwishRef(v, inS, inZp, outS, outZp)));
});

test.run();
