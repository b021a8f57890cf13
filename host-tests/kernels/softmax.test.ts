// SOFTMAX: bit-exact against TFLM's reference kernel on the SOFTMAX layers of
// real models (their rand0 dumps, commit 90b983c2), within 1 LSB of a
// double-precision softmax on hand-built rows, and the prepare-time checks
// TFLM makes.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { softmaxKernel } from "../../kernels/softmax.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { bytesOf, handOperator, prepareLayer, readDumpIndex, runDumpedLayer, runLayer, tensorDef } from "./layer_harness.js";

const SOFTMAX = 25;
const SOFTMAX_OPTIONS = 9;

// ---------------------------------------------------------------------------
// TFLM dumps.

const DUMPED_LAYERS: ReadonlyArray<[string, number, string]> = [
  ["person_detect", 30, "int8"],
  ["micro_speech_quantized", 3, "int8"],
  ["trained_lstm_int8", 3, "int8"],
  ["keyword_scrambled_8bit", 13, "int16"],
];

for (const [model, opIndex, outputType] of DUMPED_LAYERS) {
  test(`${model} operator ${opIndex} matches TFLM`, () => {
    const dumped = readDumpIndex(model).find((t) => t.producer_op_index === opIndex);
    assert.ok(dumped, `the dump has the output of operator ${opIndex}`);
    assert.is(dumped.producer_op, "SOFTMAX");
    assert.is(dumped.type, outputType);

    const [actual, expected] = runDumpedLayer(softmaxKernel, model, opIndex);
    if (outputType === "int16") {
      assert.equal(Array.from(new Int16Array(actual.buffer)), Array.from(new Int16Array(expected.slice().buffer)));
    } else {
      assert.equal(Array.from(new Int8Array(actual.buffer)), Array.from(new Int8Array(expected.slice().buffer)));
    }
  });
}

// ---------------------------------------------------------------------------
// Hand-built rows.

interface SoftmaxCase {
  inputScale: number;
  inputZeroPoint: number;
  beta: number;
  outputType: number;
}

function softmaxSetup(shape: readonly number[], c: SoftmaxCase, outputScale?: number, outputZeroPoint?: number) {
  const isInt16 = c.outputType === TensorType.INT16;
  const input = tensorDef(0, TensorType.INT8, shape, [c.inputScale], [c.inputZeroPoint]);
  const output = tensorDef(1, c.outputType, shape, [outputScale ?? (isInt16 ? 1 / 65536 : 1 / 256)], [
    outputZeroPoint ?? (isInt16 ? -32768 : -128),
  ]);
  return handOperator("SOFTMAX", SOFTMAX, [input, output], { optionsType: SOFTMAX_OPTIONS, fields: [["float32", c.beta]] });
}

function runSoftmax(values: readonly number[], depth: number, c: SoftmaxCase): number[] {
  const setup = softmaxSetup([values.length / depth, depth], c);
  const output = runLayer(softmaxKernel, setup, new Map([[0, bytesOf(Int8Array.from(values))]])).get(1)!;
  return c.outputType === TensorType.INT16 ? Array.from(new Int16Array(output.buffer)) : Array.from(new Int8Array(output.buffer));
}

/** Dequantize, softmax in double, requantize to the fixed output scale. */
function referenceSoftmax(values: readonly number[], depth: number, c: SoftmaxCase): number[] {
  const isInt16 = c.outputType === TensorType.INT16;
  const steps = isInt16 ? 65536 : 256;
  const min = isInt16 ? -32768 : -128;
  const max = isInt16 ? 32767 : 127;
  const result: number[] = [];
  for (let base = 0; base < values.length; base += depth) {
    const row = values.slice(base, base + depth).map((q) => c.beta * c.inputScale * (q - c.inputZeroPoint));
    const rowMax = Math.max(...row);
    const exps = row.map((x) => Math.exp(x - rowMax));
    const sum = exps.reduce((a, b) => a + b, 0);
    for (const e of exps) result.push(Math.min(max, Math.max(min, Math.round((e / sum) * steps) + min)));
  }
  return result;
}

/** Seeded int8 values, so failures reproduce. */
function randomInt8s(count: number, seed: number): number[] {
  let state = seed | 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values.push((state << 24) >> 24);
  }
  return values;
}

const INT8_OUT: SoftmaxCase = { inputScale: 0.0625, inputZeroPoint: 0, beta: 1, outputType: TensorType.INT8 };

test("softmax of one element is the maximum", () => {
  // p = 1 maps to 256 - 128 = 128, which clamps to 127.
  assert.equal(runSoftmax([5, -100, 127], 1, INT8_OUT), [127, 127, 127]);
});

test("softmax of two equal elements is one half", () => {
  // p = 1/2 maps to 128 - 128 = 0.
  assert.equal(runSoftmax([7, 7, -128, -128], 2, INT8_OUT), [0, 0, 0, 0]);
  assert.equal(runSoftmax([7, 7], 2, { ...INT8_OUT, outputType: TensorType.INT16 }), [0, 0]);
});

test("softmax skips differences below diff_min", () => {
  // Input scale 1 and beta 1 give beta * scale * 2^26 = 2^26, so the left
  // shift is 27 and diff_min is -floor(31 * 2^26 / 2^27) = -15.
  const c: SoftmaxCase = { inputScale: 1, inputZeroPoint: 0, beta: 1, outputType: TensorType.INT8 };
  assert.equal(runSoftmax([0, -16, 0, -15], 2, c), [127, -128, 127, -128]);
  assert.equal(runSoftmax([0, -1], 2, c), referenceSoftmax([0, -1], 2, c));
});

test("softmax of a wide flat row is the minimum", () => {
  // 600 equal elements: p = 1/600 rounds to 0 steps of 1/256. TFLM aborts on
  // this row because the sum of exps reaches 512. The kernel returns -128.
  const values = new Array<number>(600).fill(3);
  assert.equal(runSoftmax(values, 600, INT8_OUT), new Array<number>(600).fill(-128));
});

const REFERENCE_CASES: SoftmaxCase[] = [];
for (const inputScale of [0.01, 0.0625, 0.1, 0.25, 0.5]) {
  for (const beta of [0.5, 1, 2]) {
    for (const outputType of [TensorType.INT8, TensorType.INT16]) {
      REFERENCE_CASES.push({ inputScale, inputZeroPoint: -7, beta, outputType });
    }
  }
}

test("softmax within 1 LSB of double", () => {
  let seed = 0x5eed;
  for (const c of REFERENCE_CASES) {
    for (const depth of [2, 4, 10, 37, 256]) {
      const values = randomInt8s(depth * 3, seed++);
      const actual = runSoftmax(values, depth, c);
      const expected = referenceSoftmax(values, depth, c);
      actual.forEach((value, i) => {
        assert.ok(
          Math.abs(value - expected[i]) <= 1,
          `scale ${c.inputScale}, beta ${c.beta}, ${c.outputType === TensorType.INT16 ? "int16" : "int8"} output, ` +
            `depth ${depth}, element ${i}: ${value} vs ${expected[i]}`,
        );
      });
    }
  }
});

// ---------------------------------------------------------------------------
// Prepare.

test("softmax rejects int8 output scale", () => {
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], INT8_OUT, 1 / 255, -128)), (error: unknown) => error instanceof UnsupportedError);
});

test("softmax rejects int8 output zero point", () => {
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], INT8_OUT, 1 / 256, -127)), (error: unknown) => error instanceof UnsupportedError);
});

test("softmax int16 output scale tolerance", () => {
  const c = { ...INT8_OUT, outputType: TensorType.INT16 };
  // TFLM accepts a scale within 0.1% of 1/65536.
  prepareLayer(softmaxKernel, softmaxSetup([1, 4], c, Math.fround((1 / 65536) * 1.0005), -32768));
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], c, Math.fround((1 / 65536) * 1.002), -32768)), (error: unknown) => error instanceof UnsupportedError);
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], c, 1 / 65536, 0)), (error: unknown) => error instanceof UnsupportedError);
});

test("softmax rejects non-int8 input", () => {
  const input = tensorDef(0, TensorType.INT16, [1, 4], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT16, [1, 4], [1 / 32768], [0]);
  const setup = handOperator("SOFTMAX", SOFTMAX, [input, output], { optionsType: SOFTMAX_OPTIONS, fields: [["float32", 1]] });
  assert.throws(() => prepareLayer(softmaxKernel, setup), (error: unknown) => error instanceof UnsupportedError);
});

test("softmax rejects a shape mismatch", () => {
  const input = tensorDef(0, TensorType.INT8, [1, 4], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT8, [1, 5], [1 / 256], [-128]);
  const setup = handOperator("SOFTMAX", SOFTMAX, [input, output], { optionsType: SOFTMAX_OPTIONS, fields: [["float32", 1]] });
  assert.throws(() => prepareLayer(softmaxKernel, setup), (error: unknown) => error instanceof InvalidModelError);
});

test("softmax rejects a vanishing beta", () => {
  // TFLM's QuantizeMultiplierGreaterThanOne aborts on beta * scale * 2^26 <= 1.
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], { ...INT8_OUT, beta: 0 })), (error: unknown) => error instanceof UnsupportedError);
  assert.throws(() => prepareLayer(softmaxKernel, softmaxSetup([1, 4], { ...INT8_OUT, inputScale: 2 ** -27 })), (error: unknown) => error instanceof UnsupportedError);
});

test("softmax caps a huge beta", () => {
  // beta * scale * 2^26 is capped at 2^31 - 1, which gives left shift 31 and
  // diff_min 0, so only the row maximum counts.
  const c: SoftmaxCase = { inputScale: 1, inputZeroPoint: 0, beta: 1e6, outputType: TensorType.INT8 };
  assert.equal(runSoftmax([3, 2, 3, 3], 4, c), [-43, -128, -43, -43]);
});

test.run();
