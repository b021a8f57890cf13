// Builds small ONNX graphs in the converter's in-memory form for tests, with
// helpers for the QuantizeLinear/DequantizeLinear pairs of QDQ form.

import { Attribute, ConstantTensor, ElementType, GraphNode, OnnxGraph, ValueInfo, allocateValues } from "../../tools/convert/graph.js";

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
