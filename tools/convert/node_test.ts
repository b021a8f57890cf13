// Builds the converter's graph from an ONNX backend node test stored as
// JSON (format "onnx-node-test/1": nodes, graph inputs and outputs, and data
// sets of named tensors, float32 values also as IEEE-754 bit patterns).
// Node tests pass scales, zero points and weights as graph inputs; the
// caller names those it wants as constants, and they take their values
// from one data set, because a .tflite model keeps them in the file.

import { Attribute, ConstantTensor, ElementType, GraphNode, ONNX_TYPE_NAMES, OnnxGraph, OnnxModelError, ValueInfo, allocateValues } from "./graph.js";
import { normalizeDomain } from "./onnx_graph.js";

export interface NodeTestTensor {
  name?: string;
  dtype: string;
  shape: number[];
  values: Array<number | boolean>;
  /** float32 bit patterns, "0x3f800000", one per value. */
  hex?: string[];
}

export interface NodeTestAttribute {
  type: string;
  value: unknown;
}

export interface NodeTestNode {
  op_type: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, NodeTestAttribute>;
}

export interface NodeTestValueInfo {
  name: string;
  elem_type: string;
  shape: Array<number | string>;
}

export interface NodeTestDataSet {
  name: string;
  inputs: NodeTestTensor[];
  outputs: NodeTestTensor[];
}

export interface NodeTestCase {
  format: string;
  test: string;
  opset_import: Array<{ domain: string; version: number }>;
  nodes: NodeTestNode[];
  graph_inputs: NodeTestValueInfo[];
  graph_outputs: NodeTestValueInfo[];
  initializers: NodeTestTensor[];
  test_data_sets: NodeTestDataSet[];
}

export interface NodeTestGraphOptions {
  /** Graph inputs that become constants, with their values from the data set. */
  constantInputs: Iterable<string>;
  /** Index of the data set that supplies those values; 0 by default. */
  dataSet?: number;
}

/** Builds the graph of a node test, with the named graph inputs turned into constants. */
export function graphFromNodeTest(testCase: NodeTestCase, options: NodeTestGraphOptions): OnnxGraph {
  if (testCase.format !== "onnx-node-test/1") {
    throw new OnnxModelError(`node test "${testCase.test}" has format "${testCase.format}", expected "onnx-node-test/1"`);
  }
  const dataSetIndex = options.dataSet ?? 0;
  const dataSet = testCase.test_data_sets[dataSetIndex];
  if (dataSet === undefined) {
    throw new OnnxModelError(`node test "${testCase.test}" has ${testCase.test_data_sets.length} data sets; data set ${dataSetIndex} does not exist`);
  }

  const constants = new Map<string, ConstantTensor>();
  for (const tensor of testCase.initializers) constants.set(tensor.name ?? "", constantFromNodeTest(tensor, `initializer "${tensor.name}"`));
  const constantNames = new Set(options.constantInputs);
  for (const name of constantNames) {
    const position = testCase.graph_inputs.findIndex((input) => input.name === name);
    if (position < 0) throw new OnnxModelError(`node test "${testCase.test}" has no graph input "${name}"`);
    const tensor = dataSet.inputs.find((input) => input.name === name) ?? dataSet.inputs[position];
    constants.set(name, constantFromNodeTest(tensor, `input "${name}" of ${dataSet.name}`));
  }

  const inputs = testCase.graph_inputs.filter((input) => !constantNames.has(input.name) && !constants.has(input.name)).map(valueInfoFromNodeTest);
  const outputs = testCase.graph_outputs.map(valueInfoFromNodeTest);
  const nodes = testCase.nodes.map((node, index) => ({ ...nodeFromNodeTest(node), index }));
  const opsets = new Map(testCase.opset_import.map((opset) => [normalizeDomain(opset.domain), opset.version]));
  return { name: testCase.test, nodes, constants, inputs, outputs, opsets };
}

function valueInfoFromNodeTest(info: NodeTestValueInfo): ValueInfo {
  return { name: info.name, type: ONNX_TYPE_NAMES[info.elem_type], shape: [...info.shape] };
}

function nodeFromNodeTest(node: NodeTestNode): GraphNode {
  const attributes = new Map<string, Attribute>();
  for (const [name, attribute] of Object.entries(node.attributes)) {
    attributes.set(name, attributeFromNodeTest(attribute, `${node.op_type} attribute "${name}"`));
  }
  return { opType: node.op_type, domain: normalizeDomain(node.domain), name: node.name, inputs: [...node.inputs], outputs: [...node.outputs], attributes };
}

function attributeFromNodeTest(attribute: NodeTestAttribute, what: string): Attribute {
  const value = attribute.value;
  switch (attribute.type) {
    case "int":
    case "float":
      return { type: attribute.type, value: value as number };
    case "string":
      return { type: "string", value: value as string };
    case "ints":
    case "floats":
      return { type: attribute.type, value: [...(value as number[])] };
    case "strings":
      return { type: "strings", value: [...(value as string[])] };
    case "tensor":
      return { type: "tensor", value: constantFromNodeTest(value as NodeTestTensor, what) };
    default:
      return { type: "other", value: attribute.type };
  }
}

const NUMPY_TYPES: Readonly<Record<string, ElementType>> = {
  float32: "float32",
  float64: "float64",
  uint8: "uint8",
  int8: "int8",
  uint16: "uint16",
  int16: "int16",
  int32: "int32",
  int64: "int64",
  uint32: "uint32",
  uint64: "uint64",
  bool: "bool",
};

/** Converts a JSON tensor, taking float32 values from their bit patterns when present. */
export function constantFromNodeTest(tensor: NodeTestTensor, what: string): ConstantTensor {
  const type = NUMPY_TYPES[tensor.dtype];
  if (type === undefined) throw new OnnxModelError(`${what} has dtype "${tensor.dtype}", which the converter does not read`);
  const values = allocateValues(type, tensor.values.length);
  if (type === "float32" && tensor.hex !== undefined) {
    const bits = new Uint32Array(values.buffer);
    tensor.hex.forEach((hex, i) => {
      bits[i] = Number.parseInt(hex, 16);
    });
  } else {
    tensor.values.forEach((value, i) => {
      values[i] = Number(value);
    });
  }
  return { type, dims: [...tensor.shape], values };
}
