// MEAN under the "tflm" scheme: every case must equal the BigInt
// transcription of TFLM's reference QuantizedMeanOrSum (mean_reference.ts,
// TFLM commit 90b983c2), and the folded multiplier must equal TFLM's int64
// arithmetic for counts and shifts beyond what a test tensor can reach.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { floorLog2, foldCountIntoMultiplier } from "../../kernels/reduce/mean_multiplier.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { ModelSpec, writeModel } from "../../tools/tflite/writer.js";
import { MEAN_CASES, buildMeanModel } from "./mean_cases.js";
import { referenceFoldCount, referenceMean, referenceQuantizeMultiplier } from "./mean_reference.js";
import { Xorshift32 } from "./test_data.js";

function runMean(spec: ModelSpec, input: Uint8Array): number[] {
  const interpreter = new Interpreter(writeModel(spec));
  interpreter.setInput(0, input);
  // Twice, so that sums kept from the previous invoke would show.
  interpreter.invoke();
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data as ArrayLike<number>);
}

for (const c of MEAN_CASES) {
  test(`mean ${c.name} matches TFLM transcription`, () => {
    const built = buildMeanModel(c);
    assert.equal(runMean(built.spec, built.input), built.expected);
  });
}

test("mean head multiplier folds count 49", () => {
  // QuantizeMultiplier(1.0) is 2^30 with shift 1. floor(log2(49)) = 5, and
  // floor(2^30 * 2^5 / 49) = floor(701219150.37) = 701219150.
  assert.equal(foldCountIntoMultiplier({ multiplierQ31: 2 ** 30, shift: 1 }, 49), { multiplierQ31: 701219150, shift: -4 });
});

test("mean multiplier folding matches int64 arithmetic", () => {
  const random = new Xorshift32(77);
  const counts = [1, 2, 3, 49, 64, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40 + 12345, 2 ** 51 + 3];
  for (let i = 0; i < 2000; i++) {
    const multiplierQ31 = i % 7 === 0 ? 0 : random.integer(2 ** 30, 2 ** 31 - 1);
    const shift = multiplierQ31 === 0 ? 0 : random.integer(-31, 30);
    const count = i < counts.length ? counts[i] : random.integer(1, 2 ** 20) * (i % 3 === 0 ? random.integer(1, 2 ** 20) : 1);
    const expected = referenceFoldCount(BigInt(multiplierQ31), shift, BigInt(count));
    const actual = foldCountIntoMultiplier({ multiplierQ31, shift }, count);
    assert.equal(actual, { multiplierQ31: Number(expected.multiplier), shift: expected.shift }, `multiplier ${multiplierQ31}, shift ${shift}, count ${count}`);
  }
});

test("floorLog2 at powers of two", () => {
  for (let k = 0; k < 52; k++) {
    assert.is(floorLog2(2 ** k), k, `2^${k}`);
    if (k > 1) assert.is(floorLog2(2 ** k - 1), k - 1, `2^${k} - 1`);
  }
});

test("reference QuantizeMultiplier known values", () => {
  // 1.0 = 0.5 * 2^1, 0.75 = 0.75 * 2^0 and 12.5 = 0.78125 * 2^4.
  assert.equal(referenceQuantizeMultiplier(1), { multiplier: 2n ** 30n, shift: 1 });
  assert.equal(referenceQuantizeMultiplier(0.75), { multiplier: 3n * 2n ** 29n, shift: 0 });
  assert.equal(referenceQuantizeMultiplier(12.5), { multiplier: 25n * 2n ** 26n, shift: 4 });
});

test("mean reference on a hand-computed case", () => {
  // Sums over axis 1 of [[1, 2, 4], [-5, -6, 0]] are 7 and -11, zero point
  // 0, equal scales: 7/3 = 2.33 -> 2 and -11/3 = -3.67 -> -4.
  const output = referenceMean({
    type: "int8",
    shape: [2, 3],
    values: [1, 2, 4, -5, -6, 0],
    axes: [1],
    inputScale: 0.5,
    inputZeroPoint: 0,
    outputScale: 0.5,
    outputZeroPoint: 0,
  });
  assert.equal(output, [2, -4]);
});

// ---------------------------------------------------------------------------
// Models that TFLM rejects or microq does not support.

function meanSpec(overrides: { inputType?: "int8" | "float32"; axes?: number[]; outputShape?: number[]; axisIsInput?: boolean; optionsType?: string } = {}): ModelSpec {
  const axes = overrides.axes ?? [1, 2];
  const inputType = overrides.inputType ?? "int8";
  return {
    tensors: [
      { name: "input", type: inputType, shape: [1, 4, 4, 3], scale: [0.02], zeroPoint: [0] },
      overrides.axisIsInput === true
        ? { name: "axis", type: "int32", shape: [axes.length] }
        : { name: "axis", type: "int32", shape: [axes.length], data: new Uint8Array(Int32Array.from(axes).buffer) },
      { name: "output", type: inputType, shape: overrides.outputShape ?? [1, 1, 1, 3], scale: [0.02], zeroPoint: [0] },
    ],
    operators: [
      {
        op: "MEAN",
        inputs: [0, 1],
        outputs: [2],
        options: { type: overrides.optionsType ?? "ReducerOptions", fields: overrides.optionsType === undefined ? { keep_dims: true } : {} },
      },
    ],
    inputs: overrides.axisIsInput === true ? [0, 1] : [0],
    outputs: [2],
  };
}

function assertThrows(spec: ModelSpec, errorClass: typeof InvalidModelError | typeof UnsupportedError, fragment: string, scheme?: "single"): void {
  try {
    new Interpreter(writeModel(spec), scheme === undefined ? {} : { requantization: scheme });
  } catch (error) {
    assert.instance(error, errorClass);
    assert.match((error as Error).message, fragment);
    return;
  }
  assert.unreachable(`expected ${errorClass.name} containing "${fragment}"`);
}

test("mean rejects axis out of range", () => {
  assertThrows(meanSpec({ axes: [1, 4] }), InvalidModelError, "axis 4 is outside [-4, 4)");
  assertThrows(meanSpec({ axes: [-5], outputShape: [1, 4, 4, 3] }), InvalidModelError, "axis -5");
});

test("mean rejects wrong output size", () => {
  assertThrows(meanSpec({ outputShape: [1, 1, 2, 3] }), InvalidModelError, "leaves 3");
});

test("mean rejects run-time axes", () => {
  assertThrows(meanSpec({ axisIsInput: true }), UnsupportedError, "computed at run time");
});

test("mean rejects float32", () => {
  assertThrows(meanSpec({ inputType: "float32" }), UnsupportedError, "float32");
});

test("mean rejects wrong options table", () => {
  assertThrows(meanSpec({ optionsType: "SoftmaxOptions" }), InvalidModelError, "expected ReducerOptions");
});

test("mean rejects other schemes", () => {
  assertThrows(meanSpec(), UnsupportedError, '"tflm" requantization scheme', "single");
});

test.run();
