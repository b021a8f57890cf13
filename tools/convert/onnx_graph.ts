// Builds the converter's graph (graph.ts) from a decoded ONNX ModelProto,
// including the tensor data of initializers and of tensor attributes, read
// from raw_data or from the typed repeated fields.

import {
  Attribute,
  ConstantBudget,
  ConstantTensor,
  ElementType,
  GraphNode,
  ONNX_ELEMENT_TYPES,
  OnnxGraph,
  OnnxModelError,
  TensorValues,
  ValueInfo,
  allocateValues,
} from "./graph.js";
import { AttributeMessage, ModelMessage, NodeMessage, TensorMessage, ValueInfoMessage, decodeOnnxModel } from "./onnx_proto.js";

/** TensorProto.DataLocation value of tensors stored in a separate file. */
const DATA_LOCATION_EXTERNAL = 1;

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_TENSOR = 4;
const ATTRIBUTE_FLOATS = 6;
const ATTRIBUTE_INTS = 7;
const ATTRIBUTE_STRINGS = 8;

const utf8 = new TextDecoder("utf-8");

/** Decodes an .onnx file into the converter's graph. */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  return graphFromModel(decodeOnnxModel(bytes));
}

export function graphFromModel(model: ModelMessage): OnnxGraph {
  const graph = model.graph;
  if (graph === undefined || graph === null) throw new OnnxModelError("the ONNX model has no graph; pass an .onnx model file");

  const opsets = new Map<string, number>();
  for (const opset of model.opset_import) opsets.set(normalizeDomain(opset.domain), safeInteger(opset.version, "opset version"));

  // One budget covers the initializers and the tensor attributes of all nodes.
  const budget = new ConstantBudget();
  const constants = new Map<string, ConstantTensor>();
  for (const initializer of graph.initializer) {
    constants.set(initializer.name, tensorFromMessage(initializer, `initializer "${initializer.name}"`, budget));
  }
  // Since IR version 4 initializers need not be listed as inputs; those that are stay constants.
  const inputs = graph.input.filter((input) => !constants.has(input.name)).map(valueInfoFromMessage);
  const outputs = graph.output.map(valueInfoFromMessage);
  const nodes = graph.node.map((node, index) => nodeFromMessage(node, index, budget));
  return { name: graph.name, nodes, constants, inputs, outputs, opsets };
}

/** Maps "ai.onnx" to "", the two spellings of the default domain. */
export function normalizeDomain(domain: string): string {
  return domain === "ai.onnx" ? "" : domain;
}

function safeInteger(decimal: string, what: string): number {
  const value = Number(decimal);
  if (!Number.isSafeInteger(value)) throw new OnnxModelError(`${what} ${decimal} is outside the range the converter handles (|v| <= 2^53)`);
  return value;
}

function valueInfoFromMessage(info: ValueInfoMessage): ValueInfo {
  const tensorType = info.type?.tensor_type;
  if (tensorType === undefined || tensorType === null) return { name: info.name, type: undefined, shape: undefined };
  const shape = tensorType.shape?.dim.map((dimension) => {
    if (dimension.dim_value !== undefined && dimension.dim_value !== null) return safeInteger(dimension.dim_value, `dimension of "${info.name}"`);
    if (dimension.dim_param !== undefined && dimension.dim_param !== null && dimension.dim_param !== "") return dimension.dim_param;
    return undefined;
  });
  return { name: info.name, type: ONNX_ELEMENT_TYPES[tensorType.elem_type], shape };
}

function nodeFromMessage(node: NodeMessage, index: number, budget: ConstantBudget): GraphNode {
  const what = node.name !== "" ? `node "${node.name}" (${node.op_type})` : `node ${index} (${node.op_type})`;
  const attributes = new Map<string, Attribute>();
  for (const attribute of node.attribute) attributes.set(attribute.name, attributeFromMessage(attribute, what, budget));
  return {
    opType: node.op_type,
    domain: normalizeDomain(node.domain),
    name: node.name,
    inputs: [...node.input],
    outputs: [...node.output],
    attributes,
    index,
  };
}

function attributeFromMessage(attribute: AttributeMessage, what: string, budget: ConstantBudget): Attribute {
  const where = `${what} attribute "${attribute.name}"`;
  if (attribute.ref_attr_name !== "") {
    throw new OnnxModelError(`${where} refers to a function attribute, which appears only inside function bodies`);
  }
  switch (attribute.type) {
    case ATTRIBUTE_FLOAT:
      return { type: "float", value: attribute.f };
    case ATTRIBUTE_INT:
      return { type: "int", value: safeInteger(attribute.i, where) };
    case ATTRIBUTE_STRING:
      return { type: "string", value: utf8.decode(attribute.s) };
    case ATTRIBUTE_TENSOR:
      if (attribute.t === undefined || attribute.t === null) throw new OnnxModelError(`${where} is a tensor attribute without a tensor`);
      return { type: "tensor", value: tensorFromMessage(attribute.t, where, budget) };
    case ATTRIBUTE_FLOATS:
      return { type: "floats", value: [...attribute.floats] };
    case ATTRIBUTE_INTS:
      return { type: "ints", value: attribute.ints.map((i) => safeInteger(i, where)) };
    case ATTRIBUTE_STRINGS:
      return { type: "strings", value: attribute.strings.map((s) => utf8.decode(s)) };
    default:
      return { type: "other", value: `AttributeProto type ${attribute.type}` };
  }
}

/**
 * Reads a TensorProto's data from raw_data or from its typed field. The
 * shape is checked against the tensor limits and `budget`, and the data
 * length against the shape, before the values are allocated.
 */
export function tensorFromMessage(tensor: TensorMessage, what: string, budget = new ConstantBudget()): ConstantTensor {
  const type = ONNX_ELEMENT_TYPES[tensor.data_type];
  if (type === undefined) throw new OnnxModelError(`${what} has TensorProto data type ${tensor.data_type}, which the converter does not know`);
  if (tensor.data_location === DATA_LOCATION_EXTERNAL || tensor.external_data.length > 0) {
    throw new OnnxModelError(`${what} keeps its data in an external file; save the model with its tensors inside the .onnx file`);
  }
  if (type === "string" || type === "float16" || type === "bfloat16") {
    throw new OnnxModelError(`${what} has element type ${type}, which the converter does not read; use float32 or an integer type`);
  }
  const dims = tensor.dims.map((dimension) => safeInteger(dimension, `${what} dimension`));
  const count = budget.reserve(type, dims, what);

  if (tensor.raw_data.length > 0) {
    const needed = count * (ELEMENT_BYTES[type] ?? 0);
    if (tensor.raw_data.length !== needed) {
      throw new OnnxModelError(`${what} has ${tensor.raw_data.length} raw_data bytes, but ${count} ${type} elements need ${needed}`);
    }
    const values = allocateValues(type, count);
    readRawData(tensor.raw_data, type, values, what);
    return { type, dims, values };
  }
  const field = typedField(tensor, type);
  if (field.length !== count) {
    throw new OnnxModelError(`${what} has ${field.length} values for shape [${dims}] (${count} elements)`);
  }
  const values = allocateValues(type, count);
  for (let i = 0; i < count; i++) {
    const value = field[i];
    values[i] = typeof value === "string" ? safeInteger(value, `${what} value`) : value;
  }
  return { type, dims, values };
}

/** Returns the repeated field that stores values of `type` when raw_data is empty (onnx.proto's table). */
function typedField(tensor: TensorMessage, type: ElementType): ReadonlyArray<number | string> {
  switch (type) {
    case "float32":
      return tensor.float_data;
    case "float64":
      return tensor.double_data;
    case "int64":
      return tensor.int64_data;
    case "uint32":
    case "uint64":
      return tensor.uint64_data;
    default:
      // int32, int16, int8, uint16, uint8 and bool are stored in int32_data.
      return tensor.int32_data;
  }
}

const ELEMENT_BYTES: Partial<Record<ElementType, number>> = {
  float32: 4, float64: 8, int64: 8, uint64: 8, uint8: 1, bool: 1, int8: 1, uint16: 2, int16: 2, int32: 4, uint32: 4,
};

/** Decodes little-endian raw_data, whose length the caller has checked, into `values`. */
function readRawData(raw: Uint8Array, type: ElementType, values: TensorValues, what: string): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < values.length; i++) {
    switch (type) {
      case "float32":
        values[i] = view.getFloat32(4 * i, true);
        break;
      case "float64":
        values[i] = view.getFloat64(8 * i, true);
        break;
      case "int64":
      case "uint64": {
        const value = type === "int64" ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true);
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new OnnxModelError(`${what} element ${i} is ${value}, outside the range the converter handles (|v| <= 2^53)`);
        }
        values[i] = Number(value);
        break;
      }
      case "int32":
        values[i] = view.getInt32(4 * i, true);
        break;
      case "uint32":
        values[i] = view.getUint32(4 * i, true);
        break;
      case "int16":
        values[i] = view.getInt16(2 * i, true);
        break;
      case "uint16":
        values[i] = view.getUint16(2 * i, true);
        break;
      case "int8":
        values[i] = view.getInt8(i);
        break;
      default:
        values[i] = view.getUint8(i);
    }
  }
}
