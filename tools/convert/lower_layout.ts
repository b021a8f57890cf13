// Flatten, Reshape and Transpose in QDQ form. They move integers without
// changing them, so the QuantizeLinear after them must repeat the input's
// quantization. Rank-4 values are stored NHWC (layout.ts), so a reshape
// that reads or writes rank 4 needs a TRANSPOSE where that order differs
// from NCHW. The exception is a flatten read only by fully connected
// layers, which absorb the order into their weight columns instead.

import { GraphNode, UnsupportedNodeError, attributeInt, attributeInts, elementCount } from "./graph.js";
import { NHWC_TO_NCHW_PERMUTATION, NCHW_TO_NHWC_PERMUTATION, nhwcFeatureOrder, normalizeAxis, tflitePermutation, tfliteShape } from "./layout.js";
import { Lowering, ValueUse, rejectFeatureOrder } from "./lower.js";
import { checkQuantizationKept } from "./lower_qdq.js";
import { OutputSpec, TensorValue } from "./values.js";

export function lowerFlatten(lowering: Lowering, node: GraphNode): void {
  const x = lowering.dequantizedInput(node, 0, "input");
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
  const x = lowering.dequantizedInput(node, 0, "input");
  const target = lowering.constantInput(node, 1, "shape");
  const allowZero = attributeInt(node, "allowzero", 0) !== 0;
  const shape = resolveReshape(node, x.shape, Array.from(target.values), allowZero);
  setPendingMove(lowering, node, x, shape, (output) => emitReshape(lowering, node, x, shape, output));
}

export function lowerTranspose(lowering: Lowering, node: GraphNode): void {
  const x = lowering.dequantizedInput(node, 0, "input");
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

/** Sets a pending output that keeps the input quantization. */
function setPendingMove(lowering: Lowering, node: GraphNode, x: TensorValue, shape: number[], emit: (output: OutputSpec) => TensorValue): void {
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: false,
    emit: (output) => {
      checkQuantizationKept(node, x, output.quantization);
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
  const uses = finalUses(lowering, name);
  return uses.length > 0 && uses.every((use) => isFullyConnectedInput(lowering, use));
}

/**
 * Returns the uses of `name` after following pass-through nodes. The walk
 * keeps its own stack, because a chain of thousands of Identity nodes would
 * overflow the call stack.
 */
function finalUses(lowering: Lowering, name: string): ValueUse[] {
  const result: ValueUse[] = [];
  const visited = new Set<string>();
  const pending = [name];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (visited.has(current)) continue;
    visited.add(current);
    for (const use of lowering.usesOf(current)) {
      if (use.node !== undefined && use.inputIndex === 0 && PASS_THROUGH.has(use.node.opType) && use.node.domain === "") {
        pending.push(use.node.outputs[0]);
      } else {
        result.push(use);
      }
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
  // A loop, not recursion, so that a long chain of Identity nodes cannot overflow the call stack.
  const visited = new Set<string>();
  let current = name;
  while (current !== undefined && current !== "" && !visited.has(current)) {
    visited.add(current);
    const constant = lowering.graph.constants.get(current);
    if (constant !== undefined) return constant.dims.length;
    const producer = lowering.producerOf(current);
    if (producer === undefined || producer.domain !== "" || !PASS_THROUGH.has(producer.opType) || producer.opType === "QuantizeLinear") return undefined;
    current = producer.inputs[0];
  }
  return undefined;
}
