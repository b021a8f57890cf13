// Handlers of the quantization nodes and of the nodes that only rename or
// retag a value: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// Cast, Identity, and Relu or Clip fused into the layer before them.

import { GraphNode, ONNX_ELEMENT_TYPES, UnsupportedNodeError, attributeInt } from "./graph.js";
import { Lowering, describeValueForError, quantizationAxis, quantizeConstant, readQuantParams, rejectFeatureOrder } from "./lower.js";
import { FusedActivation, LoweredValue, QuantParams, TensorValue, describeQuantization, sameQuantization } from "./values.js";

/** Custom code of the operator that ONNX DynamicQuantizeLinear becomes. */
export const DYNAMIC_QUANTIZE_LINEAR_CODE = "MICROQ_DYNAMIC_QUANTIZE_LINEAR";

/** ONNX shape of a value, when it has one. */
export function shapeOf(value: LoweredValue): number[] | undefined {
  switch (value.kind) {
    case "tensor":
      return value.shape;
    case "dequantized":
      return value.source.shape;
    case "dequantizedConstant":
      return value.data.dims;
    case "constant":
      return value.tensor.dims;
    case "pending":
      return value.shape;
    case "hardSigmoid":
      return value.input.source.shape;
  }
}

export function lowerQuantizeLinear(lowering: Lowering, node: GraphNode): void {
  const x = lowering.input(node, 0);
  const quantization = readQuantParams(lowering, node, 1, 2, shapeOf(x), quantizationAxis(node), "output");
  if (quantization.type === "int32") throw new UnsupportedNodeError(node, "int32 output is not supported; quantize to uint8 or int8");
  const outputName = node.outputs[0];

  switch (x.kind) {
    case "pending":
      if (quantization.scale.length > 1) {
        throw new UnsupportedNodeError(node, `quantizes the output of ${x.node.opType} per axis; TFLite layers need a per-tensor output quantization`);
      }
      lowering.setOutput(node, 0, x.emit({ name: outputName, quantization }, x.activation));
      return;
    case "constant":
      if (x.tensor.type !== "float32") throw new UnsupportedNodeError(node, `input is a ${x.tensor.type} constant; QuantizeLinear needs float32`);
      lowering.setOutput(node, 0, { kind: "constant", tensor: quantizeConstant(x.tensor, quantization) });
      return;
    case "dequantized":
      // DequantizeLinear then QuantizeLinear with the same parameters is the identity.
      if (x.source.quantization !== undefined && sameQuantization(x.source.quantization, quantization)) {
        lowering.setOutput(node, 0, x.source);
        return;
      }
      lowering.setOutput(node, 0, emitQuantize(lowering, node, x.source, quantization, outputName));
      return;
    case "tensor":
      if (x.type !== "float32") throw new UnsupportedNodeError(node, `input is a ${x.type} tensor; QuantizeLinear needs float32`);
      lowering.setOutput(node, 0, emitQuantize(lowering, node, x, quantization, outputName));
      return;
    default:
      throw new UnsupportedNodeError(node, `input is ${describeValueForError(x)}`);
  }
}

/**
 * QUANTIZE from float32, or from a quantized tensor to a new quantization
 * (a requantization). It maps elements one to one, so a stored feature
 * order carries over.
 */
function emitQuantize(lowering: Lowering, node: GraphNode, input: TensorValue, quantization: QuantParams, name: string): TensorValue {
  if (input.featureOrder !== undefined && quantization.scale.length > 1) rejectFeatureOrder(node, input, "input of a per-axis QuantizeLinear");
  const output = lowering.addTensor(name, quantization.type, input.shape, quantization);
  lowering.builder.addOperator("QUANTIZE", [input.index], [output.index], { type: "QuantizeOptions" });
  return input.featureOrder === undefined ? output : { ...output, featureOrder: input.featureOrder };
}

export function lowerDequantizeLinear(lowering: Lowering, node: GraphNode): void {
  const x = lowering.input(node, 0);
  if (x.kind === "constant") {
    const type = x.tensor.type;
    if (type !== "uint8" && type !== "int8" && type !== "int32") {
      throw new UnsupportedNodeError(node, `input is a ${type} constant; DequantizeLinear needs uint8, int8 or int32`);
    }
    const quantization = readQuantParams(lowering, node, 1, 2, x.tensor.dims, quantizationAxis(node), "input", type);
    if (quantization.type !== type) throw new UnsupportedNodeError(node, `input is ${type} but its zero point is ${quantization.type}`);
    lowering.setOutput(node, 0, { kind: "dequantizedConstant", data: x.tensor, quantization });
    return;
  }
  if (x.kind !== "tensor" || (x.type !== "uint8" && x.type !== "int8")) {
    throw new UnsupportedNodeError(node, `input is ${describeValueForError(x)}; DequantizeLinear is supported on uint8 and int8 tensors and on constants`);
  }
  const quantization = readQuantParams(lowering, node, 1, 2, x.shape, quantizationAxis(node), "input", x.type);
  lowering.assignQuantization(node, x, quantization, `input "${node.inputs[0]}"`);
  lowering.setOutput(node, 0, { kind: "dequantized", name: node.outputs[0], source: x });
}

export function lowerDynamicQuantizeLinear(lowering: Lowering, node: GraphNode): void {
  const x = lowering.floatTensor(node, lowering.input(node, 0), "input");
  rejectFeatureOrder(node, x, "input");
  const y = lowering.addTensor(node.outputs[0] || `${node.name}/y`, "uint8", x.shape, undefined);
  const scale = lowering.addTensor(node.outputs[1] || `${node.name}/y_scale`, "float32", [], undefined);
  const zeroPoint = lowering.addTensor(node.outputs[2] || `${node.name}/y_zero_point`, "uint8", [], undefined);
  lowering.builder.addOperator("CUSTOM", [x.index], [y.index, scale.index, zeroPoint.index], undefined, DYNAMIC_QUANTIZE_LINEAR_CODE);
  lowering.setOutput(node, 0, y);
  lowering.setOutput(node, 1, scale);
  lowering.setOutput(node, 2, zeroPoint);
}

/** Cast to the type a value already has (torch.onnx writes Cast to uint8 after every QuantizeLinear) is the identity. */
export function lowerCast(lowering: Lowering, node: GraphNode): void {
  const x = lowering.input(node, 0);
  const target = ONNX_ELEMENT_TYPES[attributeInt(node, "to", -1)];
  let currentType: string;
  if (x.kind === "tensor") currentType = x.type;
  else if (x.kind === "dequantized" || x.kind === "pending") currentType = "float32";
  else currentType = describeValueForError(x);
  if (target !== currentType) {
    throw new UnsupportedNodeError(node, `casts ${currentType} to ${target ?? "an unknown type"}; only a Cast to the type the value already has, or a Cast of a constant, is supported`);
  }
  lowering.setOutput(node, 0, x);
}

export function lowerIdentity(lowering: Lowering, node: GraphNode): void {
  lowering.setOutput(node, 0, lowering.input(node, 0));
}

export function lowerRelu(lowering: Lowering, node: GraphNode): void {
  fuseActivation(lowering, node, "RELU");
}

/** Clip(x, 0) is a Relu and Clip(x, 0, 6) a Relu6 (torch.nn.ReLU6); other bounds are not supported. */
export function lowerClip(lowering: Lowering, node: GraphNode): void {
  const bound = (inputIndex: number, attribute: string): number | undefined => {
    if (node.attributes.has(attribute)) {
      const value = node.attributes.get(attribute);
      return value?.type === "float" ? value.value : undefined;
    }
    const name = node.inputs[inputIndex];
    if (name === undefined || name === "") return undefined;
    const tensor = lowering.constantInput(node, inputIndex, attribute);
    if (tensor.values.length !== 1) throw new UnsupportedNodeError(node, `${attribute} must be a scalar`);
    return tensor.values[0];
  };
  const min = bound(1, "min");
  const max = bound(2, "max");
  if (min === 0 && max === undefined) fuseActivation(lowering, node, "RELU");
  else if (min === 0 && max === 6) fuseActivation(lowering, node, "RELU6");
  else throw new UnsupportedNodeError(node, `bounds [${min ?? "-inf"}, ${max ?? "inf"}] are not supported; Clip is supported as [0, inf] (Relu) and [0, 6] (Relu6)`);
}

function fuseActivation(lowering: Lowering, node: GraphNode, activation: FusedActivation): void {
  const x = lowering.input(node, 0);
  if (x.kind !== "pending" || !x.acceptsActivation || x.activation !== "NONE") {
    throw new UnsupportedNodeError(
      node,
      `its input is ${describeValueForError(x)}; ${node.opType} is supported only directly after a float Conv, Gemm, MatMul or Add ` +
        "between DequantizeLinear and QuantizeLinear, where it becomes the layer's fused activation",
    );
  }
  lowering.setOutput(node, 0, { ...x, activation });
}

/** Throws unless the QuantizeLinear after a data-movement node repeats the quantization of the node's input. */
export function checkQuantizationKept(node: GraphNode, input: TensorValue, output: QuantParams): asserts input is TensorValue & { quantization: QuantParams } {
  if (input.quantization !== undefined && sameQuantization(input.quantization, output)) return;
  throw new UnsupportedNodeError(
    node,
    `the QuantizeLinear after it uses ${describeQuantization(output)}, but its input has ` +
      `${input.quantization === undefined ? "no quantization" : describeQuantization(input.quantization)}; ` +
      `${node.opType} keeps the quantization, so the two must be equal`,
  );
}
