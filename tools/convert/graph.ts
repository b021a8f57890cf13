// The converter's in-memory ONNX graph: nodes, constant tensors and graph
// inputs and outputs, independent of where they came from (an .onnx file
// through onnx_proto.ts, or an ONNX node test given as JSON through
// node_test.ts). Folding and lowering work on this form only.

import { MAX_TENSOR_ELEMENTS as RUNTIME_MAX_TENSOR_ELEMENTS } from "../../runtime/model.js";

/** Element types of ONNX tensors, by the names numpy and this converter use. */
export type ElementType =
  | "float32"
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "int32"
  | "int64"
  | "string"
  | "bool"
  | "float16"
  | "float64"
  | "uint32"
  | "uint64"
  | "bfloat16";

/** ONNX TensorProto.DataType codes, indexed by code (0 is UNDEFINED). */
export const ONNX_ELEMENT_TYPES: readonly (ElementType | undefined)[] = [
  undefined, "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
  "float16", "float64", "uint32", "uint64", undefined, undefined, "bfloat16",
];

/** Upper-case TensorProto.DataType names (FLOAT, UINT8, ...), as node tests spell elem_type. */
export const ONNX_TYPE_NAMES: Readonly<Record<string, ElementType>> = {
  FLOAT: "float32",
  UINT8: "uint8",
  INT8: "int8",
  UINT16: "uint16",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  STRING: "string",
  BOOL: "bool",
  FLOAT16: "float16",
  DOUBLE: "float64",
  UINT32: "uint32",
  UINT64: "uint64",
  BFLOAT16: "bfloat16",
};

/**
 * Element storage of a constant. int64 and uint64 values are kept as exact
 * doubles (every value the converter uses is a shape, an axis or a small
 * count), so decoding rejects values beyond 2^53.
 */
export type TensorValues = Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array;

export interface ConstantTensor {
  type: ElementType;
  /** ONNX dimensions; [] for a scalar. */
  dims: number[];
  values: TensorValues;
}

export type Attribute =
  | { type: "float"; value: number }
  | { type: "int"; value: number }
  | { type: "string"; value: string }
  | { type: "tensor"; value: ConstantTensor }
  | { type: "floats"; value: number[] }
  | { type: "ints"; value: number[] }
  | { type: "strings"; value: string[] }
  /** Attribute kinds the converter does not read (graphs, sparse tensors, type protos). */
  | { type: "other"; value: string };

export interface GraphNode {
  opType: string;
  /** "" for the default ONNX domain ("ai.onnx" is normalized to ""). */
  domain: string;
  name: string;
  /** Value names; "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, Attribute>;
  /** Position in the model's node list, for messages about nodes without a name. */
  index?: number;
}

export interface ValueInfo {
  name: string;
  type: ElementType | undefined;
  /** Dimensions: numbers, or a name (string) for a symbolic dimension, or undefined when unknown. */
  shape: Array<number | string | undefined> | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: GraphNode[];
  /** Constant values by name: initializers, and Constant nodes once folded. */
  constants: Map<string, ConstantTensor>;
  /** Graph inputs that are not initializers. */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Opset version by domain, with "" for the default domain. */
  opsets: Map<string, number>;
}

/** Returns the typed array that stores elements of `type`. */
export function allocateValues(type: ElementType, count: number): TensorValues {
  switch (type) {
    case "float32":
      return new Float32Array(count);
    case "float64":
    case "int64":
    case "uint64":
      return new Float64Array(count);
    case "uint8":
    case "bool":
      return new Uint8Array(count);
    case "int8":
      return new Int8Array(count);
    case "uint16":
      return new Uint16Array(count);
    case "int16":
      return new Int16Array(count);
    case "int32":
      return new Int32Array(count);
    case "uint32":
      return new Uint32Array(count);
    default:
      throw new RangeError(`tensors of element type ${type} cannot be stored by the converter`);
  }
}

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dimension of dims) count *= dimension;
  return count;
}

/** Largest dimension a .tflite shape can store (an int32). */
export const MAX_DIMENSION = 0x7fffffff;

/** Largest element count of one tensor: the runtime's limit, 2^26, far above what a microcontroller model needs. */
export const MAX_TENSOR_ELEMENTS = RUNTIME_MAX_TENSOR_ELEMENTS;

/**
 * Largest total size of the constants the converter holds for one model,
 * in bytes of their storage (TensorValues): 256 MiB, far above the flash
 * of ESP32 modules, which have from 4 MB to 32 MB.
 */
export const MAX_CONSTANT_BYTES = 0x10000000;

/**
 * Checks that every dimension is an integer in [0, 2^31 - 1] and that the
 * shape has at most MAX_TENSOR_ELEMENTS elements, before anything of that
 * size is allocated. Returns the element count. `what` names the tensor in
 * the OnnxModelError it throws otherwise.
 */
export function checkedElementCount(dims: readonly number[], what: string): number {
  dims.forEach((dimension, axis) => {
    if (!Number.isInteger(dimension) || dimension < 0 || dimension > MAX_DIMENSION) {
      throw new OnnxModelError(
        `${what} has shape [${dims}], whose dimension ${axis} is ${dimension}; a dimension must be an integer from 0 to 2^31 - 1, so the file is corrupted`,
      );
    }
  });
  const count = elementCount(dims);
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new OnnxModelError(
      `${what} has shape [${dims}] with ${count} elements, more than the limit of ${MAX_TENSOR_ELEMENTS} (2^26) per tensor; ` +
        "the file is corrupted or the model is far too large for a microcontroller",
    );
  }
  return count;
}

/** Bytes per element of the storage allocateValues returns. */
const STORAGE_BYTES: Partial<Record<ElementType, number>> = {
  float32: 4, float64: 8, int64: 8, uint64: 8, uint8: 1, bool: 1, int8: 1, uint16: 2, int16: 2, int32: 4, uint32: 4,
};

/**
 * The running total of constant bytes of one model. The converter reserves
 * each constant here before it allocates the constant's storage, so a small
 * file whose shapes ask for gigabytes is rejected before any allocation.
 */
export class ConstantBudget {
  private usedBytes = 0;

  constructor(readonly limitBytes = MAX_CONSTANT_BYTES) {}

  /** Counts constants that are already stored. */
  addStored(tensors: Iterable<ConstantTensor>): void {
    for (const tensor of tensors) this.usedBytes += tensor.values.byteLength;
  }

  /**
   * Checks the shape of a new constant (checkedElementCount) and counts its
   * bytes; throws OnnxModelError when the total would pass the limit.
   * Returns the element count.
   */
  reserve(type: ElementType, dims: readonly number[], what: string): number {
    const count = checkedElementCount(dims, what);
    const bytes = count * (STORAGE_BYTES[type] ?? 0);
    if (this.usedBytes + bytes > this.limitBytes) {
      throw new OnnxModelError(
        `${what} (${type} [${dims}], ${bytes} bytes) brings the model's constants to ${this.usedBytes + bytes} bytes, ` +
          `more than the limit of ${this.limitBytes}; the file is corrupted or the model is far too large for a microcontroller`,
      );
    }
    this.usedBytes += bytes;
    return count;
  }
}

/** Returns the attribute's value when it has the expected type, the default when it is absent. */
export function attributeInt(node: GraphNode, name: string, defaultValue: number): number {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return defaultValue;
  if (attribute.type !== "int") throw new AttributeTypeError(node, name, "an int", attribute.type);
  return attribute.value;
}

export function attributeFloat(node: GraphNode, name: string, defaultValue: number): number {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return defaultValue;
  if (attribute.type !== "float") throw new AttributeTypeError(node, name, "a float", attribute.type);
  return attribute.value;
}

export function attributeInts(node: GraphNode, name: string): number[] | undefined {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return undefined;
  if (attribute.type !== "ints") throw new AttributeTypeError(node, name, "a list of ints", attribute.type);
  return attribute.value;
}

export function attributeString(node: GraphNode, name: string, defaultValue: string): string {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return defaultValue;
  if (attribute.type !== "string") throw new AttributeTypeError(node, name, "a string", attribute.type);
  return attribute.value;
}

/** Names a node for messages: `node "conv1" (Conv)`, or `node 3 (Conv)` by position when it has no name. */
export function describeNode(node: GraphNode, index = node.index): string {
  if (node.name !== "") return `node "${node.name}" (${node.opType})`;
  return index === undefined ? `a ${node.opType} node` : `node ${index} (${node.opType})`;
}

/** An ONNX model the converter cannot read: invalid structure or unsupported content. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnnxModelError";
  }
}

/** An .onnx file that is not a valid serialized ModelProto. */
export class OnnxDecodeError extends OnnxModelError {
  constructor(message: string) {
    super(message);
    this.name = "OnnxDecodeError";
  }
}

export class AttributeTypeError extends OnnxModelError {
  constructor(node: GraphNode, name: string, expected: string, actual: string) {
    super(`${describeNode(node)}: attribute "${name}" is ${actual === "other" ? "of an unsupported kind" : `a ${actual}`}, expected ${expected}`);
    this.name = "AttributeTypeError";
  }
}

/**
 * A node the converter cannot turn into TFLite operators. The message names
 * the node, its op type and what the converter supports instead.
 */
export class UnsupportedNodeError extends OnnxModelError {
  readonly opType: string;
  readonly nodeName: string;

  constructor(node: GraphNode, reason: string) {
    super(`${describeNode(node)}: ${reason}`);
    this.name = "UnsupportedNodeError";
    this.opType = node.opType;
    this.nodeName = node.name;
  }
}
