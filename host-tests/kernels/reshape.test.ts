// RESHAPE: byte-exact against TFLM's reference kernel on the RESHAPE layers
// of real models (rand0 dumps, commit 90b983c2), exact copies of other
// element types, and the prepare-time checks.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryContext } from "../../kernels/kernel.js";
import { reshapeKernel } from "../../kernels/reshape.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { bytesOf, handOperator, prepareLayer, readDumpIndex, runDumpedLayer, runLayer, tensorDef } from "./layer_harness.js";

const RESHAPE = 22;

const isUnsupported = (error: unknown) => error instanceof UnsupportedError;
const isInvalid = (error: unknown) => error instanceof InvalidModelError;

const DUMPED_LAYERS: ReadonlyArray<[string, number]> = [
  ["person_detect", 29],
  ["micro_speech_quantized", 0],
  ["trained_lstm_int8", 1],
];

for (const [model, opIndex] of DUMPED_LAYERS) {
  test(`${model} operator ${opIndex} matches TFLM`, () => {
    const dumped = readDumpIndex(model).find((t) => t.producer_op_index === opIndex);
    assert.ok(dumped, `the dump has the output of operator ${opIndex}`);
    assert.is(dumped.producer_op, "RESHAPE");
    const [actual, expected] = runDumpedLayer(reshapeKernel, model, opIndex);
    assert.equal(Array.from(actual), Array.from(expected));
  });
}

test("reshape copies float32 bits", () => {
  // A NaN with a payload must keep its bits, so the copy cannot go through
  // float values.
  const bits = Uint32Array.from([0x7fc00001, 0x3f800000, 0xbf800000, 0, 0x80000000, 0x7f800000]);
  const input = tensorDef(0, TensorType.FLOAT32, [2, 3]);
  const output = tensorDef(1, TensorType.FLOAT32, [3, 2]);
  const bytes = runLayer(reshapeKernel, handOperator("RESHAPE", RESHAPE, [input, output], null), new Map([[0, bytesOf(bits)]])).get(1)!;
  assert.equal(Array.from(new Uint32Array(bytes.buffer)), Array.from(bits));
});

test("reshape ignores the shape input", () => {
  const input = tensorDef(0, TensorType.INT16, [4]);
  const shape = tensorDef(1, TensorType.INT32, [2]);
  const output = tensorDef(2, TensorType.INT16, [2, 2]);
  const values = Int16Array.from([-32768, -1, 1, 32767]);
  const inputs = new Map([
    [0, bytesOf(values)],
    [1, bytesOf(Int32Array.from([4, 1]))],
  ]);
  const bytes = runLayer(reshapeKernel, handOperator("RESHAPE", RESHAPE, [input, shape, output], null), inputs).get(2)!;
  assert.equal(Array.from(new Int16Array(bytes.buffer)), Array.from(values));
});

test("reshape copies within one buffer", () => {
  // Input and output in one ArrayBuffer, as the arena places them: output
  // before, after and overlapping the input.
  const input = tensorDef(0, TensorType.INT8, [2, 4]);
  const output = tensorDef(1, TensorType.INT8, [8]);
  const setup = handOperator("RESHAPE", RESHAPE, [input, output], null);
  const values = [1, -2, 3, -4, 5, -6, 7, -8];
  for (const [inputOffset, outputOffset] of [[16, 0], [0, 16], [4, 0], [0, 4], [8, 8]]) {
    const arena = new ArrayBuffer(32);
    const offsets = new Map([[0, inputOffset], [1, outputOffset]]);
    new Int8Array(arena, inputOffset, 8).set(values);
    const memory: MemoryContext = {
      int8: (index) => new Int8Array(arena, offsets.get(index), 8),
      uint8: (index) => new Uint8Array(arena, offsets.get(index), 8),
      int16: () => {
        throw new Error("int16 view of an int8 tensor");
      },
      int32: () => {
        throw new Error("int32 view of an int8 tensor");
      },
      float32: () => {
        throw new Error("float32 view of an int8 tensor");
      },
      scratchInt32: () => {
        throw new Error("scratch request");
      },
    };
    const { prepared } = prepareLayer(reshapeKernel, setup);
    prepared.bind(memory);
    prepared.invoke();
    assert.equal(Array.from(new Int8Array(arena, outputOffset, 8)), values, `input at ${inputOffset}, output at ${outputOffset}`);
  }
});

test("reshape reports no macs", () => {
  const setup = handOperator("RESHAPE", RESHAPE, [tensorDef(0, TensorType.INT8, [6]), tensorDef(1, TensorType.INT8, [2, 3])], null);
  assert.is(prepareLayer(reshapeKernel, setup).prepared.macs, 0);
});

test("reshape rejects a type change", () => {
  const setup = handOperator("RESHAPE", RESHAPE, [tensorDef(0, TensorType.INT8, [4]), tensorDef(1, TensorType.UINT8, [4])], null);
  assert.throws(() => prepareLayer(reshapeKernel, setup), isInvalid);
});

test("reshape rejects an element count mismatch", () => {
  const setup = handOperator("RESHAPE", RESHAPE, [tensorDef(0, TensorType.INT8, [2, 3]), tensorDef(1, TensorType.INT8, [7])], null);
  assert.throws(() => prepareLayer(reshapeKernel, setup), isInvalid);
});

test("reshape rejects 8-byte elements", () => {
  const setup = handOperator("RESHAPE", RESHAPE, [tensorDef(0, TensorType.INT64, [4]), tensorDef(1, TensorType.INT64, [2, 2])], null);
  assert.throws(() => prepareLayer(reshapeKernel, setup), isUnsupported);
});

test("reshape rejects the legacy scalar shape", () => {
  const setup = handOperator("RESHAPE", RESHAPE, [tensorDef(0, TensorType.INT8, [1, 1]), tensorDef(1, TensorType.INT8, [0])], null);
  assert.throws(() => prepareLayer(reshapeKernel, setup), isUnsupported);
});

test("reshape rejects three inputs", () => {
  const tensors = [tensorDef(0, TensorType.INT8, [4]), tensorDef(1, TensorType.INT32, [1]), tensorDef(2, TensorType.INT32, [1]), tensorDef(3, TensorType.INT8, [4])];
  assert.throws(() => prepareLayer(reshapeKernel, handOperator("RESHAPE", RESHAPE, tensors, null)), isInvalid);
});

test.run();
