// QUANTIZE: bit-exact against TFLM's reference kernel (commit 90b983c2) on
// keyword_scrambled_8bit's int16-to-int8 and int16-to-int32 layers (rand0
// dump) and on TFLM's single-op seanet quantize models, and against an exact
// BigInt Requantize for every integer type pair TFLM requantizes. Hand cases
// cover the float32 division and the rounding of each path, and the type
// pairs TFLM accepts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { quantizeKernel } from "../../kernels/quantize.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { parseModel } from "../../runtime/model.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { readFixture } from "../fixtures.js";
import { quantizeMultiplierReference } from "../requantization/tflite_reference.js";
import { bytesOf, handOperator, modelOperator, prepareLayer, readDumpIndex, runDumpedLayer, runLayer, tensorDef } from "./layer_harness.js";
import { TFLM_INTEGER_PAIRS, TYPE_RANGES, integerInputValues, referenceRequantize } from "./quantize_reference.js";
import { randomIntegers } from "./test_data.js";

const QUANTIZE = 114;

const isUnsupported = (error: unknown) => error instanceof UnsupportedError;
const isInvalid = (error: unknown) => error instanceof InvalidModelError;

// ---------------------------------------------------------------------------
// TFLM outputs.

for (const opIndex of [0, 14]) {
  test(`keyword_scrambled_8bit operator ${opIndex} matches TFLM`, () => {
    const dumped = readDumpIndex("keyword_scrambled_8bit").find((t) => t.producer_op_index === opIndex);
    assert.ok(dumped, `the dump has the output of operator ${opIndex}`);
    assert.is(dumped.producer_op, "QUANTIZE");
    const [actual, expected] = runDumpedLayer(quantizeKernel, "keyword_scrambled_8bit", opIndex);
    assert.equal(Array.from(actual), Array.from(expected));
  });
}

// seanet quantize0 is int32 to int16, quantize1 int16 to int32.
for (const name of ["quantize0", "quantize1"]) {
  test(`seanet ${name} matches TFLM`, () => {
    const model = parseModel(readFixture(`seanet/quantize/${name}.tflite`));
    const setup = modelOperator(model, 0);
    const input = readFixture(`seanet/quantize/${name}_in0.bin`);
    const actual = runLayer(quantizeKernel, setup, new Map([[setup.op.inputs[0], input]])).get(setup.op.outputs[0])!;
    assert.equal(Array.from(actual), Array.from(readFixture(`seanet/quantize/${name}_oracle_out0.bin`)));
  });
}

// ---------------------------------------------------------------------------
// float32 input.

function quantizeFloats(values: readonly number[], scale: number, zeroPoint: number, outputType: number = TensorType.INT8): number[] {
  const input = tensorDef(0, TensorType.FLOAT32, [values.length]);
  const output = tensorDef(1, outputType, [values.length], [scale], [zeroPoint]);
  const setup = handOperator("QUANTIZE", QUANTIZE, [input, output], null);
  const bytes = runLayer(quantizeKernel, setup, new Map([[0, bytesOf(Float32Array.from(values))]])).get(1)!;
  return Array.from(outputType === TensorType.INT16 ? new Int16Array(bytes.buffer) : new Int8Array(bytes.buffer));
}

test("float quantize rounds half away from zero", () => {
  // x / 0.5: 0.5, -0.5, 1.5, -1.5, 0.4, -0.4
  assert.equal(quantizeFloats([0.25, -0.25, 0.75, -0.75, 0.2, -0.2], 0.5, 0), [1, -1, 2, -2, 0, 0]);
  assert.equal(quantizeFloats([0.25, -0.25, 0], 0.5, -10), [-9, -11, -10]);
});

test("float quantize divides in float32", () => {
  // 0.25 / float32(0.1) is 2.49999996 in double but exactly 2.5 in float32,
  // which TFLM rounds to 3.
  const scale = Math.fround(0.1);
  assert.equal(quantizeFloats([0.25, -0.25, 0.75, 1.25], scale, 0), [3, -3, 8, 13]);
});

test("float quantize saturates", () => {
  assert.equal(quantizeFloats([100, -100, 63.75, 64, Infinity, -Infinity], 0.5, 0), [127, -128, 127, 127, 127, -128]);
  assert.equal(quantizeFloats([1e6, -1e6, 0.5], 0.5, 5, TensorType.INT16), [32767, -32768, 6]);
});

test("float quantize sends NaN to the minimum", () => {
  assert.equal(quantizeFloats([NaN], 0.5, 3), [-128]);
});

// ---------------------------------------------------------------------------
// Integer input.

interface RequantizeCase {
  inputType: number;
  outputType: number;
  inputScale: number;
  inputZeroPoint: number;
  outputScale: number;
  outputZeroPoint: number;
}

const ARRAYS: Record<number, Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor> = {
  [TensorType.INT8]: Int8Array,
  [TensorType.UINT8]: Uint8Array,
  [TensorType.INT16]: Int16Array,
  [TensorType.INT32]: Int32Array,
};

function requantizeSetup(c: RequantizeCase, count: number) {
  const input = tensorDef(0, c.inputType, [count], [c.inputScale], [c.inputZeroPoint]);
  const output = tensorDef(1, c.outputType, [count], [c.outputScale], [c.outputZeroPoint]);
  return handOperator("QUANTIZE", QUANTIZE, [input, output], null);
}

function requantize(values: readonly number[], c: RequantizeCase): number[] {
  const bytes = runLayer(quantizeKernel, requantizeSetup(c, values.length), new Map([[0, bytesOf(ARRAYS[c.inputType].from(values))]])).get(1)!;
  return Array.from(new ARRAYS[c.outputType](bytes.buffer as ArrayBuffer));
}

test("requantize int8 by one half rounds ties up", () => {
  // Multiplier 0.5 is 2^30 with shift 0: the rounding doubling high multiply
  // rounds ties toward +infinity, so 1.5 -> 2 but -1.5 -> -1 and -64.5 -> -64.
  const c: RequantizeCase = { inputType: TensorType.INT8, outputType: TensorType.INT8, inputScale: 0.5, inputZeroPoint: 1, outputScale: 1, outputZeroPoint: 5 };
  assert.equal(requantize([4, -2, 1, 3, 127, -128], c), [7, 4, 5, 6, 68, -59]);
});

test("requantize int8 by two", () => {
  const c: RequantizeCase = { inputType: TensorType.INT8, outputType: TensorType.INT8, inputScale: 0.5, inputZeroPoint: 0, outputScale: 0.25, outputZeroPoint: -3 };
  assert.equal(requantize([0, 10, -10, 100, -100], c), [-3, 17, -23, 127, -128]);
});

test("requantize between int8 and uint8", () => {
  // Same scale and zero points 128 apart: TFLM's shortcut flips the top bit.
  const toUint8: RequantizeCase = { inputType: TensorType.INT8, outputType: TensorType.UINT8, inputScale: 0.1, inputZeroPoint: -3, outputScale: 0.1, outputZeroPoint: 125 };
  assert.equal(requantize([-128, -1, 0, 127], toUint8), [0, 127, 128, 255]);
  const toInt8: RequantizeCase = { inputType: TensorType.UINT8, outputType: TensorType.INT8, inputScale: 0.1, inputZeroPoint: 125, outputScale: 0.1, outputZeroPoint: -3 };
  assert.equal(requantize([0, 127, 128, 255], toInt8), [-128, -1, 0, 127]);
});

test("requantize int8 to int16 and int32", () => {
  const toInt16: RequantizeCase = { inputType: TensorType.INT8, outputType: TensorType.INT16, inputScale: 1, inputZeroPoint: 0, outputScale: 1 / 256, outputZeroPoint: 7 };
  assert.equal(requantize([-128, -1, 0, 127], toInt16), [-32761, -249, 7, 32519]);
  const toInt32: RequantizeCase = { inputType: TensorType.INT8, outputType: TensorType.INT32, inputScale: 1, inputZeroPoint: 0, outputScale: 2 ** -20, outputZeroPoint: 0 };
  assert.equal(requantize([-128, -1, 0, 127], toInt32), [-(2 ** 27), -(2 ** 20), 0, 127 * 2 ** 20]);
});

test("requantize within 1 LSB of double", () => {
  const pairs: Array<[number, number]> = [
    [TensorType.INT8, TensorType.INT8],
    [TensorType.INT16, TensorType.INT8],
    [TensorType.INT16, TensorType.INT16],
    [TensorType.INT32, TensorType.INT8],
    [TensorType.UINT8, TensorType.INT8],
  ];
  const ranges: Record<number, [number, number]> = {
    [TensorType.INT8]: [-128, 127],
    [TensorType.UINT8]: [0, 255],
    [TensorType.INT16]: [-32768, 32767],
    [TensorType.INT32]: [-1000000, 1000000],
  };
  let seed = 0xabcdef;
  for (const [inputType, outputType] of pairs) {
    for (const ratio of [0.003, 0.37, 1, 1.9, 7.5]) {
      const [inMin, inMax] = ranges[inputType];
      const [outMin, outMax] = ranges[outputType];
      const c: RequantizeCase = {
        inputType,
        outputType,
        inputScale: Math.fround(0.02 * ratio),
        inputZeroPoint: inputType === TensorType.UINT8 ? 120 : -3,
        outputScale: Math.fround(0.02),
        outputZeroPoint: 4,
      };
      const values = randomIntegers(200, inMin, inMax, seed++);
      const actual = requantize(values, c);
      values.forEach((q, i) => {
        const real = ((q - c.inputZeroPoint) * c.inputScale) / c.outputScale;
        const expected = Math.min(outMax, Math.max(outMin, Math.round(real) + c.outputZeroPoint));
        assert.ok(Math.abs(actual[i] - expected) <= 1, `ratio ${ratio}, input ${q}: ${actual[i]} vs ${expected}`);
      });
    }
  }
});

test("seanet quantize within 1 LSB of TFLite's golden", () => {
  // TFLite's golden CSVs come from the TensorFlow Lite interpreter, not TFLM.
  for (const [name, outputType] of [["quantize0", "int16"], ["quantize1", "int32"]] as const) {
    const model = parseModel(readFixture(`seanet/quantize/${name}.tflite`));
    const setup = modelOperator(model, 0);
    const input = readFixture(`seanet/quantize/${name}_in0.bin`);
    const bytes = runLayer(quantizeKernel, setup, new Map([[setup.op.inputs[0], input]])).get(setup.op.outputs[0])!;
    const actual = outputType === "int16" ? new Int16Array(bytes.buffer) : new Int32Array(bytes.buffer);
    const golden = new TextDecoder()
      .decode(readFixture(`seanet/quantize/${name}_golden_${outputType}.csv`))
      .trim()
      .split(",")
      .map(Number);
    assert.is(actual.length, golden.length, `${name} element count`);
    let maxDifference = 0;
    actual.forEach((value, i) => (maxDifference = Math.max(maxDifference, Math.abs(value - golden[i]))));
    assert.ok(maxDifference <= 1, `${name}: ${maxDifference} LSB from the golden`);
  }
});

// Every integer type pair TFLM's quantize_common.cc requantizes, against the
// BigInt transcription of reference_ops::Requantize in quantize_reference.ts.
test("requantize matches TFLM for every integer pair", () => {
  // Rescale factors run from flushed-to-zero through large left shifts. A
  // factor of exactly 1 takes TFLM's same-scale path.
  const ratios = [2 ** -40, 3e-10, 1e-7, 0.003, 0.37, 0.5, 1, 1.9, 7.5, 3317.25, 2 ** 20 + 0.3];
  let seed = 0x5eed;
  let compared = 0;
  for (const [inputType, outputType] of TFLM_INTEGER_PAIRS) {
    const [inMin, inMax] = TYPE_RANGES[inputType];
    const [outMin, outMax] = TYPE_RANGES[outputType];
    const values = integerInputValues(inputType, seed++);
    for (const ratio of ratios) {
      const outputScale = Math.fround(0.02);
      const inputScale = Math.fround(outputScale * ratio);
      const multiplier = quantizeMultiplierReference(inputScale / outputScale, false);
      if (multiplier === null) continue;
      // Zero points near the type limits make the int32 subtraction and addition wrap.
      for (const [inputZeroPoint, outputZeroPoint] of [
        [0, 0],
        [inMin === 0 ? 128 : -3, outMin === 0 ? 120 : 5],
        [inMax, outMin],
        [inMin, outMax],
      ]) {
        const c: RequantizeCase = { inputType, outputType, inputScale, inputZeroPoint, outputScale, outputZeroPoint };
        const actual = requantize(values, c);
        const label = `${tensorTypeName(inputType)} to ${tensorTypeName(outputType)}, ratio ${ratio}, zero points ${inputZeroPoint} and ${outputZeroPoint}`;
        for (let i = 0; i < values.length; i++) {
          const expected = referenceRequantize(values[i], c, multiplier);
          if (actual[i] !== expected) assert.is(actual[i], expected, `${label}, input ${values[i]}`);
        }
        compared += values.length;
      }
    }
  }
  assert.ok(compared > 1_000_000, `${compared} values compared`);
});

// ---------------------------------------------------------------------------
// Prepare.

test("quantize rejects type pairs TFLM does not run", () => {
  const pairs: Array<[number, number]> = [
    [TensorType.FLOAT32, TensorType.UINT8],
    [TensorType.FLOAT32, TensorType.INT32],
    [TensorType.UINT8, TensorType.INT16],
    [TensorType.INT32, TensorType.INT32],
    [TensorType.INT8, TensorType.FLOAT32],
  ];
  for (const [inputType, outputType] of pairs) {
    const c: RequantizeCase = { inputType, outputType, inputScale: 0.1, inputZeroPoint: 0, outputScale: 0.1, outputZeroPoint: 0 };
    assert.throws(() => prepareLayer(quantizeKernel, requantizeSetup(c, 4)), isUnsupported, `${inputType} to ${outputType}`);
  }
});

test("quantize rejects per-channel output", () => {
  const input = tensorDef(0, TensorType.FLOAT32, [2, 2]);
  const output = { ...tensorDef(1, TensorType.INT8, [2, 2], [0.1, 0.2], [0, 0]), quantizedDimension: 1 };
  assert.throws(() => prepareLayer(quantizeKernel, handOperator("QUANTIZE", QUANTIZE, [input, output], null)), isUnsupported);
});

test("quantize rejects an element count mismatch", () => {
  const input = tensorDef(0, TensorType.INT8, [4], [0.1], [0]);
  const output = tensorDef(1, TensorType.INT8, [5], [0.1], [0]);
  assert.throws(() => prepareLayer(quantizeKernel, handOperator("QUANTIZE", QUANTIZE, [input, output], null)), isInvalid);
});

test.run();
