// Add, Concat, pooling and the unary functions in QDQ form. Their output
// quantization comes from the QuantizeLinear after them, so the kernels
// rescale; only MaxPool must keep its input's quantization.

import { GraphNode, UnsupportedNodeError, attributeFloat, attributeInt, attributeInts } from "./graph.js";
import { WindowGeometry, emitPadding, hasPadding, windowGeometry } from "./geometry.js";
import { normalizeAxis, tfliteAxis } from "./layout.js";
import { Lowering, describeValueForError, rejectFeatureOrder } from "./lower.js";
import { checkQuantizationKept } from "./lower_qdq.js";
import { DequantizedValue, LoweredValue, OutputSpec, TYPE_RANGES, TensorValue } from "./values.js";

/** Returns a float operand of Add or Concat: a dequantized tensor or a dequantized constant. */
function operand(lowering: Lowering, node: GraphNode, inputIndex: number): LoweredValue {
  const value = lowering.input(node, inputIndex);
  if (value.kind !== "dequantized" && value.kind !== "dequantizedConstant") {
    throw new UnsupportedNodeError(node, `input ${inputIndex} is ${describeValueForError(value)}; in QDQ form it must be the output of a DequantizeLinear`);
  }
  return value;
}

function dequantizedSource(lowering: Lowering, node: GraphNode): TensorValue {
  const x = lowering.dequantizedInput(node, 0, "input");
  rejectFeatureOrder(node, x, "input");
  return x;
}

function operandShape(value: LoweredValue): number[] {
  if (value.kind === "dequantized") return value.source.shape;
  if (value.kind === "dequantizedConstant") return value.data.dims;
  return [];
}

export function lowerAdd(lowering: Lowering, node: GraphNode): void {
  const a = operand(lowering, node, 0);
  const b = operand(lowering, node, 1);
  const shapeA = operandShape(a);
  const shapeB = operandShape(b);
  if (shapeA.length !== shapeB.length) {
    throw new UnsupportedNodeError(node, `operands [${shapeA}] and [${shapeB}] have different ranks; broadcasting is supported between equal ranks only`);
  }
  const shape = shapeA.map((dimension, i) => {
    if (dimension !== shapeB[i] && dimension !== 1 && shapeB[i] !== 1) {
      throw new UnsupportedNodeError(node, `operands [${shapeA}] and [${shapeB}] do not broadcast`);
    }
    return Math.max(dimension, shapeB[i]);
  });
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: true,
    emit: (output, activation) => {
      const inputs = [lowering.quantizedOperand(node, a, "a"), lowering.quantizedOperand(node, b, "b")];
      for (const input of inputs) rejectPerAxis(node, input);
      const result = lowering.addTensor(output.name, output.quantization.type, shape, output.quantization);
      lowering.builder.addOperator("ADD", inputs.map((input) => input.index), [result.index], { type: "AddOptions", fields: { fused_activation_function: activation } });
      return result;
    },
  });
}

export function lowerConcat(lowering: Lowering, node: GraphNode): void {
  const inputs = node.inputs.map((_, i) => operand(lowering, node, i));
  const shapes = inputs.map(operandShape);
  const rank = shapes[0].length;
  let axis: number;
  try {
    axis = normalizeAxis(attributeInt(node, "axis", Number.NaN), rank);
  } catch {
    throw new UnsupportedNodeError(node, `axis is missing or outside [${-rank}, ${rank - 1}]`);
  }
  for (const shape of shapes) {
    if (shape.length !== rank || shape.some((dimension, i) => i !== axis && dimension !== shapes[0][i])) {
      throw new UnsupportedNodeError(node, `input shapes ${shapes.map((s) => `[${s}]`).join(", ")} differ outside axis ${axis}`);
    }
  }
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((sum, s) => sum + s[axis], 0);
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: false,
    emit: (output) => {
      const tensors = inputs.map((input, i) => lowering.quantizedOperand(node, input, `input${i}`));
      for (const tensor of tensors) rejectPerAxis(node, tensor);
      const result = lowering.addTensor(output.name, output.quantization.type, shape, output.quantization);
      lowering.builder.addOperator("CONCATENATION", tensors.map((t) => t.index), [result.index], {
        type: "ConcatenationOptions",
        fields: { axis: tfliteAxis(axis, rank), fused_activation_function: "NONE" },
      });
      return result;
    },
  });
}

function rejectPerAxis(node: GraphNode, tensor: TensorValue): void {
  rejectFeatureOrder(node, tensor, "input");
  if (tensor.quantization !== undefined && tensor.quantization.scale.length > 1) {
    throw new UnsupportedNodeError(node, "an input is quantized per axis; elementwise operators need per-tensor quantization");
  }
}

// Pooling.

function poolInput(lowering: Lowering, node: GraphNode): TensorValue {
  const x = dequantizedSource(lowering, node);
  if (x.shape.length !== 4) throw new UnsupportedNodeError(node, `input has rank ${x.shape.length}; only 2-D pooling (rank 4) is supported`);
  lowering.checkUnusedOutputs(node, 1);
  return x;
}

function poolKernel(node: GraphNode): [number, number] {
  const kernel = attributeInts(node, "kernel_shape");
  if (kernel === undefined || kernel.length !== 2) throw new UnsupportedNodeError(node, "kernel_shape must list 2 sizes; only 2-D pooling is supported");
  const dilations = attributeInts(node, "dilations");
  if (dilations !== undefined && dilations.some((d) => d !== 1)) throw new UnsupportedNodeError(node, `dilations [${dilations}] are not supported for pooling`);
  return [kernel[0], kernel[1]];
}

function poolOptions(geometry: WindowGeometry, kernelH: number, kernelW: number, padding: "VALID" | "SAME") {
  return {
    type: "Pool2DOptions",
    fields: { padding, stride_w: geometry.strideW, stride_h: geometry.strideH, filter_width: kernelW, filter_height: kernelH, fused_activation_function: "NONE" },
  };
}

export function lowerMaxPool(lowering: Lowering, node: GraphNode): void {
  const x = poolInput(lowering, node);
  if (attributeInt(node, "storage_order", 0) !== 0) throw new UnsupportedNodeError(node, "storage_order 1 is not supported");
  const [kernelH, kernelW] = poolKernel(node);
  const geometry = windowGeometry(node, x.shape[2], x.shape[3], kernelH, kernelW, true);
  const shape = [x.shape[0], x.shape[1], geometry.outputH, geometry.outputW];
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: false,
    emit: (output) => {
      checkQuantizationKept(node, x, output.quantization);
      // Padding with the type's minimum leaves every window maximum unchanged.
      const padded = emitPadding(lowering, node, x, geometry, TYPE_RANGES[x.quantization.type][0]);
      const result = lowering.addTensor(output.name, x.type, shape, output.quantization);
      lowering.builder.addOperator("MAX_POOL_2D", [padded.index], [result.index], poolOptions(geometry, kernelH, kernelW, "VALID"));
      return result;
    },
  });
}

export function lowerAveragePool(lowering: Lowering, node: GraphNode): void {
  const x = poolInput(lowering, node);
  const [kernelH, kernelW] = poolKernel(node);
  const geometry = windowGeometry(node, x.shape[2], x.shape[3], kernelH, kernelW, true);
  const countIncludePad = attributeInt(node, "count_include_pad", 0) !== 0;
  // Without count_include_pad the divisor counts only input pixels, which is TFLite's SAME
  // padding; that works only when the pads are the ones SAME would choose.
  let padding: "VALID" | "SAME" = "VALID";
  if (hasPadding(geometry) && !countIncludePad) {
    if (!isTfliteSamePadding(x.shape[2], x.shape[3], kernelH, kernelW, geometry)) {
      throw new UnsupportedNodeError(node, "padding with count_include_pad 0 is supported only when the pads equal TFLite SAME padding; use count_include_pad 1 or SAME_UPPER");
    }
    padding = "SAME";
  }
  const shape = [x.shape[0], x.shape[1], geometry.outputH, geometry.outputW];
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: false,
    emit: (output) => {
      const input = padding === "SAME" ? x : emitPadding(lowering, node, x, geometry);
      const result = lowering.addTensor(output.name, output.quantization.type, shape, output.quantization);
      lowering.builder.addOperator("AVERAGE_POOL_2D", [input.index], [result.index], poolOptions(geometry, kernelH, kernelW, padding));
      return result;
    },
  });
}

function isTfliteSamePadding(inputH: number, inputW: number, kernelH: number, kernelW: number, geometry: WindowGeometry): boolean {
  const same = (input: number, kernel: number, stride: number): [number, number] => {
    const output = Math.ceil(input / stride);
    const total = Math.max(0, (output - 1) * stride + kernel - input);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = same(inputH, kernelH, geometry.strideH);
  const [left, right] = same(inputW, kernelW, geometry.strideW);
  return top === geometry.padTop && bottom === geometry.padBottom && left === geometry.padLeft && right === geometry.padRight;
}

export function lowerGlobalAveragePool(lowering: Lowering, node: GraphNode): void {
  const x = poolInput(lowering, node);
  const [n, c, h, w] = x.shape;
  const shape = [n, c, 1, 1];
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: false,
    emit: (output) => {
      const result = lowering.addTensor(output.name, output.quantization.type, shape, output.quantization);
      lowering.builder.addOperator("AVERAGE_POOL_2D", [x.index], [result.index], {
        type: "Pool2DOptions",
        fields: { padding: "VALID", stride_w: 1, stride_h: 1, filter_width: w, filter_height: h, fused_activation_function: "NONE" },
      });
      return result;
    },
  });
}

// Unary functions.

function unary(lowering: Lowering, node: GraphNode, x: TensorValue, op: string): void {
  lowering.setPendingOutput(node, {
    shape: x.shape,
    acceptsActivation: false,
    emit: (output: OutputSpec) => {
      const result = lowering.addTensor(output.name, output.quantization.type, x.shape, output.quantization);
      lowering.builder.addOperator(op, [x.index], [result.index]);
      return result;
    },
  });
}

export function lowerSigmoid(lowering: Lowering, node: GraphNode): void {
  unary(lowering, node, dequantizedSource(lowering, node), "LOGISTIC");
}

export function lowerHardSwish(lowering: Lowering, node: GraphNode): void {
  unary(lowering, node, dequantizedSource(lowering, node), "HARD_SWISH");
}

/** float32 1/6, the alpha of HardSigmoid in torch.onnx's hardswish export (x * HardSigmoid(x)). */
const ONE_SIXTH = Math.fround(1 / 6);

export function lowerHardSigmoid(lowering: Lowering, node: GraphNode): void {
  const value = lowering.input(node, 0);
  const alpha = attributeFloat(node, "alpha", 0.2);
  const beta = attributeFloat(node, "beta", 0.5);
  if (value.kind !== "dequantized" || Math.fround(alpha) !== ONE_SIXTH || Math.fround(beta) !== 0.5) {
    throw new UnsupportedNodeError(node, "HardSigmoid is supported only with alpha 1/6 and beta 0.5 on a DequantizeLinear output, as the x * HardSigmoid(x) form of hard swish");
  }
  lowering.setOutput(node, 0, { kind: "hardSigmoid", node, input: value });
}

/** Mul is supported only as x * HardSigmoid(x), which is HardSwish. */
export function lowerMul(lowering: Lowering, node: GraphNode): void {
  const a = lowering.input(node, 0);
  const b = lowering.input(node, 1);
  const pair = a.kind === "hardSigmoid" ? [b, a] : [a, b];
  const [x, gate] = pair;
  if (x.kind === "dequantized" && gate.kind === "hardSigmoid" && sameSource(x, gate.input)) {
    rejectFeatureOrder(node, x.source, "input");
    unary(lowering, node, x.source, "HARD_SWISH");
    return;
  }
  throw new UnsupportedNodeError(node, "Mul is supported only as x * HardSigmoid(x) (hard swish) in QDQ form");
}

function sameSource(a: DequantizedValue, b: DequantizedValue): boolean {
  return a.source.index === b.source.index;
}
