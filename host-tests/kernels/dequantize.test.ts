// DEQUANTIZE: hand cases whose results are exact in float32, the single
// rounding to float32 of TFLM's double product (reference/dequantize.h at
// commit 90b983c2), and the prepare-time checks.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { dequantizeKernel } from "../../kernels/dequantize.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { bytesOf, handOperator, prepareLayer, runLayer, tensorDef } from "./layer_harness.js";

const DEQUANTIZE = 6;

const isUnsupported = (error: unknown) => error instanceof UnsupportedError;
const isInvalid = (error: unknown) => error instanceof InvalidModelError;

function dequantize(values: Int8Array | Uint8Array | Int16Array, inputType: number, scale: number, zeroPoint: number): number[] {
  const input = tensorDef(0, inputType, [values.length], [scale], [zeroPoint]);
  const output = tensorDef(1, TensorType.FLOAT32, [values.length]);
  const setup = handOperator("DEQUANTIZE", DEQUANTIZE, [input, output], null);
  const bytes = runLayer(dequantizeKernel, setup, new Map([[0, bytesOf(values)]])).get(1)!;
  return Array.from(new Float32Array(bytes.buffer));
}

test("dequantize int8", () => {
  assert.equal(dequantize(Int8Array.from([-128, -3, 0, 127]), TensorType.INT8, 0.5, -3), [-62.5, 0, 1.5, 65]);
});

test("dequantize uint8", () => {
  assert.equal(dequantize(Uint8Array.from([0, 128, 255]), TensorType.UINT8, 0.25, 128), [-32, 0, 31.75]);
});

test("dequantize int16", () => {
  assert.equal(dequantize(Int16Array.from([-32768, 0, 32767]), TensorType.INT16, 2 ** -10, 0), [-32, 0, 31.9990234375]);
});

test("dequantize rounds the product once to float32", () => {
  // float32(0.1) = 0.100000001490116..., and the exact products with 3, 7
  // and -5 round to these float32 values.
  const scale = Math.fround(0.1);
  assert.equal(dequantize(Int8Array.from([3, 7, -5, 100]), TensorType.INT8, scale, 0), [
    0.30000001192092896, 0.699999988079071, -0.5, 10,
  ]);
});

test("dequantize rejects per-channel input", () => {
  const input = { ...tensorDef(0, TensorType.INT8, [2, 2], [0.1, 0.2], [0, 0]), quantizedDimension: 1 };
  const output = tensorDef(1, TensorType.FLOAT32, [2, 2]);
  assert.throws(() => prepareLayer(dequantizeKernel, handOperator("DEQUANTIZE", DEQUANTIZE, [input, output], null)), isUnsupported);
});

test("dequantize rejects other types", () => {
  const float = tensorDef(0, TensorType.FLOAT32, [4]);
  const int8 = tensorDef(1, TensorType.INT8, [4], [0.1], [0]);
  assert.throws(() => prepareLayer(dequantizeKernel, handOperator("DEQUANTIZE", DEQUANTIZE, [float, int8], null)), isUnsupported);
  const int32 = tensorDef(0, TensorType.INT32, [4], [0.1], [0]);
  assert.throws(() => prepareLayer(dequantizeKernel, handOperator("DEQUANTIZE", DEQUANTIZE, [int32, tensorDef(1, TensorType.FLOAT32, [4])], null)), isUnsupported);
});

test("dequantize rejects an element count mismatch", () => {
  const input = tensorDef(0, TensorType.INT8, [4], [0.1], [0]);
  const output = tensorDef(1, TensorType.FLOAT32, [5]);
  assert.throws(() => prepareLayer(dequantizeKernel, handOperator("DEQUANTIZE", DEQUANTIZE, [input, output], null)), isInvalid);
});

test.run();
