// Builds small ONNX graphs in the converter's in-memory form for tests, with
// helpers for the QuantizeLinear/DequantizeLinear pairs of QDQ form.

import { Attribute, ConstantTensor, ElementType, GraphNode, ONNX_ELEMENT_TYPES, OnnxGraph, ValueInfo, allocateValues } from "../../tools/convert/graph.js";
import { encodeOnnxModel } from "../../tools/convert/onnx_proto.js";

export const attr = {
  int: (value: number): Attribute => ({ type: "int", value }),
  ints: (value: number[]): Attribute => ({ type: "ints", value }),
  float: (value: number): Attribute => ({ type: "float", value }),
  string: (value: string): Attribute => ({ type: "string", value }),
};

export class TestGraph {
  private readonly nodes: GraphNode[] = [];
  private readonly constants = new Map<string, ConstantTensor>();
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private counter = 0;

  input(name: string, type: ElementType, shape: number[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: ElementType): void {
    this.outputs.push({ name, type, shape: undefined });
  }

  constant(type: ElementType, dims: number[], values: ArrayLike<number>, name = `c${this.counter++}`): string {
    const stored = allocateValues(type, values.length);
    for (let i = 0; i < values.length; i++) stored[i] = values[i];
    this.constants.set(name, { type, dims, values: stored });
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[] | number = 1, attributes: Record<string, Attribute> = {}, name = `${opType.toLowerCase()}${this.counter++}`): string[] {
    const outputNames = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => `${name}_out${i}`) : outputs;
    this.nodes.push({ opType, domain: "", name, inputs, outputs: outputNames, attributes: new Map(Object.entries(attributes)) });
    return outputNames;
  }

  /** QuantizeLinear(x) with per-tensor parameters; returns the quantized value. */
  quantize(x: string, scale: number, zeroPoint: number, type: "uint8" | "int8" = "uint8", name?: string): string {
    return this.node("QuantizeLinear", [x, this.constant("float32", [], [scale]), this.constant(type, [], [zeroPoint])], name === undefined ? 1 : [name])[0];
  }

  /** DequantizeLinear(x) with per-tensor or per-axis parameters; returns the float value. */
  dequantize(x: string, scale: number | number[], zeroPoint: number | number[], type: "uint8" | "int8" | "int32", axis?: number): string {
    const scales = typeof scale === "number" ? [scale] : scale;
    const zeroPoints = typeof zeroPoint === "number" ? [zeroPoint] : zeroPoint;
    const dims = typeof scale === "number" ? [] : [scales.length];
    const attributes: Record<string, Attribute> = axis === undefined ? {} : { axis: attr.int(axis) };
    return this.node("DequantizeLinear", [x, this.constant("float32", dims, scales), this.constant(type, dims, zeroPoints)], 1, attributes)[0];
  }

  /** Quantize then dequantize: the QDQ pair around a float value. */
  qdq(x: string, scale: number, zeroPoint: number, type: "uint8" | "int8" = "uint8", name?: string): string {
    return this.dequantize(this.quantize(x, scale, zeroPoint, type, name), scale, zeroPoint, type);
  }

  /** Adds a quantized constant behind a DequantizeLinear (weights or bias) and returns the float value. */
  weights(type: "uint8" | "int8" | "int32", dims: number[], values: ArrayLike<number>, scale: number | number[], zeroPoint: number | number[], axis?: number): string {
    return this.dequantize(this.constant(type, dims, values), scale, zeroPoint, type, axis);
  }

  build(name = "test"): OnnxGraph {
    return {
      name,
      nodes: [...this.nodes],
      constants: new Map(this.constants),
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      opsets: new Map([["", 13]]),
    };
  }
}

/** Deterministic pseudo-random integers in [min, max] (a 32-bit linear congruential generator). */
export function randomIntegers(count: number, min: number, max: number, seed: number): number[] {
  let state = seed >>> 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values.push(min + (state % (max - min + 1)));
  }
  return values;
}

/** AttributeProto.AttributeType codes of the attribute kinds TestGraph writes. */
const ATTRIBUTE_TYPE_CODES: Readonly<Record<string, number>> = { float: 1, int: 2, string: 3, floats: 6, ints: 7 };

/**
 * Serializes a graph as an .onnx file (opset 13), for tests of the file
 * reader and the CLI. Constants become initializers with little-endian
 * raw_data taken from their values as they are, so a test can give dims
 * that do not match the values. Dimensions are written as they are too.
 */
export function encodeGraph(graph: OnnxGraph): Uint8Array {
  const elementType = (type: ElementType | undefined): number => (type === undefined ? 0 : ONNX_ELEMENT_TYPES.indexOf(type));
  const valueInfo = (info: ValueInfo): unknown => ({
    name: info.name,
    type: {
      tensor_type: {
        elem_type: elementType(info.type),
        ...(info.shape === undefined
          ? {}
          : { shape: { dim: info.shape.map((dimension) => (typeof dimension === "string" ? { dim_param: dimension } : { dim_value: String(dimension) })) } }),
      },
    },
  });
  const initializer = [...graph.constants].map(([name, tensor]) => ({
    name,
    dims: tensor.dims.map(String),
    data_type: elementType(tensor.type),
    raw_data: rawData(tensor),
  }));
  const node = graph.nodes.map((graphNode) => ({
    op_type: graphNode.opType,
    domain: graphNode.domain,
    name: graphNode.name,
    input: graphNode.inputs,
    output: graphNode.outputs,
    attribute: [...graphNode.attributes].map(([name, attribute]) => {
      const type = ATTRIBUTE_TYPE_CODES[attribute.type];
      if (type === undefined) throw new Error(`encodeGraph does not write ${attribute.type} attributes`);
      const field = { float: "f", int: "i", string: "s", floats: "floats", ints: "ints" }[attribute.type as "float" | "int" | "string" | "floats" | "ints"];
      const value = attribute.type === "string" ? new TextEncoder().encode(attribute.value) : attribute.value;
      return { name, type, [field]: value };
    }),
  }));
  return encodeOnnxModel({
    ir_version: 8,
    opset_import: [{ domain: "", version: 13 }],
    graph: { name: graph.name, node, initializer, input: graph.inputs.map(valueInfo), output: graph.outputs.map(valueInfo) },
  });
}

/** Little-endian bytes of a constant's values; int64 and uint64 values, stored as doubles, become 8-byte integers. */
function rawData(tensor: ConstantTensor): Uint8Array {
  if (tensor.type === "int64" || tensor.type === "uint64") {
    const view = new DataView(new ArrayBuffer(8 * tensor.values.length));
    for (let i = 0; i < tensor.values.length; i++) view.setBigInt64(8 * i, BigInt(tensor.values[i]), true);
    return new Uint8Array(view.buffer);
  }
  return new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength);
}
