// SQUEEZE and EXPAND_DIMS through the interpreter, on one-operator models
// built with the TFLite writer. Neither operator reorders elements, so the
// output must be the input values unchanged. The expected shapes follow
// numpy.squeeze and numpy.expand_dims, written out per case. Also the
// prepare-time checks of TFLM's SQUEEZE and EXPAND_DIMS (tflite-micro
// 90b983c2): squeezed dimensions of size 1, a constant axis in range.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { bytesOf, typedArrayOf } from "./test_data.js";

function quantization(type: TensorTypeName): Pick<TensorSpec, "scale" | "zeroPoint"> {
  if (type === "float32" || type === "int32") return {};
  if (type === "uint8") return { scale: [0.125], zeroPoint: [128] };
  if (type === "int8") return { scale: [0.125], zeroPoint: [-3] };
  return { scale: [0.125], zeroPoint: [0] };
}

function squeezeModel(type: TensorTypeName, inputShape: number[], squeezeDims: number[] | null, outputShape: number[]): ModelSpec {
  return {
    tensors: [
      { name: "x", type, shape: inputShape, ...quantization(type) },
      { name: "y", type, shape: outputShape, ...quantization(type) },
    ],
    operators: [
      {
        op: "SQUEEZE",
        inputs: [0],
        outputs: [1],
        options: squeezeDims === null ? undefined : { type: "SqueezeOptions", fields: { squeeze_dims: squeezeDims } },
      },
    ],
    inputs: [0],
    outputs: [1],
  };
}

function expandDimsModel(type: TensorTypeName, inputShape: number[], axis: number, outputShape: number[]): ModelSpec {
  return {
    tensors: [
      { name: "x", type, shape: inputShape, ...quantization(type) },
      { name: "axis", type: "int32", shape: [1], data: bytesOf("int32", [axis]) },
      { name: "y", type, shape: outputShape, ...quantization(type) },
    ],
    operators: [{ op: "EXPAND_DIMS", inputs: [0, 1], outputs: [2] }],
    inputs: [0],
    outputs: [2],
  };
}

/** Runs a one-operator model on values 1, -2, 3, ... and checks that the output contains them unchanged. */
function assertCopied(spec: ModelSpec, scheme: SchemeName = "tflm"): void {
  const interpreter = new Interpreter(writeModel(spec), { requantization: scheme });
  const input = spec.tensors[spec.inputs[0]];
  const count = input.shape.reduce((p, n) => p * n, 1);
  const values = Array.from({ length: count }, (_, i) => (i % 2 === 0 ? i + 1 : -(i + 1)) & (input.type === "uint8" ? 0x7f : -1));
  interpreter.setInput(0, typedArrayOf(input.type, values));
  interpreter.invoke();
  assert.equal(Array.from(interpreter.outputs[0].data as ArrayLike<number>), values);
}

function prepareError(spec: ModelSpec): unknown {
  try {
    new Interpreter(writeModel(spec), { requantization: "tflm" });
  } catch (error) {
    return error;
  }
  return undefined;
}

// numpy.squeeze(x, axis) shapes: [input shape, squeeze_dims (null: option table absent), output shape].
const SQUEEZE_CASES: ReadonlyArray<[number[], number[] | null, number[]]> = [
  [[1, 3, 1, 4], [], [3, 4]],
  [[1, 3, 1, 4], null, [3, 4]],
  [[1, 3, 1, 4], [0], [3, 1, 4]],
  [[1, 3, 1, 4], [-2], [1, 3, 4]],
  [[1, 3, 1, 4], [2, 0], [3, 4]],
  [[1, 3, 1, 4], [2, -2], [1, 3, 4]],
  [[1, 1, 1], [], []],
  [[2, 3], [], [2, 3]],
  [[1, 2, 1, 1, 3, 1, 1, 1], [], [2, 3]],
];

for (const [inputShape, squeezeDims, outputShape] of SQUEEZE_CASES) {
  test(`SQUEEZE [${inputShape}] dims ${squeezeDims === null ? "absent" : `[${squeezeDims}]`}`, () => {
    for (const type of ["int8", "int16", "uint8", "int32", "float32"] as const) {
      assertCopied(squeezeModel(type, inputShape, squeezeDims, outputShape));
    }
  });
}

// numpy.expand_dims(x, axis) shapes: [input shape, axis, output shape].
const EXPAND_DIMS_CASES: ReadonlyArray<[number[], number, number[]]> = [
  [[3, 4], 0, [1, 3, 4]],
  [[3, 4], 1, [3, 1, 4]],
  [[3, 4], 2, [3, 4, 1]],
  [[3, 4], -1, [3, 4, 1]],
  [[3, 4], -3, [1, 3, 4]],
  [[2, 3, 4], -2, [2, 3, 1, 4]],
  [[5], 0, [1, 5]],
];

for (const [inputShape, axis, outputShape] of EXPAND_DIMS_CASES) {
  test(`EXPAND_DIMS [${inputShape}] axis ${axis}`, () => {
    for (const type of ["int8", "int16", "uint8", "int32", "float32"] as const) {
      assertCopied(expandDimsModel(type, inputShape, axis, outputShape));
    }
  });
}

test("SQUEEZE copies with another scheme", () => {
  assertCopied(squeezeModel("uint8", [1, 6], [], [6]), "onnx");
});

test("SQUEEZE rejects a dimension that is not 1", () => {
  const error = prepareError(squeezeModel("int8", [1, 3, 1, 4], [1], [1, 1, 4]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "squeeze_dims [1] lists dimension 1");
});

test("SQUEEZE rejects a dimension out of range", () => {
  const error = prepareError(squeezeModel("int8", [1, 3], [-3], [3]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "lists dimension -3");
});

test("SQUEEZE rejects a wrong output shape", () => {
  const error = prepareError(squeezeModel("int16", [1, 3, 1, 4], [0], [3, 4]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "expected [3,1,4]");
});

test("SQUEEZE rejects a change of quantization outside tflm", () => {
  const spec = squeezeModel("uint8", [1, 6], [], [6]);
  const tensors = [spec.tensors[0], { ...spec.tensors[1], zeroPoint: [127] }];
  let error: unknown = undefined;
  try {
    new Interpreter(writeModel({ ...spec, tensors }), { requantization: "onnx" });
  } catch (thrown) {
    error = thrown;
  }
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "same quantization");
});

test("EXPAND_DIMS rejects an axis out of range", () => {
  for (const axis of [3, -4]) {
    const error = prepareError(expandDimsModel("int8", [3, 4], axis, [3, 4, 1]));
    assert.instance(error, InvalidModelError, `axis ${axis}`);
    assert.match(String(error), `axis ${axis} is outside [-3, 2]`);
  }
});

test("EXPAND_DIMS rejects a wrong output shape", () => {
  const error = prepareError(expandDimsModel("int8", [3, 4], 1, [3, 4, 1]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "expected [3,1,4]");
});

test("EXPAND_DIMS rejects a run-time axis", () => {
  const spec = expandDimsModel("int8", [3, 4], 1, [3, 1, 4]);
  const tensors = [spec.tensors[0], { name: "axis", type: "int32" as const, shape: [1] }, spec.tensors[2]];
  const error = prepareError({ ...spec, tensors, inputs: [0, 1] });
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "is computed at run time");
});

test.run();
