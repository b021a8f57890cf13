// Flatten, Reshape and Transpose in QDQ form. They move integers without
// changing them, so the QuantizeLinear after them must repeat the input's
// quantization. Rank-4 values are stored NHWC (layout.ts), so a reshape
// that reads or writes rank 4 needs a TRANSPOSE where that order differs
// from NCHW. The exception is a flatten read only by fully connected
// layers, which absorb the order into their weight columns instead.

import { GraphNode, UnsupportedNodeError, attributeInt, attributeInts, elementCount } from "./graph.js";
import { NHWC_TO_NCHW_PERMUTATION, NCHW_TO_NHWC_PERMUTATION, nhwcFeatureOrder, normalizeAxis, tflitePermutation, tfliteShape } from "./layout.js";
import { Lowering, ValueUse, describeValueForError, rejectFeatureOrder } from "./lower.js";
import { requantizationMismatch } from "./lower_qdq.js";
import { OutputSpec, TensorValue, sameQuantization } from "./values.js";

export function lowerFlatten(lowering: Lowering, node: GraphNode): void {
  const x = dequantizedSource(lowering, node);
  const rank = x.shape.length;
  let axis: number;
  try {
    axis = normalizeAxis(attributeInt(node, "axis", 1), rank + 1);
  } catch {
    throw new UnsupportedNodeError(node, `axis ${attributeInt(node, "axis", 1)} is outside [${-rank}, ${rank}]`);
  }
  const shape = [elementCount(x.shape.slice(0, axis)), elementCount(x.shape.slice(axis))];
  setPendingMove(lowering, node, x, shape, (output) => emitReshape(lowering, node, x, shape, output));
}

export function lowerReshape(lowering: Lowering, node: GraphNode): void {
  const x = dequantizedSource(lowering, node);
  const target = lowering.constantInput(node, 1, "shape");
  const allowZero = attributeInt(node, "allowzero", 0) !== 0;
  const shape = resolveReshape(node, x.shape, Array.from(target.values), allowZero);
  setPendingMove(lowering, node, x, shape, (output) => emitReshape(lowering, node, x, shape, output));
}

export function lowerTranspose(lowering: Lowering, node: GraphNode): void {
  const x = dequantizedSource(lowering, node);
  const rank = x.shape.length;
  const perm = attributeInts(node, "perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((axis, i) => axis !== i)) {
    throw new UnsupportedNodeError(node, `perm [${perm}] is not a permutation of the ${rank} axes`);
  }
  const shape = perm.map((axis) => x.shape[axis]);
  setPendingMove(lowering, node, x, shape, (output) => {
    rejectFeatureOrder(node, x, "input");
    const result = lowering.addTensor(output.name, x.type, shape, output.quantization);
    const permutation = lowering.builder.addConstant(`${node.name || node.opType}/perm`, "int32", [rank], tflitePermutation(perm));
    lowering.builder.addOperator("TRANSPOSE", [x.index, permutation], [result.index], { type: "TransposeOptions" });
    return result;
  });
}

function dequantizedSource(lowering: Lowering, node: GraphNode): TensorValue {
  const value = lowering.input(node, 0);
  if (value.kind !== "dequantized") {
    throw new UnsupportedNodeError(node, `input is ${describeValueForError(value)}; in QDQ form it must be the output of a DequantizeLinear`);
  }
  return value.source;
}

/** Sets a pending output that keeps the input quantization. */
function setPendingMove(lowering: Lowering, node: GraphNode, x: TensorValue, shape: number[], emit: (output: OutputSpec) => TensorValue): void {
  lowering.setOutput(node, 0, {
    kind: "pending",
    node,
    shape,
    acceptsActivation: false,
    activation: "NONE",
    emit: (output) => {
      if (x.quantization === undefined || !sameQuantization(x.quantization, output.quantization)) throw requantizationMismatch(node, x, output.quantization);
      return emit(output);
    },
  });
}

/** Output shape of ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred. */
function resolveReshape(node: GraphNode, inputShape: readonly number[], target: number[], allowZero: boolean): number[] {
  const shape = target.map((dimension, i) => (dimension === 0 && !allowZero ? inputShape[i] : dimension));
  const inferred = shape.filter((dimension) => dimension === -1).length;
  if (inferred > 1 || shape.some((dimension) => dimension === undefined || dimension < -1 || !Number.isInteger(dimension))) {
    throw new UnsupportedNodeError(node, `shape [${target}] is invalid for input [${inputShape}]`);
  }
  const total = elementCount(inputShape);
  const known = elementCount(shape.filter((dimension) => dimension !== -1));
  if (inferred === 1) {
    if (known === 0 || total % known !== 0) throw new UnsupportedNodeError(node, `shape [${target}] cannot hold the ${total} elements of [${inputShape}]`);
    shape[shape.indexOf(-1)] = total / known;
  }
  if (elementCount(shape) !== total) throw new UnsupportedNodeError(node, `shape [${shape}] has a different element count than input [${inputShape}]`);
  return shape;
}

/** True when NHWC storage of a rank-4 shape has the same element order as NCHW. */
function storedInOnnxOrder(shape: readonly number[]): boolean {
  return shape.length !== 4 || shape[1] === 1 || shape[2] * shape[3] === 1;
}

function emitReshape(lowering: Lowering, node: GraphNode, x: TensorValue, shape: number[], output: OutputSpec): TensorValue {
  const prefix = node.name || node.opType;
  const quantization = lowering.builder.tensors[x.index];
  const tensorQuantization = quantization.scale === undefined ? undefined : { scale: [...quantization.scale], zeroPoint: [...(quantization.zeroPoint ?? [0])] };

  if (x.featureOrder !== undefined) {
    // Only a reshape to the same [batch, features] shape keeps the stored feature order meaningful.
    if (shape.length !== 2 || shape[0] !== x.shape[0] || shape[1] !== x.shape[1]) rejectFeatureOrder(node, x, "input");
    const result = addReshape(lowering, prefix, x.index, output.name, x, shape, tfliteShape(shape), tensorQuantization);
    return { ...result, featureOrder: x.featureOrder };
  }

  // A flatten of [N, C, H, W] into [N, C*H*W] whose readers are all fully connected layers keeps NHWC order.
  const [n, c, h, w] = x.shape;
  if (!storedInOnnxOrder(x.shape) && shape.length === 2 && shape[0] === n && allReadersAreFullyConnected(lowering, node.outputs[0])) {
    const result = addReshape(lowering, prefix, x.index, output.name, x, shape, shape, tensorQuantization);
    return { ...result, featureOrder: nhwcFeatureOrder(c, h, w) };
  }

  // General case: bring the data to ONNX order, reshape, and store rank 4 as NHWC again.
  let source = x.index;
  if (!storedInOnnxOrder(x.shape)) {
    source = lowering.builder.addTensor(`${prefix}/nchw`, x.type, x.shape, tensorQuantization);
    const permutation = lowering.builder.addConstant(`${prefix}/to_nchw`, "int32", [4], NHWC_TO_NCHW_PERMUTATION);
    lowering.builder.addOperator("TRANSPOSE", [x.index, permutation], [source], { type: "TransposeOptions" });
  }
  if (storedInOnnxOrder(shape)) return addReshape(lowering, prefix, source, output.name, x, shape, tfliteShape(shape), tensorQuantization);
  const nchw = lowering.builder.addTensor(`${prefix}/reshaped_nchw`, x.type, shape, tensorQuantization);
  addReshapeOperator(lowering, prefix, source, nchw, shape);
  const result = lowering.addTensor(output.name, x.type, shape, x.quantization);
  const permutation = lowering.builder.addConstant(`${prefix}/to_nhwc`, "int32", [4], NCHW_TO_NHWC_PERMUTATION);
  lowering.builder.addOperator("TRANSPOSE", [nchw, permutation], [result.index], { type: "TransposeOptions" });
  return result;
}

/** Adds the output tensor (stored shape `storedShape`) and a RESHAPE into it. */
function addReshape(
  lowering: Lowering,
  prefix: string,
  source: number,
  name: string,
  x: TensorValue,
  shape: number[],
  storedShape: number[],
  tensorQuantization: { scale: number[]; zeroPoint: number[] } | undefined,
): TensorValue {
  const index = lowering.builder.addTensor(name, x.type, storedShape, tensorQuantization);
  addReshapeOperator(lowering, prefix, source, index, storedShape);
  return { kind: "tensor", index, type: x.type, shape, quantization: x.quantization };
}

function addReshapeOperator(lowering: Lowering, prefix: string, source: number, output: number, storedShape: number[]): void {
  const shapeTensor = lowering.builder.addConstant(`${prefix}/shape`, "int32", [storedShape.length], storedShape);
  lowering.builder.addOperator("RESHAPE", [source, shapeTensor], [output], { type: "ReshapeOptions", fields: { new_shape: storedShape } });
}

/** Op types that pass a value through unchanged for this check (QDQ plumbing). */
const PASS_THROUGH = new Set(["QuantizeLinear", "DequantizeLinear", "Cast", "Identity"]);

/** Returns whether every final reader of `name`, looking through QDQ plumbing, is a fully connected layer reading it as input A. */
function allReadersAreFullyConnected(lowering: Lowering, name: string): boolean {
  const uses = finalUses(lowering, name, new Set());
  return uses.length > 0 && uses.every((use) => isFullyConnectedInput(lowering, use));
}

function finalUses(lowering: Lowering, name: string, visited: Set<string>): ValueUse[] {
  if (visited.has(name)) return [];
  visited.add(name);
  const result: ValueUse[] = [];
  for (const use of lowering.usesOf(name)) {
    if (use.node !== undefined && use.inputIndex === 0 && PASS_THROUGH.has(use.node.opType) && use.node.domain === "") {
      result.push(...finalUses(lowering, use.node.outputs[0], visited));
    } else {
      result.push(use);
    }
  }
  return result;
}

function isFullyConnectedInput(lowering: Lowering, use: ValueUse): boolean {
  const node = use.node;
  if (node === undefined || use.inputIndex !== 0 || node.domain !== "") return false;
  switch (node.opType) {
    case "Gemm":
      return attributeInt(node, "transA", 0) === 0 && constantRank(lowering, node.inputs[1]) === 2;
    case "MatMul":
    case "MatMulInteger":
      return constantRank(lowering, node.inputs[1]) === 2;
    case "QLinearMatMul":
      return constantRank(lowering, node.inputs[3]) === 2;
    default:
      return false;
  }
}

/** Rank of a constant, seen through DequantizeLinear, Cast and Identity; undefined when the value is not constant. */
function constantRank(lowering: Lowering, name: string | undefined): number | undefined {
  if (name === undefined || name === "") return undefined;
  const constant = lowering.graph.constants.get(name);
  if (constant !== undefined) return constant.dims.length;
  const producer = lowering.producerOf(name);
  if (producer !== undefined && producer.domain === "" && PASS_THROUGH.has(producer.opType) && producer.opType !== "QuantizeLinear") {
    return constantRank(lowering, producer.inputs[0]);
  }
  return undefined;
}
