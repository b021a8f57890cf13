// Lowering of a folded ONNX graph to TFLite operators. Nodes are visited in
// graph order, and QDQ form is folded as it goes. DequantizeLinear makes a
// "dequantized" view of a quantized tensor, and a float operator on such
// views becomes "pending". The QuantizeLinear after it then emits one
// quantized TFLite operator with the output scale and zero point it
// carries. The handlers of the individual operators are in lower_*.ts.

import { TensorTypeName } from "../tflite/writer.js";
import {
  ConstantTensor,
  GraphNode,
  OnnxGraph,
  OnnxModelError,
  UnsupportedNodeError,
  ValueInfo,
  allocateValues,
  attributeInt,
  checkedElementCount,
  describeNode,
} from "./graph.js";
import { FloatBias } from "./float_bias.js";
import { normalizeAxis, tfliteAxis, tfliteShape } from "./layout.js";
import { TensorQuantization, TfliteModelBuilder } from "./tflite_builder.js";
import {
  LoweredValue,
  PendingValue,
  QuantParams,
  QuantizedType,
  TYPE_RANGES,
  TensorValue,
  describeQuantization,
  roundHalfToEven,
  sameQuantization,
} from "./values.js";

export type NodeHandler = (lowering: Lowering, node: GraphNode) => void;

export interface LoweringOptions {
  /** Requantization scheme the model is converted for; decides the bias format of conv and fully connected layers. */
  scheme: string;
  /** PyTorch's float bias of the layer nodes it names, written in place of the bias of the .onnx. */
  floatBias?: ReadonlyMap<GraphNode, FloatBias>;
}

/** Place where a value is read: a node input, or the graph output list. */
export interface ValueUse {
  node: GraphNode | undefined;
  inputIndex: number;
}

export class Lowering {
  readonly builder = new TfliteModelBuilder();
  private readonly values = new Map<string, LoweredValue>();
  private readonly uses = new Map<string, ValueUse[]>();
  private readonly producers = new Map<string, GraphNode>();

  constructor(
    readonly graph: OnnxGraph,
    readonly options: LoweringOptions,
    private readonly handlers: ReadonlyMap<string, NodeHandler>,
  ) {
    for (const node of graph.nodes) {
      node.inputs.forEach((name, inputIndex) => {
        if (name !== "") this.usesOf(name).push({ node, inputIndex });
      });
      for (const name of node.outputs) if (name !== "") this.producers.set(name, node);
    }
    for (const output of graph.outputs) this.usesOf(output.name).push({ node: undefined, inputIndex: -1 });
  }

  /** Lowers the whole graph into this.builder. */
  run(): void {
    for (const [name, tensor] of this.graph.constants) this.values.set(name, { kind: "constant", tensor });
    for (const input of this.graph.inputs) this.addGraphInput(input);
    for (const node of this.graph.nodes) this.lowerNode(node);
    for (const output of this.graph.outputs) this.addGraphOutput(output);
  }

  private lowerNode(node: GraphNode): void {
    const handler = node.domain === "" ? this.handlers.get(node.opType) : undefined;
    if (handler === undefined) {
      const domain = node.domain === "" ? "" : ` of domain "${node.domain}"`;
      throw new UnsupportedNodeError(
        node,
        `op type ${node.opType}${domain} is not supported; the converter handles ${[...this.handlers.keys()].sort().join(", ")} ` +
          "of the default ONNX domain, with float operators only between DequantizeLinear and QuantizeLinear",
      );
    }
    handler(this, node);
  }

  // Values.

  /** Returns the lowered value of a node input; throws when no node or graph input produces it. */
  input(node: GraphNode, inputIndex: number): LoweredValue {
    const name = node.inputs[inputIndex];
    if (name === undefined || name === "") {
      throw new UnsupportedNodeError(node, `input ${inputIndex} is missing`);
    }
    const value = this.values.get(name);
    if (value === undefined) {
      throw new OnnxModelError(`${describeNode(node)}: input "${name}" is not produced by any earlier node, initializer or graph input`);
    }
    return value;
  }

  /** Returns the lowered value of an optional input, or undefined when it is omitted. */
  optionalInput(node: GraphNode, inputIndex: number): LoweredValue | undefined {
    const name = node.inputs[inputIndex];
    return name === undefined || name === "" ? undefined : this.input(node, inputIndex);
  }

  setOutput(node: GraphNode, outputIndex: number, value: LoweredValue): void {
    const name = node.outputs[outputIndex];
    if (name !== undefined && name !== "") this.values.set(name, value);
  }

  /**
   * Sets output 0 of a float operation on dequantized inputs to a pending
   * value, whose `emit` adds the quantized TFLite operator once a
   * QuantizeLinear gives the output quantization.
   */
  setPendingOutput(node: GraphNode, pending: Pick<PendingValue, "shape" | "acceptsActivation" | "emit">): void {
    this.setOutput(node, 0, { kind: "pending", node, activation: "NONE", ...pending });
  }

  /** Throws when a node has outputs beyond `count` that something reads. */
  checkUnusedOutputs(node: GraphNode, count: number): void {
    for (let i = count; i < node.outputs.length; i++) {
      const name = node.outputs[i];
      if (name !== "" && this.usesOf(name).length > 0) {
        throw new UnsupportedNodeError(node, `output ${i} ("${name}") is used, but the converter produces only the first ${count} output(s)`);
      }
    }
  }

  usesOf(name: string): ValueUse[] {
    let list = this.uses.get(name);
    if (list === undefined) {
      list = [];
      this.uses.set(name, list);
    }
    return list;
  }

  producerOf(name: string): GraphNode | undefined {
    return this.producers.get(name);
  }

  /** Returns the quantized tensor behind a DequantizeLinear input, and throws an error naming the input role when the input is something else. */
  dequantizedInput(node: GraphNode, inputIndex: number, role: string): TensorValue {
    const value = this.input(node, inputIndex);
    if (value.kind !== "dequantized") {
      throw new UnsupportedNodeError(node, `${role} is ${describeValueForError(value)}; in QDQ form it must be the output of a DequantizeLinear`);
    }
    return value.source;
  }

  /** Returns a constant input; throws an error naming the node and the input role when it is not constant. */
  constantInput(node: GraphNode, inputIndex: number, role: string): ConstantTensor {
    const value = this.input(node, inputIndex);
    if (value.kind !== "constant") {
      throw new UnsupportedNodeError(node, `${role} (input ${inputIndex}, "${node.inputs[inputIndex]}") must be a constant or initializer`);
    }
    return value.tensor;
  }

  // Tensors.

  /** Adds an activation tensor for a value with ONNX shape `shape`. */
  addTensor(name: string, type: TensorTypeName, shape: number[], quantization: QuantParams | undefined): TensorValue {
    const index = this.builder.addTensor(name, type, tfliteShape(shape), quantization === undefined ? undefined : tfliteQuantization(quantization, shape.length));
    return { kind: "tensor", index, type, shape: [...shape], quantization };
  }

  /** Sets the quantization of a tensor that has none yet, or checks that it matches the one it has. */
  assignQuantization(node: GraphNode, value: TensorValue, quantization: QuantParams, role: string): void {
    if (value.type !== quantization.type) {
      throw new UnsupportedNodeError(node, `${role} is ${value.type}, but its zero point is ${quantization.type}; they must have the same type`);
    }
    if (value.quantization === undefined) {
      value.quantization = quantization;
      this.builder.setQuantization(value.index, tfliteQuantization(quantization, value.shape.length));
      return;
    }
    if (!sameQuantization(value.quantization, quantization)) {
      throw new UnsupportedNodeError(
        node,
        `${role} is read with ${describeQuantization(quantization)}, but it was written with ${describeQuantization(value.quantization)}; ` +
          "a TFLite tensor has one quantization, so insert a QuantizeLinear to requantize",
      );
    }
  }

  /** Returns the float32 TFLite tensor of a float value, adding a DEQUANTIZE for a dequantized view. */
  floatTensor(node: GraphNode | undefined, value: LoweredValue, what: string): TensorValue {
    if (value.kind === "tensor" && value.type === "float32") return value;
    if (value.kind === "dequantized") {
      if (value.floatTensor === undefined) {
        rejectFeatureOrder(node, value.source, what);
        const output = this.addTensor(value.name, "float32", value.source.shape, undefined);
        this.builder.addOperator("DEQUANTIZE", [value.source.index], [output.index], { type: "DequantizeOptions" });
        value.floatTensor = output;
      }
      return value.floatTensor;
    }
    const reason = describeValueForError(value);
    if (node === undefined) throw new OnnxModelError(`${what} is ${reason}; it must be a float tensor`);
    throw new UnsupportedNodeError(node, `${what} is ${reason}; a float tensor is needed here`);
  }

  /** Returns the quantized TFLite tensor behind a dequantized view or a DequantizeLinear of a constant. */
  quantizedOperand(node: GraphNode, value: LoweredValue, role: string): TensorValue {
    if (value.kind === "dequantized") return value.source;
    if (value.kind === "dequantizedConstant") {
      const tensor = value.data;
      const index = this.builder.addConstant(
        `${node.name || node.opType}/${role}`,
        value.quantization.type,
        tfliteShape(tensor.dims),
        toTfliteData(tensor),
        tfliteQuantization(value.quantization, tensor.dims.length),
      );
      return { kind: "tensor", index, type: value.quantization.type, shape: [...tensor.dims], quantization: value.quantization };
    }
    throw new UnsupportedNodeError(node, `${role} is ${describeValueForError(value)}; it must come from a DequantizeLinear`);
  }

  // Graph inputs and outputs.

  private addGraphInput(input: ValueInfo): void {
    const type = input.type;
    if (type !== "float32" && type !== "uint8" && type !== "int8" && type !== "int32") {
      throw new OnnxModelError(`graph input "${input.name}" has element type ${type ?? "unknown"}; the converter accepts float32, uint8, int8 and int32 inputs`);
    }
    if (input.shape === undefined) throw new OnnxModelError(`graph input "${input.name}" has no shape; export the model with input shapes`);
    // TFLite shapes are static; a symbolic dimension, normally the batch, becomes 1.
    const shape = input.shape.map((dimension, axis) => {
      if (typeof dimension === "number") {
        if (dimension < 0) {
          throw new OnnxModelError(
            `graph input "${input.name}" has dimension ${axis} of ${dimension}; a dimension must be a non-negative integer, or a name (dim_param) for a dynamic one`,
          );
        }
        return dimension;
      }
      if (dimension === undefined) throw new OnnxModelError(`graph input "${input.name}" has an unknown dimension ${axis}; export the model with a fixed or named dimension`);
      return 1;
    });
    checkedElementCount(shape, `graph input "${input.name}"`);
    const value = this.addTensor(input.name, type, shape, undefined);
    this.builder.inputs.push(value.index);
    this.values.set(input.name, value);
  }

  private addGraphOutput(output: ValueInfo): void {
    const value = this.values.get(output.name);
    if (value === undefined) throw new OnnxModelError(`graph output "${output.name}" is not produced by any node`);
    let tensor: TensorValue;
    if (value.kind === "tensor") {
      tensor = value;
      rejectFeatureOrder(undefined, value, `graph output "${output.name}"`);
    } else if (value.kind === "dequantized") {
      tensor = this.floatTensor(undefined, value, `graph output "${output.name}"`);
    } else if (value.kind === "pending") {
      throw new UnsupportedNodeError(value.node, `its float output "${output.name}" is a graph output; quantize it with QuantizeLinear (and DequantizeLinear for a float result)`);
    } else {
      throw new OnnxModelError(`graph output "${output.name}" is ${describeValueForError(value)}; the converter needs every output computed by an operator`);
    }
    if (!this.builder.inputs.includes(tensor.index)) this.builder.rename(tensor.index, output.name);
    this.builder.outputs.push(tensor.index);
  }
}

/** Throws when a value contains features in NHWC order and is read by something other than a fully connected layer. */
export function rejectFeatureOrder(node: GraphNode | undefined, value: TensorValue, what: string): void {
  if (value.featureOrder === undefined) return;
  const message = `${what} is a flattened NHWC tensor whose feature order only a following fully connected layer can absorb`;
  if (node === undefined) throw new OnnxModelError(message);
  throw new UnsupportedNodeError(node, message);
}

export function describeValueForError(value: LoweredValue): string {
  switch (value.kind) {
    case "tensor":
      return `a ${value.type} tensor`;
    case "dequantized":
      return "the float output of a DequantizeLinear";
    case "dequantizedConstant":
      return "a dequantized constant";
    case "constant":
      return "a constant";
    case "pending":
      return `the float output of ${describeNode(value.node)}, which must be quantized by a QuantizeLinear first`;
    case "hardSigmoid":
      return `the output of ${describeNode(value.node)}, which is supported only as Mul(x, HardSigmoid(x)) (hard swish)`;
  }
}

/** TFLite quantization fields of a value of ONNX rank `rank`. */
export function tfliteQuantization(quantization: QuantParams, rank: number): TensorQuantization {
  const perAxis = quantization.scale.length > 1 || (quantization.axis !== undefined && quantization.zeroPoint.length > 1);
  return {
    scale: Array.from(quantization.scale),
    zeroPoint: Array.from(quantization.zeroPoint),
    ...(perAxis && quantization.axis !== undefined ? { quantizedDimension: tfliteAxis(quantization.axis, rank) } : {}),
  };
}

/** Constant data in stored order: NHWC for rank 4 (layout.ts). */
export function toTfliteData(tensor: ConstantTensor): ArrayLike<number> {
  if (tensor.dims.length !== 4) return tensor.values;
  const [n, c, h, w] = tensor.dims;
  const output = new Float64Array(tensor.values.length);
  let position = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let channel = 0; channel < c; channel++) output[position++] = tensor.values[((b * c + channel) * h + y) * w + x];
      }
    }
  }
  return output;
}

/**
 * Reads the scale, zero point and axis of a QuantizeLinear, DequantizeLinear
 * or QLinear operand. `shape` is the ONNX shape of the quantized value, used
 * to check per-axis lengths; `axis` is the node's axis attribute (ONNX
 * default 1), used only when the scale has more than one element. Without a
 * zero point the type is `defaultType` and the zero point 0.
 */
export function readQuantParams(
  lowering: Lowering,
  node: GraphNode,
  scaleIndex: number,
  zeroPointIndex: number,
  shape: readonly number[] | undefined,
  axis: number,
  role: string,
  defaultType: QuantizedType = "uint8",
): QuantParams {
  const scale = lowering.constantInput(node, scaleIndex, `${role} scale`);
  if (scale.type !== "float32") throw new UnsupportedNodeError(node, `${role} scale is ${scale.type}; it must be float32`);
  const zeroPointName = node.inputs[zeroPointIndex];
  const zeroPoint = zeroPointName === undefined || zeroPointName === "" ? undefined : lowering.constantInput(node, zeroPointIndex, `${role} zero point`);
  const type = zeroPoint === undefined ? defaultType : zeroPoint.type;
  if (type !== "uint8" && type !== "int8" && type !== "int32") {
    throw new UnsupportedNodeError(node, `${role} zero point is ${type}; the converter supports uint8, int8 and int32`);
  }
  const count = scale.values.length;
  if (count === 0 || scale.dims.length > 1) throw new UnsupportedNodeError(node, `${role} scale has shape [${scale.dims}]; it must be a scalar or 1-D`);
  if (zeroPoint !== undefined && zeroPoint.values.length !== count) {
    throw new UnsupportedNodeError(node, `${role} has ${count} scales but ${zeroPoint.values.length} zero points`);
  }

  let resolvedAxis: number | undefined;
  if (count > 1) {
    if (shape === undefined) throw new UnsupportedNodeError(node, `${role} is quantized per axis, which is not supported here`);
    try {
      resolvedAxis = normalizeAxis(axis, shape.length);
    } catch {
      throw new UnsupportedNodeError(node, `axis ${axis} is invalid for a ${role} of rank ${shape.length}`);
    }
    if (shape[resolvedAxis] !== count) {
      throw new UnsupportedNodeError(node, `${role} has ${count} scales, but its dimension ${resolvedAxis} has size ${shape[resolvedAxis]}`);
    }
  }
  for (const value of scale.values) {
    if (!(value > 0) || !Number.isFinite(value)) throw new UnsupportedNodeError(node, `${role} scale ${value} is not a positive finite number`);
  }
  return {
    type,
    scale: Float32Array.from(scale.values),
    zeroPoint: zeroPoint === undefined ? new Int32Array(count) : Int32Array.from(zeroPoint.values),
    axis: resolvedAxis,
  };
}

/** Returns the axis attribute of QuantizeLinear and DequantizeLinear (ONNX default 1). */
export function quantizationAxis(node: GraphNode): number {
  return attributeInt(node, "axis", 1);
}

/**
 * Quantizes float constant values as ONNX QuantizeLinear does:
 * saturate(roundHalfToEven(x / scale) + zeroPoint), the division in float32.
 */
export function quantizeConstant(tensor: ConstantTensor, quantization: QuantParams): ConstantTensor {
  const [min, max] = TYPE_RANGES[quantization.type];
  const values = allocateValues(quantization.type, tensor.values.length);
  const channelOf = channelIndexer(tensor.dims, quantization.axis, quantization.scale.length);
  for (let i = 0; i < values.length; i++) {
    const channel = channelOf(i);
    const q = roundHalfToEven(Math.fround(tensor.values[i] / quantization.scale[channel])) + quantization.zeroPoint[channel];
    values[i] = Math.min(max, Math.max(min, q));
  }
  return { type: quantization.type, dims: [...tensor.dims], values };
}

/** Returns a function from a flat element index to its quantization channel. */
export function channelIndexer(dims: readonly number[], axis: number | undefined, channels: number): (index: number) => number {
  if (channels === 1 || axis === undefined) return () => 0;
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  return (index) => Math.floor(index / inner) % channels;
}
