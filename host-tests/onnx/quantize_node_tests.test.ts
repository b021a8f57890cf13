// ONNX backend node tests (onnx 1.12 test data) of QuantizeLinear,
// DequantizeLinear and DynamicQuantizeLinear, each built directly as a
// one-operator .tflite model with the "onnx" scheme: QUANTIZE, DEQUANTIZE
// and the custom operator MICROQ_DYNAMIC_QUANTIZE_LINEAR. The scale and zero
// point inputs of the ONNX node become the quantization parameters of the
// quantized tensor (per axis along `axis`, default 1). On Node and on XS,
// integer outputs must equal the expected values and float outputs their
// bit patterns.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { ModelSpec, OperatorSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { FIXTURES } from "../fixtures.js";

const ONNX_FIXTURES = resolve(FIXTURES, "onnx");

interface NodeTensor {
  name: string;
  dtype: string;
  shape: number[];
  values: number[];
  /** IEEE-754 bit patterns of float32 values. */
  hex?: string[];
}

interface NodeTest {
  test: string;
  op: string;
  expanded: boolean;
  attributes: Record<string, { type: string; value: unknown }>;
  test_data_sets: { name: string; inputs: NodeTensor[]; outputs: NodeTensor[] }[];
}

function readNodeTest(name: string): NodeTest {
  return JSON.parse(readFileSync(resolve(ONNX_FIXTURES, `node__${name}.json`), "utf8")) as NodeTest;
}

function typeName(dtype: string): TensorTypeName {
  if (dtype === "uint8" || dtype === "int8" || dtype === "float32") return dtype;
  throw new Error(`node test tensor dtype ${dtype} is not used by these tests`);
}

/** Decodes float32 values from their bit patterns, so no value depends on decimal printing. */
function float32FromHex(hex: readonly string[]): Float32Array {
  return new Float32Array(Uint32Array.from(hex.map((h) => Number.parseInt(h, 16))).buffer);
}

function bitsOf(values: Float32Array): string[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), (bits) => `0x${bits.toString(16).padStart(8, "0")}`);
}

function typedInput(tensor: NodeTensor): Float32Array | Uint8Array | Int8Array {
  if (tensor.dtype === "float32") return float32FromHex(tensor.hex!);
  return tensor.dtype === "uint8" ? Uint8Array.from(tensor.values) : Int8Array.from(tensor.values);
}

/**
 * Returns the quantization of the tensor that QuantizeLinear writes or
 * DequantizeLinear reads: per tensor for a scalar scale, else per axis.
 */
function quantization(nodeTest: NodeTest, scale: NodeTensor, zeroPoint: NodeTensor | undefined): Partial<TensorSpec> {
  const scales = Array.from(float32FromHex(scale.hex!));
  const zeroPoints = zeroPoint === undefined ? scales.map(() => 0) : zeroPoint.values;
  if (scale.shape.length === 0) return { scale: scales, zeroPoint: zeroPoints };
  const axis = (nodeTest.attributes.axis?.value as number | undefined) ?? 1;
  return { scale: scales, zeroPoint: zeroPoints, quantizedDimension: axis };
}

/** One node test data set as a model, its input bytes and expected output bytes. */
interface BuiltNodeTest {
  label: string;
  model: Uint8Array;
  input: Float32Array | Uint8Array | Int8Array;
  /** Expected raw bytes of each output. */
  expected: Uint8Array[];
}

function rawBytes(tensor: NodeTensor): Uint8Array {
  const typed = typedInput(tensor);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** Builds the one-operator model of every data set of a node test. */
function buildNodeTest(name: string): BuiltNodeTest[] {
  const nodeTest = readNodeTest(name);
  return nodeTest.test_data_sets.map((dataSet) => {
    const label = `${name} ${dataSet.name}`;
    const [x, scale, zeroPoint] = dataSet.inputs;
    let tensors: TensorSpec[];
    let operator: OperatorSpec;
    if (nodeTest.op === "QuantizeLinear") {
      const [y] = dataSet.outputs;
      tensors = [
        { name: "x", type: "float32", shape: x.shape },
        { name: "y", type: typeName(y.dtype), shape: y.shape, ...quantization(nodeTest, scale, zeroPoint) },
      ];
      operator = { op: "QUANTIZE", inputs: [0], outputs: [1] };
    } else if (nodeTest.op === "DequantizeLinear") {
      const [y] = dataSet.outputs;
      tensors = [
        { name: "x", type: typeName(x.dtype), shape: x.shape, ...quantization(nodeTest, scale, zeroPoint) },
        { name: "y", type: "float32", shape: y.shape },
      ];
      operator = { op: "DEQUANTIZE", inputs: [0], outputs: [1] };
    } else if (nodeTest.op === "DynamicQuantizeLinear" && !nodeTest.expanded) {
      const [y, yScale, yZeroPoint] = dataSet.outputs;
      tensors = [
        { name: "x", type: "float32", shape: x.shape },
        { name: "y", type: "uint8", shape: y.shape },
        { name: "y_scale", type: "float32", shape: yScale.shape },
        { name: "y_zero_point", type: "uint8", shape: yZeroPoint.shape },
      ];
      operator = { op: "CUSTOM", customCode: "MICROQ_DYNAMIC_QUANTIZE_LINEAR", inputs: [0], outputs: [1, 2, 3] };
    } else {
      throw new Error(`node test ${name}: op ${nodeTest.op} (expanded ${nodeTest.expanded}) is not built here`);
    }
    const outputs = operator.outputs;
    const spec: ModelSpec = {
      tensors,
      operators: [operator],
      inputs: [0],
      outputs,
      metadata: { microq_requantization: new TextEncoder().encode("onnx") },
    };
    return { label, model: writeModel(spec), input: typedInput(x), expected: dataSet.outputs.map(rawBytes) };
  });
}

const NODE_TESTS = [
  "test_quantizelinear",
  "test_quantizelinear_axis",
  "test_dequantizelinear",
  "test_dequantizelinear_axis",
  "test_dynamicquantizelinear",
  "test_dynamicquantizelinear_max_adjusted",
  "test_dynamicquantizelinear_min_adjusted",
];

for (const name of NODE_TESTS) {
  test(`${name} exact`, () => {
    for (const built of buildNodeTest(name)) {
      const interpreter = new Interpreter(built.model);
      assert.is(interpreter.requantization, "onnx");
      interpreter.setInput(0, built.input);
      interpreter.invoke();
      built.expected.forEach((expected, i) => {
        const output = interpreter.outputs[i];
        // Float outputs are compared as bit patterns, integers as values.
        if (output.data instanceof Float32Array) {
          assert.equal(bitsOf(output.data), bitsOf(new Float32Array(expected.slice().buffer)), `${built.label} output ${i}`);
        } else {
          assert.equal(Array.from(output.bytes), Array.from(expected), `${built.label} output ${i}`);
        }
      });
    }
  });
}

test("node tests exact on XS", async () => {
  for (const name of NODE_TESTS) {
    for (const built of buildNodeTest(name)) {
      const input = new Uint8Array(built.input.buffer, built.input.byteOffset, built.input.byteLength);
      const result = await runModelOnXs({ model: built.model, inputs: [input] });
      built.expected.forEach((expected, i) => {
        assert.equal(Array.from(result.outputs[i]), Array.from(expected), `${built.label} output ${i}`);
      });
    }
  }
});

test("node test models allocate nothing on XS", async () => {
  for (const name of ["test_quantizelinear_axis", "test_dequantizelinear_axis", "test_dynamicquantizelinear"]) {
    const [built] = buildNodeTest(name);
    const input = new Uint8Array(built.input.buffer, built.input.byteOffset, built.input.byteLength);
    const count = await measureXsAllocations(built.model, 20, { inputs: [input] });
    assert.is(count.slots, 0, `${name} slots`);
    assert.is(count.chunkBytes, 0, `${name} chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${name} chunk bytes in use`);
  }
});

test.run();
