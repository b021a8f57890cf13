// Choosing the requantization scheme and the PyTorch memory format: model
// metadata, the Interpreter options that override it, and the errors for
// names microq does not know.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { InvalidInputError, InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { writeModel } from "../../tools/tflite/writer.js";

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Builds a one-operator RESHAPE model with the given metadata entries. */
function reshapeModel(metadata: Record<string, Uint8Array>): Uint8Array {
  return writeModel({
    tensors: [
      { name: "x", type: "int8", shape: [1, 4], scale: [0.5], zeroPoint: [0] },
      { name: "shape", type: "int32", shape: [2], data: new Uint8Array(new Int32Array([2, 2]).buffer) },
      { name: "y", type: "int8", shape: [2, 2], scale: [0.5], zeroPoint: [0] },
    ],
    operators: [{ op: "RESHAPE", inputs: [0, 1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
    metadata,
  });
}

test("a model without metadata uses tflm and contiguous", () => {
  const interpreter = new Interpreter(reshapeModel({}));
  assert.is(interpreter.requantization, "tflm");
  assert.is(interpreter.memoryFormat, "contiguous");
});

test("metadata chooses the scheme and the memory format", () => {
  const model = reshapeModel({
    microq_requantization: ascii("pytorch-onednn"),
    microq_memory_format: ascii("channels_last"),
  });
  const interpreter = new Interpreter(model);
  assert.is(interpreter.requantization, "pytorch-onednn");
  assert.is(interpreter.memoryFormat, "channels_last");
});

test("a trailing NUL after the name is accepted", () => {
  const interpreter = new Interpreter(reshapeModel({ microq_requantization: ascii("onnx\0") }));
  assert.is(interpreter.requantization, "onnx");
});

test("options override the metadata", () => {
  const model = reshapeModel({ microq_requantization: ascii("pytorch-onednn") });
  const interpreter = new Interpreter(model, { requantization: "qnnpack-precise", memoryFormat: "channels_last" });
  assert.is(interpreter.requantization, "qnnpack-precise");
  assert.is(interpreter.memoryFormat, "channels_last");
});

function expectError(make: () => unknown, type: Function, ...fragments: string[]): void {
  try {
    make();
    assert.unreachable("expected an error");
  } catch (error) {
    assert.instance(error, type);
    for (const fragment of fragments) assert.match((error as Error).message, fragment);
  }
}

test("an unknown scheme in metadata names the value and the known schemes", () => {
  expectError(
    () => new Interpreter(reshapeModel({ microq_requantization: ascii("fbgemm") })),
    UnsupportedError,
    '"fbgemm"',
    "pytorch-qnnpack",
    "requantization option",
  );
});

test("an unknown scheme or memory format in the options is rejected", () => {
  const model = reshapeModel({});
  expectError(() => new Interpreter(model, { requantization: "gemmlowp" as never }), InvalidInputError, "gemmlowp");
  expectError(() => new Interpreter(model, { memoryFormat: "nhwc" as never }), InvalidInputError, "nhwc", "channels_last");
});

test("binary or oversized metadata is reported as a corrupted file", () => {
  expectError(
    () => new Interpreter(reshapeModel({ microq_requantization: new Uint8Array([0x74, 0xff, 0x6d]) })),
    InvalidModelError,
    "byte 255",
  );
  expectError(
    () => new Interpreter(reshapeModel({ microq_memory_format: ascii("x".repeat(65)) })),
    InvalidModelError,
    "65 bytes",
  );
  expectError(
    () => new Interpreter(reshapeModel({ microq_memory_format: ascii("planar") })),
    InvalidModelError,
    '"planar"',
  );
});

test.run();
