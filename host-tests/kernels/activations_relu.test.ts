// RELU and RELU6 under the "tflm" scheme: every int8 input for several
// quantizations, and int16 samples, against a BigInt transcription of TFLM
// 90b983c2's ReluQuantized and Relu6Quantized (activations_reference.ts) and
// against float64 within 1 LSB, plus the prepare checks.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { tflmRelu6Kernel, tflmReluKernel } from "../../kernels/activations/relu.js";
import { Kernel } from "../../kernels/kernel.js";
import { findKernel } from "../../kernels/registry.js";
import { UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { bytesOf, handOperator, prepareLayer, runLayer, tensorDef } from "./layer_harness.js";
import { relu6Ref, reluRef } from "./activations_reference.js";

const RELU = 19;
const RELU6 = 21;
const ALL_INT8 = Array.from({ length: 256 }, (_, i) => i - 128);
const INT16_SAMPLES = [-32768, -32767, -1000, -1, 0, 1, 2, 3, 77, 1000, 12345, 20000, 32766, 32767];

function run(kernel: Kernel, code: number, type: number, values: readonly number[], inS: number, inZp: number, outS: number, outZp: number): number[] {
  const input = tensorDef(0, type, [values.length], [inS], [inZp]);
  const output = tensorDef(1, type, [values.length], [outS], [outZp]);
  const setup = handOperator(kernel.name, code, [input, output], null);
  const isInt8 = type === TensorType.INT8;
  const bytes = isInt8 ? bytesOf(Int8Array.from(values)) : bytesOf(Int16Array.from(values));
  const out = runLayer(kernel, setup, new Map([[0, bytes]])).get(1)!;
  return isInt8 ? Array.from(new Int8Array(out.buffer)) : Array.from(new Int16Array(out.buffer));
}

// (input scale, input zero point, output scale, output zero point)
const INT8_QUANTIZATIONS: ReadonlyArray<[number, number, number, number]> = [
  [0.05, 0, 0.05, 0],
  [0.05, -10, 0.025, -128],
  [0.1, 20, 0.03, -100],
  [0.0235, -128, 0.0235, -128],
  [0.013, 5, 0.04, 10],
  [0.3, 127, 0.001, -5],
];

test("int8 relu equals TFLM transcription", () => {
  for (const [inS, inZp, outS, outZp] of INT8_QUANTIZATIONS) {
    const actual = run(tflmReluKernel, RELU, TensorType.INT8, ALL_INT8, inS, inZp, outS, outZp);
    const expected = ALL_INT8.map((v) => reluRef(v, inS, inZp, outS, outZp, -128, 127));
    assert.equal(actual, expected, `quantization ${[inS, inZp, outS, outZp]}`);
  }
});

test("int8 relu within 1 LSB of float64", () => {
  for (const [inS, inZp, outS, outZp] of INT8_QUANTIZATIONS) {
    const actual = run(tflmReluKernel, RELU, TensorType.INT8, ALL_INT8, inS, inZp, outS, outZp);
    ALL_INT8.forEach((v, i) => {
      const real = Math.max(0, (v - inZp) * Math.fround(inS));
      const expected = Math.min(127, Math.max(-128, Math.round(real / Math.fround(outS)) + outZp));
      assert.ok(Math.abs(actual[i] - expected) <= 1, `quantization ${[inS, inZp, outS, outZp]}, input ${v}`);
    });
  }
});

test("int16 relu equals TFLM transcription", () => {
  for (const [inS, outS] of [
    [0.001, 0.001],
    [0.001, 0.0007],
    [0.0003, 0.002],
  ]) {
    const actual = run(tflmReluKernel, RELU, TensorType.INT16, INT16_SAMPLES, inS, 0, outS, 0);
    const expected = INT16_SAMPLES.map((v) => reluRef(v, inS, 0, outS, 0, -32768, 32767));
    assert.equal(actual, expected, `scales ${inS} ${outS}`);
  }
});

test("int16 relu rejects nonzero zero point", () => {
  assert.throws(
    () => run(tflmReluKernel, RELU, TensorType.INT16, [0], 0.001, 4, 0.001, 0),
    (e: unknown) => e instanceof UnsupportedError && /zero point 0/.test((e as Error).message),
  );
});

test("int8 relu6 equals TFLM transcription", () => {
  for (const [inS, inZp] of [
    [0.05, 0],
    [0.0235, -128],
    [6 / 255, -128],
    [0.01, 30],
    [0.1, -5],
  ]) {
    // TFLM's RELU6 clamps in the input's quantization and ignores the output's.
    const actual = run(tflmRelu6Kernel, RELU6, TensorType.INT8, ALL_INT8, inS, inZp, 0.5, 3);
    const expected = ALL_INT8.map((v) => relu6Ref(v, inS, inZp, -128, 127));
    assert.equal(actual, expected, `scale ${inS}, zero point ${inZp}`);

    ALL_INT8.forEach((v, i) => {
      const real = Math.min(6, Math.max(0, (v - inZp) * Math.fround(inS)));
      const float = Math.min(127, Math.max(-128, Math.round(real / Math.fround(inS)) + inZp));
      assert.ok(Math.abs(actual[i] - float) <= 1, `scale ${inS}, zero point ${inZp}, input ${v}`);
    });
  }
});

test("int8 relu6 clamps to 0 and 6", () => {
  // Scale 0.05: six is round(6 / 0.05) = 120 steps above the zero point -10.
  assert.equal(run(tflmRelu6Kernel, RELU6, TensorType.INT8, [-128, -11, -10, 50, 110, 111, 127], 0.05, -10, 0.05, -10), [-10, -10, -10, 50, 110, 110, 110]);
});

test("int16 relu6 equals TFLM transcription", () => {
  for (const [inS, inZp] of [
    [0.001, 0],
    [0.0001, 0],
    [0.0002, -100],
  ]) {
    const actual = run(tflmRelu6Kernel, RELU6, TensorType.INT16, INT16_SAMPLES, inS, inZp, inS, inZp);
    const expected = INT16_SAMPLES.map((v) => relu6Ref(v, inS, inZp, -32768, 32767));
    assert.equal(actual, expected, `scale ${inS}, zero point ${inZp}`);
  }
});

test("relu rejects other schemes", () => {
  const input = tensorDef(0, TensorType.INT8, [1], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT8, [1], [0.1], [0]);
  const setup = handOperator("RELU", RELU, [input, output], null);
  // The registry's RELU entry is this kernel alone, so its prepare receives every scheme.
  assert.throws(() => prepareLayer(findKernel(RELU)!, setup, "onnx"), (e: unknown) => e instanceof UnsupportedError && /"tflm"/.test((e as Error).message));
});

test("relu rejects mixed types", () => {
  const input = tensorDef(0, TensorType.INT8, [1], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT16, [1], [0.1], [0]);
  const setup = handOperator("RELU", RELU, [input, output], null);
  assert.throws(() => runLayer(tflmReluKernel, setup, new Map()), (e: unknown) => e instanceof UnsupportedError && /int8/.test((e as Error).message));
});

test.run();
