// PAD, PADV2, TRANSPOSE and CONCATENATION under the "tflm" scheme follow the
// checks and the fill values of TFLM's kernels (tflite-micro 90b983c2,
// pad_common.cc, pad.cc, transpose_common.cc, concatenation.cc). int16 PAD
// fills with 0, and stored values are copied whatever the quantization.
// int8 CONCATENATION needs equal quantization, and int16 CONCATENATION
// needs zero points of 0. Expected outputs come from plain loops written here.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { bytesOf, typedArrayOf } from "./test_data.js";

function run(spec: ModelSpec, scheme: SchemeName, inputs: readonly (readonly number[])[]): number[] {
  const interpreter = new Interpreter(writeModel(spec), { requantization: scheme });
  spec.inputs.forEach((tensorIndex, i) => interpreter.setInput(i, typedArrayOf(spec.tensors[tensorIndex].type, inputs[i])));
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data as ArrayLike<number>);
}

function prepareError(spec: ModelSpec, scheme: SchemeName): unknown {
  try {
    new Interpreter(writeModel(spec), { requantization: scheme });
  } catch (error) {
    return error;
  }
  return undefined;
}

function activation(name: string, type: TensorTypeName, shape: number[], scale?: number, zeroPoint?: number): TensorSpec {
  return scale === undefined ? { name, type, shape } : { name, type, shape, scale: [scale], zeroPoint: [zeroPoint ?? 0] };
}

// ---------------------------------------------------------------------------
// PAD and PADV2.

/** Pads a [rows, columns] matrix by one row above and two columns on the right with `fill`. */
function padReference(values: readonly number[], rows: number, columns: number, fill: number): number[] {
  const padded: number[] = [];
  for (let r = -1; r < rows; r++) {
    for (let c = 0; c < columns + 2; c++) padded.push(r >= 0 && c < columns ? values[r * columns + c] : fill);
  }
  return padded;
}

function padModel(input: TensorSpec, output: TensorSpec, constant: TensorSpec | null): ModelSpec {
  const paddings: TensorSpec = { name: "paddings", type: "int32", shape: [2, 2], data: bytesOf("int32", [1, 0, 0, 2]) };
  const tensors = constant === null ? [input, paddings, output] : [input, paddings, constant, output];
  const outputIndex = tensors.length - 1;
  return {
    tensors,
    operators: [{ op: constant === null ? "PAD" : "PADV2", inputs: tensors.slice(0, -1).map((_, i) => i), outputs: [outputIndex] }],
    inputs: [0],
    outputs: [outputIndex],
  };
}

const MATRIX = [5, -7, 300, -1000, 0, 32767];

test("PAD int16 fills with 0 under tflm, the zero point elsewhere", () => {
  const spec = padModel(activation("x", "int16", [2, 3], 0.5, 11), activation("y", "int16", [3, 5], 0.5, 11), null);
  assert.equal(run(spec, "tflm", [MATRIX]), padReference(MATRIX, 2, 3, 0));
  assert.equal(run(spec, "onnx", [MATRIX]), padReference(MATRIX, 2, 3, 11));
});

test("PAD int8 fills with the output zero point", () => {
  const values = [5, -7, 127, -128, 0, 1];
  const spec = padModel(activation("x", "int8", [2, 3], 0.5, -4), activation("y", "int8", [3, 5], 0.5, -4), null);
  assert.equal(run(spec, "tflm", [values]), padReference(values, 2, 3, -4));
});

test("PAD under tflm copies across a change of quantization", () => {
  // TFLM compares neither scales nor zero points of input and output: the
  // stored values are copied and the fill is the output zero point.
  const values = [5, -7, 127, -128, 0, 1];
  const spec = padModel(activation("x", "int8", [2, 3], 0.5, 3), activation("y", "int8", [3, 5], 0.25, -9), null);
  assert.equal(run(spec, "tflm", [values]), padReference(values, 2, 3, -9));
  const error = prepareError(spec, "onnx");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "same quantization");
});

test("PADV2 int16 constant is written as stored under tflm", () => {
  // TFLM checks the quantization of an int8 constant_values only.
  const constant: TensorSpec = { name: "c", type: "int16", shape: [], data: bytesOf("int16", [-1234]), scale: [2], zeroPoint: [0] };
  const spec = padModel(activation("x", "int16", [2, 3], 0.5, 0), activation("y", "int16", [3, 5], 0.5, 0), constant);
  assert.equal(run(spec, "tflm", [MATRIX]), padReference(MATRIX, 2, 3, -1234));
});

test("PADV2 int8 constant needs the output quantization under tflm", () => {
  const values = [5, -7, 127, -128, 0, 1];
  const input = activation("x", "int8", [2, 3], 0.5, 2);
  const output = activation("y", "int8", [3, 5], 0.5, 2);
  const matching: TensorSpec = { name: "c", type: "int8", shape: [1], data: bytesOf("int8", [-100]), scale: [0.5], zeroPoint: [2] };
  assert.equal(run(padModel(input, output, matching), "tflm", [values]), padReference(values, 2, 3, -100));

  const other: TensorSpec = { ...matching, scale: [0.25] };
  const error = prepareError(padModel(input, output, other), "tflm");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "constant_values tensor 2");
});

test("PADV2 rejects a constant of another type", () => {
  const constant: TensorSpec = { name: "c", type: "int32", shape: [1], data: bytesOf("int32", [0]) };
  const error = prepareError(padModel(activation("x", "int16", [2, 3], 0.5, 0), activation("y", "int16", [3, 5], 0.5, 0), constant), "tflm");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "constant_values tensor 2");
});

// ---------------------------------------------------------------------------
// TRANSPOSE.

test("TRANSPOSE under tflm copies across a change of quantization", () => {
  const values = [1, -2, 3, -4, 5, -6];
  const spec: ModelSpec = {
    tensors: [
      activation("x", "int16", [2, 3], 0.5, 0),
      { name: "perm", type: "int32", shape: [2], data: bytesOf("int32", [1, 0]) },
      activation("y", "int16", [3, 2], 0.125, 0),
    ],
    operators: [{ op: "TRANSPOSE", inputs: [0, 1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
  assert.equal(run(spec, "tflm", [values]), [1, -4, -2, 5, 3, -6]);
  assert.instance(prepareError(spec, "onnx"), UnsupportedError);
});

// ---------------------------------------------------------------------------
// CONCATENATION.

function concatenationModel(inputs: TensorSpec[], output: TensorSpec, axis: number): ModelSpec {
  return {
    tensors: [...inputs, output],
    operators: [
      {
        op: "CONCATENATION",
        inputs: inputs.map((_, i) => i),
        outputs: [inputs.length],
        options: { type: "ConcatenationOptions", fields: { axis } },
      },
    ],
    inputs: inputs.map((_, i) => i),
    outputs: [inputs.length],
  };
}

/** Joins [outer, inner_k] row-major blocks along their second dimension. */
function concatenateReference(blocks: readonly (readonly number[])[], outer: number): number[] {
  const joined: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const block of blocks) {
      const inner = block.length / outer;
      joined.push(...block.slice(o * inner, (o + 1) * inner));
    }
  }
  return joined;
}

test("CONCATENATION int16 under tflm copies across scales", () => {
  const a = [1, -2, 3, -4];
  const b = [30000, -30000, 7, 8, 9, 10];
  const spec = concatenationModel(
    [activation("a", "int16", [2, 2], 0.5, 0), activation("b", "int16", [2, 3], 0.001, 0)],
    activation("y", "int16", [2, 5], 0.25, 0),
    -1,
  );
  assert.equal(run(spec, "tflm", [a, b]), concatenateReference([a, b], 2));
});

test("CONCATENATION int16 under tflm needs zero points of 0", () => {
  const spec = concatenationModel(
    [activation("a", "int16", [2, 2], 0.5, 0), activation("b", "int16", [2, 3], 0.5, 4)],
    activation("y", "int16", [2, 5], 0.5, 0),
    1,
  );
  const error = prepareError(spec, "tflm");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "needs one zero point of 0");
});

test("CONCATENATION int8 under tflm needs equal quantization", () => {
  const output = activation("y", "int8", [3, 2], 0.5, 1);
  const same = concatenationModel([activation("a", "int8", [1, 2], 0.5, 1), activation("b", "int8", [2, 2], 0.5, 1)], output, 0);
  assert.equal(run(same, "tflm", [[1, -128], [127, 0, -5, 6]]), [1, -128, 127, 0, -5, 6]);

  const other = concatenationModel([activation("a", "int8", [1, 2], 0.5, 1), activation("b", "int8", [2, 2], 0.5, 2)], output, 0);
  const error = prepareError(other, "tflm");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "input tensor 1 \"b\" has scale 0.5 and zero point 2");
});

test("CONCATENATION int32 and float32 copy", () => {
  const a = [1, -2, 3];
  const b = [100000, -7, 0, 5, 2147483647, -2147483648];
  const int32 = concatenationModel([activation("a", "int32", [3, 1]), activation("b", "int32", [3, 2])], activation("y", "int32", [3, 3]), 1);
  assert.equal(run(int32, "tflm", [a, b]), concatenateReference([a, b], 3));
  const floats = [0.5, -1.25, 3e10, -0, 7, 8];
  const float32 = concatenationModel([activation("a", "float32", [3, 1]), activation("b", "float32", [3, 2])], activation("y", "float32", [3, 3]), -1);
  assert.equal(run(float32, "onnx", [a, floats]), concatenateReference([a, Array.from(Float32Array.from(floats))], 3));
});

test("CONCATENATION int16 outside tflm needs equal quantization", () => {
  const spec = concatenationModel(
    [activation("a", "int16", [2, 2], 0.5, 0), activation("b", "int16", [2, 3], 0.25, 0)],
    activation("y", "int16", [2, 5], 0.5, 0),
    1,
  );
  const error = prepareError(spec, "onnx");
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "same quantization");
});

test("CONCATENATION rejects inputs of another rank", () => {
  const spec = concatenationModel([activation("a", "int16", [2, 2], 0.5, 0), activation("b", "int16", [6], 0.5, 0)], activation("y", "int16", [2, 5], 0.5, 0), 1);
  assert.instance(prepareError(spec, "tflm"), InvalidModelError);
});

test.run();
