// LEAKY_RELU under the "tflm" scheme. The 23 int16 seanet cases of TFLM's
// integration tests must give TFLM's output exactly and TFLite's CSV golden
// within 1 LSB. Every int8 input, for several quantizations and alphas, and
// int16 samples are checked against a BigInt transcription of TFLM
// 90b983c2's QuantizeLeakyRelu (activations_reference.ts), the int8 ones
// also against float64 within 1 LSB.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { tflmLeakyReluKernel } from "../../kernels/activations/leaky_relu.js";
import { Interpreter } from "../../runtime/index.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { maxDifference, seanetCases, valuesOf } from "../seanet/seanet_cases.js";
import { bytesOf, handOperator, runLayer, tensorDef } from "./layer_harness.js";
import { leakyReluRef } from "./activations_reference.js";

const LEAKY_RELU = 98;
const LEAKY_RELU_OPTIONS = 75;
const ALL_INT8 = Array.from({ length: 256 }, (_, i) => i - 128);

test("seanet leaky_relu has 23 cases", () => {
  assert.is(seanetCases("leaky_relu").length, 23);
});

for (const c of seanetCases("leaky_relu")) {
  test(`seanet ${c.name} matches TFLM`, () => {
    const interpreter = new Interpreter(c.model);
    c.inputs.forEach((bytes, i) => interpreter.setInput(i, bytes));
    interpreter.invoke();
    const actual = valuesOf(interpreter.outputs[0].bytes, c.outputType);
    assert.equal(actual, valuesOf(c.oracle, c.outputType));
    assert.ok(maxDifference(actual, c.golden) <= 1, "within 1 LSB of TFLite's golden");
  });
}

function run(type: number, values: readonly number[], inS: number, inZp: number, outS: number, outZp: number, alpha: number): number[] {
  const input = tensorDef(0, type, [values.length], [inS], [inZp]);
  const output = tensorDef(1, type, [values.length], [outS], [outZp]);
  const setup = handOperator("LEAKY_RELU", LEAKY_RELU, [input, output], { optionsType: LEAKY_RELU_OPTIONS, fields: [["float32", alpha]] });
  const isInt8 = type === TensorType.INT8;
  const bytes = isInt8 ? bytesOf(Int8Array.from(values)) : bytesOf(Int16Array.from(values));
  const out = runLayer(tflmLeakyReluKernel, setup, new Map([[0, bytes]])).get(1)!;
  return isInt8 ? Array.from(new Int8Array(out.buffer)) : Array.from(new Int16Array(out.buffer));
}

// (input scale, input zero point, output scale, output zero point)
const INT8_QUANTIZATIONS: ReadonlyArray<[number, number, number, number]> = [
  [0.05, 0, 0.05, 0],
  [0.05, -10, 0.03, -50],
  [0.1, 20, 0.07, 5],
  [0.0235, -128, 0.02, -100],
  [0.013, 100, 0.04, 10],
];
const ALPHAS = [0.2, 0.01, 0.3, 1.5, 0, -0.5];

test("int8 leaky_relu equals TFLM transcription", () => {
  for (const [inS, inZp, outS, outZp] of INT8_QUANTIZATIONS) {
    for (const alpha of ALPHAS) {
      const actual = run(TensorType.INT8, ALL_INT8, inS, inZp, outS, outZp, alpha);
      const expected = ALL_INT8.map((v) => leakyReluRef(v, inS, inZp, outS, outZp, alpha, -128, 127));
      assert.equal(actual, expected, `quantization ${[inS, inZp, outS, outZp]}, alpha ${alpha}`);
    }
  }
});

test("int8 leaky_relu within 1 LSB of float64", () => {
  for (const [inS, inZp, outS, outZp] of INT8_QUANTIZATIONS) {
    for (const alpha of ALPHAS) {
      const actual = run(TensorType.INT8, ALL_INT8, inS, inZp, outS, outZp, alpha);
      ALL_INT8.forEach((v, i) => {
        const x = (v - inZp) * Math.fround(inS);
        const real = x > 0 ? x : x * Math.fround(alpha);
        const expected = Math.min(127, Math.max(-128, Math.round(real / Math.fround(outS)) + outZp));
        assert.ok(Math.abs(actual[i] - expected) <= 1, `quantization ${[inS, inZp, outS, outZp]}, alpha ${alpha}, input ${v}`);
      });
    }
  }
});

test("int16 leaky_relu equals TFLM transcription", () => {
  const samples = [-32768, -20000, -1234, -3, -1, 0, 1, 2, 999, 16000, 32767];
  for (const [inS, outS, alpha] of [
    [0.001, 0.001, 0.2],
    [0.0058, 0.0046, 0.3],
    [0.0003, 0.0009, -0.25],
  ]) {
    const actual = run(TensorType.INT16, samples, inS, 0, outS, 0, alpha);
    const expected = samples.map((v) => leakyReluRef(v, inS, 0, outS, 0, alpha, -32768, 32767));
    assert.equal(actual, expected, `scales ${inS} ${outS}, alpha ${alpha}`);
  }
});

test("leaky_relu without options uses alpha 0", () => {
  const input = tensorDef(0, TensorType.INT8, [3], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT8, [3], [0.1], [0]);
  const setup = handOperator("LEAKY_RELU", LEAKY_RELU, [input, output], null);
  const out = runLayer(tflmLeakyReluKernel, setup, new Map([[0, bytesOf(Int8Array.from([-50, 0, 50]))]])).get(1)!;
  assert.equal(Array.from(new Int8Array(out.buffer)), [0, 0, 50]);
});

test.run();
