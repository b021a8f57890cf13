// The 17 ONNX backend node tests of the quantization operators (onnx 1.12
// test data, as JSON) through the converter. Each test's graph is folded
// and lowered to a .tflite model with the default "onnx" scheme. The model
// runs on every data set and must reproduce every expected output exactly,
// float outputs bit for bit.
//
// A node test passes scales, zero points and weights as graph inputs. A
// .tflite model keeps them in the file, so every graph input after the
// first becomes a constant with its value from the data set, and the first
// graph input (x, a or A) stays the model input. The *_expanded tests hold
// DynamicQuantizeLinear written out as its function body, which the
// converter must fold back into the one custom operator.

import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { convertGraph } from "../../tools/convert/convert.js";
import { NodeTestCase, NodeTestTensor, graphFromNodeTest } from "../../tools/convert/node_test.js";
import { ONNX_NODE_TESTS, nchwToNhwc, nhwcToNchw, readJson } from "../convert/onnx_fixtures.js";

const files = readdirSync(ONNX_NODE_TESTS).filter((name) => name.startsWith("node__") && name.endsWith(".json")).sort();

test("node tests: all 17 present", () => {
  assert.is(files.length, 17);
});

function typedValues(tensor: NodeTestTensor): Float32Array | Uint8Array | Int8Array | Int32Array {
  switch (tensor.dtype) {
    case "float32":
      return new Float32Array(Uint32Array.from(tensor.hex!.map((hex) => Number.parseInt(hex, 16))).buffer);
    case "uint8":
      return Uint8Array.from(tensor.values as number[]);
    case "int8":
      return Int8Array.from(tensor.values as number[]);
    case "int32":
      return Int32Array.from(tensor.values as number[]);
    default:
      throw new Error(`node test tensor dtype ${tensor.dtype} is not used by these tests`);
  }
}

/** Bit pattern of each element, so that float outputs compare exactly (and -0 differs from 0). */
function bitsOf(values: ArrayLike<number>, dtype: string): string[] {
  if (dtype !== "float32") return Array.from(values, String);
  const floats = Float32Array.from(values);
  return Array.from(new Uint32Array(floats.buffer), (bits) => `0x${bits.toString(16).padStart(8, "0")}`);
}

/** Expected operators of each converted test, by ONNX op under test. */
const EXPECTED_OPERATORS: Readonly<Record<string, string[]>> = {
  QuantizeLinear: ["QUANTIZE"],
  DequantizeLinear: ["DEQUANTIZE"],
  DynamicQuantizeLinear: ["MICROQ_DYNAMIC_QUANTIZE_LINEAR"],
  QLinearConv: ["CONV_2D"],
  QLinearMatMul: ["FULLY_CONNECTED"],
  ConvInteger: ["CONV_2D"],
  MatMulInteger: ["FULLY_CONNECTED"],
};

for (const file of files) {
  const testCase = readJson<NodeTestCase & { op: string }>(resolve(ONNX_NODE_TESTS, file));

  test(`${testCase.test}: converted model exact`, () => {
    const constantInputs = testCase.graph_inputs.slice(1).map((input) => input.name);
    testCase.test_data_sets.forEach((dataSet, dataSetIndex) => {
      const model = convertGraph(graphFromNodeTest(testCase, { constantInputs, dataSet: dataSetIndex }));
      const interpreter = new Interpreter(model);
      assert.is(interpreter.requantization, "onnx");

      const operators = interpreter.model.operators.map((op) => op.name);
      const expectedOperators = testCase.test === "test_convinteger_with_padding"
        ? ["PAD", "CONV_2D"]
        : testCase.test === "test_qlinearmatmul_3D" ? ["BATCH_MATMUL"] : EXPECTED_OPERATORS[testCase.op];
      assert.equal(operators, expectedOperators, "operators");

      // Rank-4 tensors are NCHW in ONNX and NHWC in the model.
      const input = dataSet.inputs[0];
      const inputValues = typedValues(input);
      if (input.shape.length === 4) inputValues.set(nchwToNhwc(inputValues.slice(), input.shape));
      interpreter.setInput(0, inputValues);
      interpreter.invoke();

      assert.is(interpreter.outputs.length, dataSet.outputs.length, "output count");
      dataSet.outputs.forEach((expected, i) => {
        const stored = interpreter.outputs[i].data as ArrayLike<number>;
        const actual = expected.shape.length === 4 ? nhwcToNchw(stored, expected.shape) : Array.from(stored);
        assert.equal(bitsOf(actual, expected.dtype), bitsOf(typedValues(expected), expected.dtype), `output ${expected.name} of ${dataSet.name}`);
      });
    });
  });
}

test.run();
