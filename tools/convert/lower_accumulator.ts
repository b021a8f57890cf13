// Layers that accumulate sum((x - zx) * (w - zw)): Conv and Gemm/MatMul in
// QDQ form, and QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger.
// They become CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or BATCH_MATMUL
// with weights transposed to TFLite's layouts and the bias converted to the
// units the chosen requantization scheme reads.

import { ConstantTensor, GraphNode, UnsupportedNodeError, attributeFloat, attributeInt, attributeInts } from "./graph.js";
import { checkFloatBias } from "./float_bias.js";
import { emitPadding, windowGeometry } from "./geometry.js";
import { transposeValues } from "./layout.js";
import { Lowering, describeValueForError, readQuantParams, tfliteQuantization } from "./lower.js";
import { FusedActivation, OutputSpec, QuantParams, TYPE_RANGES, TensorValue, roundHalfToEven } from "./values.js";

/** Scheme whose conv and fully connected layers read a float32 bias in real units; all others read int32. */
const FLOAT_BIAS_SCHEME = "pytorch-onednn";

/** Quantized weights in ONNX layout with their quantization. */
interface Weights {
  tensor: ConstantTensor;
  quantization: QuantParams;
}

/** Bias as the ONNX model gives it. */
type BiasSource =
  /** An int32 constant behind a DequantizeLinear with its own scale and zero point. */
  | { kind: "dequantized"; tensor: ConstantTensor; quantization: QuantParams }
  /** A float constant in real units. */
  | { kind: "float"; tensor: ConstantTensor }
  /** An int32 constant in units of input scale times weight scale (QLinearConv). */
  | { kind: "accumulator"; tensor: ConstantTensor };

/** Output of the layer: a quantized tensor, or the raw int32 accumulator (ConvInteger, MatMulInteger). */
interface LayerOutput {
  name: string;
  quantization: QuantParams | undefined;
  activation: FusedActivation;
}

// QDQ form.

export function lowerConv(lowering: Lowering, node: GraphNode): void {
  const x = lowering.dequantizedInput(node, 0, "input");
  const weights = weightsInput(lowering, node, 1);
  const bias = biasInput(lowering, node, 2);
  const shape = convOutputShape(node, x.shape, weights.tensor.dims);
  lowering.setPendingOutput(node, {
    shape,
    acceptsActivation: true,
    emit: (output, activation) => emitConv(lowering, node, x, weights, bias, layerOutput(output, activation)),
  });
}

export function lowerGemm(lowering: Lowering, node: GraphNode): void {
  if (attributeInt(node, "transA", 0) !== 0) throw new UnsupportedNodeError(node, "transA 1 is not supported; only B may be transposed");
  if (attributeFloat(node, "alpha", 1) !== 1 || attributeFloat(node, "beta", 1) !== 1) {
    throw new UnsupportedNodeError(node, "alpha and beta must be 1");
  }
  const a = lowering.dequantizedInput(node, 0, "input A");
  const weights = fullyConnectedWeights(node, weightsInput(lowering, node, 1), attributeInt(node, "transB", 0) === 0);
  const bias = biasInput(lowering, node, 2);
  if (a.shape.length !== 2) throw new UnsupportedNodeError(node, `input A has rank ${a.shape.length}; Gemm needs a 2-D input`);
  lowering.setPendingOutput(node, {
    shape: [a.shape[0], weights.tensor.dims[0]],
    acceptsActivation: true,
    emit: (output, activation) => emitFullyConnected(lowering, node, a, weights, bias, layerOutput(output, activation)),
  });
}

export function lowerMatMul(lowering: Lowering, node: GraphNode): void {
  const a = lowering.dequantizedInput(node, 0, "input A");
  const b = lowering.input(node, 1);
  if (b.kind === "dequantizedConstant" && b.data.dims.length === 2) {
    const weights = fullyConnectedWeights(node, { tensor: b.data, quantization: b.quantization }, true);
    lowering.setPendingOutput(node, {
      shape: [...a.shape.slice(0, -1), weights.tensor.dims[0]],
      acceptsActivation: true,
      emit: (output, activation) => emitFullyConnected(lowering, node, a, weights, undefined, layerOutput(output, activation)),
    });
    return;
  }
  const bTensor = lowering.quantizedOperand(node, b, "input B");
  lowering.setPendingOutput(node, {
    shape: batchMatMulShape(node, a.shape, bTensor.shape),
    acceptsActivation: false,
    emit: (output) => emitBatchMatMul(lowering, node, a, bTensor, layerOutput(output, "NONE")),
  });
}

// QOperator form.

export function lowerQLinearConv(lowering: Lowering, node: GraphNode): void {
  const x = quantizedTensorInput(lowering, node, 0, 1, 2, "x");
  const w = lowering.constantInput(node, 3, "w");
  const weights = { tensor: w, quantization: readQuantParams(lowering, node, 4, 5, w.dims, 0, "w", typeOfQuantized(node, w, "w")) };
  const y = readQuantParams(lowering, node, 6, 7, undefined, 0, "y");
  const b = node.inputs[8] === undefined || node.inputs[8] === "" ? undefined : lowering.constantInput(node, 8, "B");
  if (b !== undefined && b.type !== "int32") throw new UnsupportedNodeError(node, `B is ${b.type}; QLinearConv bias must be int32`);
  const output = emitConv(lowering, node, x, weights, b === undefined ? undefined : { kind: "accumulator", tensor: b }, {
    name: node.outputs[0],
    quantization: y,
    activation: "NONE",
  });
  lowering.setOutput(node, 0, output);
}

export function lowerQLinearMatMul(lowering: Lowering, node: GraphNode): void {
  const a = quantizedTensorInput(lowering, node, 0, 1, 2, "a");
  const y = readQuantParams(lowering, node, 6, 7, undefined, 0, "y");
  const output: LayerOutput = { name: node.outputs[0], quantization: y, activation: "NONE" };
  const b = lowering.input(node, 3);
  if (b.kind === "constant" && b.tensor.dims.length === 2) {
    const bQuantization = readQuantParams(lowering, node, 4, 5, b.tensor.dims, 1, "b", typeOfQuantized(node, b.tensor, "b"));
    const weights = fullyConnectedWeights(node, { tensor: b.tensor, quantization: bQuantization }, true);
    lowering.setOutput(node, 0, emitFullyConnected(lowering, node, a, weights, undefined, output));
    return;
  }
  const bTensor = b.kind === "constant" ? constantOperand(lowering, node, b.tensor, 4, 5, "b") : quantizedTensorInput(lowering, node, 3, 4, 5, "b");
  lowering.setOutput(node, 0, emitBatchMatMul(lowering, node, a, bTensor, output));
}

export function lowerConvInteger(lowering: Lowering, node: GraphNode): void {
  const x = integerInput(lowering, node, 0, 2, "x");
  const w = lowering.constantInput(node, 1, "w");
  const weights = { tensor: w, quantization: integerQuantization(lowering, node, 3, typeOfQuantized(node, w, "w"), w.dims, 0, "w") };
  lowering.setOutput(node, 0, emitConv(lowering, node, x, weights, undefined, { name: node.outputs[0], quantization: undefined, activation: "NONE" }));
}

export function lowerMatMulInteger(lowering: Lowering, node: GraphNode): void {
  const a = integerInput(lowering, node, 0, 2, "A");
  const output: LayerOutput = { name: node.outputs[0], quantization: undefined, activation: "NONE" };
  const b = lowering.input(node, 1);
  if (b.kind === "constant" && b.tensor.dims.length === 2) {
    const bQuantization = integerQuantization(lowering, node, 3, typeOfQuantized(node, b.tensor, "B"), b.tensor.dims, 1, "B");
    const weights = fullyConnectedWeights(node, { tensor: b.tensor, quantization: bQuantization }, true);
    lowering.setOutput(node, 0, emitFullyConnected(lowering, node, a, weights, undefined, output));
    return;
  }
  if (b.kind !== "tensor") throw new UnsupportedNodeError(node, `B is ${describeValueForError(b)}; it must be a constant or a uint8/int8 tensor`);
  const bTensor = integerInput(lowering, node, 1, 3, "B");
  lowering.setOutput(node, 0, emitBatchMatMul(lowering, node, a, bTensor, output));
}

// Inputs.

function layerOutput(output: OutputSpec, activation: FusedActivation): LayerOutput {
  return { name: output.name, quantization: output.quantization, activation };
}

function weightsInput(lowering: Lowering, node: GraphNode, inputIndex: number): Weights {
  const value = lowering.input(node, inputIndex);
  if (value.kind !== "dequantizedConstant" || (value.quantization.type !== "int8" && value.quantization.type !== "uint8")) {
    throw new UnsupportedNodeError(node, `weights (input ${inputIndex}) are ${describeValueForError(value)}; they must be an int8 or uint8 constant behind a DequantizeLinear`);
  }
  return { tensor: value.data, quantization: value.quantization };
}

function biasInput(lowering: Lowering, node: GraphNode, inputIndex: number): BiasSource | undefined {
  const value = lowering.optionalInput(node, inputIndex);
  if (value === undefined) return undefined;
  if (value.kind === "dequantizedConstant" && value.quantization.type === "int32") return { kind: "dequantized", tensor: value.data, quantization: value.quantization };
  if (value.kind === "constant" && value.tensor.type === "float32") return { kind: "float", tensor: value.tensor };
  throw new UnsupportedNodeError(node, `bias (input ${inputIndex}) is ${describeValueForError(value)}; it must be an int32 constant behind a DequantizeLinear or a float32 constant`);
}

/** Returns a quantized input of a QLinear node, whose scale and zero point become the tensor's quantization. */
function quantizedTensorInput(lowering: Lowering, node: GraphNode, inputIndex: number, scaleIndex: number, zeroPointIndex: number, role: string): TensorValue {
  const value = lowering.input(node, inputIndex);
  if (value.kind !== "tensor" || (value.type !== "uint8" && value.type !== "int8")) {
    throw new UnsupportedNodeError(node, `${role} is ${describeValueForError(value)}; it must be a uint8 or int8 tensor`);
  }
  const quantization = readQuantParams(lowering, node, scaleIndex, zeroPointIndex, undefined, 0, role, value.type);
  lowering.assignQuantization(node, value, quantization, role);
  return value;
}

/** Adds a quantized constant operand of a QLinear node to the model as a constant tensor. */
function constantOperand(lowering: Lowering, node: GraphNode, tensor: ConstantTensor, scaleIndex: number, zeroPointIndex: number, role: string): TensorValue {
  const quantization = readQuantParams(lowering, node, scaleIndex, zeroPointIndex, undefined, 0, role, typeOfQuantized(node, tensor, role));
  return lowering.quantizedOperand(node, { kind: "dequantizedConstant", data: tensor, quantization }, role);
}

/** Returns an input of ConvInteger or MatMulInteger, whose zero point becomes the tensor's, with scale 1. */
function integerInput(lowering: Lowering, node: GraphNode, inputIndex: number, zeroPointIndex: number, role: string): TensorValue {
  const value = lowering.input(node, inputIndex);
  if (value.kind !== "tensor" || (value.type !== "uint8" && value.type !== "int8")) {
    throw new UnsupportedNodeError(node, `${role} is ${describeValueForError(value)}; it must be a uint8 or int8 tensor`);
  }
  const quantization = integerQuantization(lowering, node, zeroPointIndex, value.type, undefined, 0, role);
  if (quantization.zeroPoint.length !== 1) {
    throw new UnsupportedNodeError(node, `${role} has ${quantization.zeroPoint.length} zero points; a per-row zero point of the left operand is not supported`);
  }
  lowering.assignQuantization(node, value, quantization, role);
  return value;
}

/** Scale 1 and the given zero point(s): the quantization that makes the layer's accumulator the ONNX integer result. */
function integerQuantization(
  lowering: Lowering,
  node: GraphNode,
  zeroPointIndex: number,
  type: "uint8" | "int8",
  shape: readonly number[] | undefined,
  axis: number,
  role: string,
): QuantParams {
  const name = node.inputs[zeroPointIndex];
  if (name === undefined || name === "") return { type, scale: Float32Array.of(1), zeroPoint: Int32Array.of(0), axis: undefined };
  const zeroPoint = lowering.constantInput(node, zeroPointIndex, `${role} zero point`);
  if (zeroPoint.type !== type) throw new UnsupportedNodeError(node, `${role} is ${type} but its zero point is ${zeroPoint.type}`);
  const count = zeroPoint.values.length;
  if (count > 1 && (shape === undefined || shape[axis] !== count)) {
    throw new UnsupportedNodeError(node, `${role} has ${count} zero points, which do not match its dimension ${axis}`);
  }
  return { type, scale: new Float32Array(count).fill(1), zeroPoint: Int32Array.from(zeroPoint.values), axis: count > 1 ? axis : undefined };
}

function typeOfQuantized(node: GraphNode, tensor: ConstantTensor, role: string): "uint8" | "int8" {
  if (tensor.type !== "uint8" && tensor.type !== "int8") throw new UnsupportedNodeError(node, `${role} is ${tensor.type}; it must be uint8 or int8`);
  return tensor.type;
}

// Conv.

function checkConvRanks(node: GraphNode, inputShape: readonly number[], weightDims: readonly number[]): void {
  if (inputShape.length !== 4 || weightDims.length !== 4) {
    throw new UnsupportedNodeError(node, `input rank ${inputShape.length} and weight rank ${weightDims.length}: only 2-D convolution (rank 4) is supported`);
  }
}

function convOutputShape(node: GraphNode, inputShape: readonly number[], weightDims: readonly number[]): number[] {
  checkConvRanks(node, inputShape, weightDims);
  const geometry = windowGeometry(node, inputShape[2], inputShape[3], weightDims[2], weightDims[3], false);
  return [inputShape[0], weightDims[0], geometry.outputH, geometry.outputW];
}

function emitConv(lowering: Lowering, node: GraphNode, input: TensorValue, weights: Weights, bias: BiasSource | undefined, output: LayerOutput): TensorValue {
  const [batches, inputChannels, inputH, inputW] = input.shape;
  const [outputChannels, filterChannels, kernelH, kernelW] = weights.tensor.dims;
  checkConvRanks(node, input.shape, weights.tensor.dims);
  const kernelShape = attributeInts(node, "kernel_shape");
  if (kernelShape !== undefined && (kernelShape[0] !== kernelH || kernelShape[1] !== kernelW)) {
    throw new UnsupportedNodeError(node, `kernel_shape [${kernelShape}] does not match the ${kernelH}x${kernelW} weights`);
  }
  const groups = attributeInt(node, "group", 1);
  if (groups < 1 || inputChannels % groups !== 0 || outputChannels % groups !== 0 || filterChannels * groups !== inputChannels) {
    throw new UnsupportedNodeError(node, `group ${groups} does not fit ${inputChannels} input channels, ${outputChannels} output channels and weights [${weights.tensor.dims}]`);
  }
  const weightQuantization = checkPerOutputChannel(node, weights.quantization, outputChannels, "weights");
  const geometry = windowGeometry(node, inputH, inputW, kernelH, kernelW, false);
  const padded = emitPadding(lowering, node, input, geometry);

  const prefix = node.name || node.opType;
  const depthwise = groups > 1 && groups === inputChannels && filterChannels === 1;
  let filter: ArrayLike<number>;
  let filterShape: number[];
  if (depthwise) {
    // [O, 1, kh, kw] -> [1, kh, kw, O]; output channel o reads input channel floor(o / multiplier).
    filter = transposeValues(weights.tensor.values, weights.tensor.dims, [1, 2, 3, 0], new Float64Array(weights.tensor.values.length));
    filterShape = [1, kernelH, kernelW, outputChannels];
  } else {
    // OIHW -> OHWI.
    filter = transposeValues(weights.tensor.values, weights.tensor.dims, [0, 2, 3, 1], new Float64Array(weights.tensor.values.length));
    filterShape = [outputChannels, kernelH, kernelW, filterChannels];
  }
  const filterIndex = lowering.builder.addConstant(`${prefix}/weights`, weightQuantization.type as "uint8" | "int8", filterShape, filter, {
    scale: Array.from(weightQuantization.scale),
    zeroPoint: Array.from(weightQuantization.zeroPoint),
    quantizedDimension: depthwise ? 3 : 0,
  });
  const biasIndex = emitBias(lowering, node, bias, input, weightQuantization, outputChannels);

  const outputShape = [batches, outputChannels, geometry.outputH, geometry.outputW];
  const result = lowering.addTensor(output.name, output.quantization?.type ?? "int32", outputShape, output.quantization);
  const common = {
    padding: "VALID",
    stride_w: geometry.strideW,
    stride_h: geometry.strideH,
    fused_activation_function: output.activation,
    dilation_w_factor: geometry.dilationW,
    dilation_h_factor: geometry.dilationH,
  };
  if (depthwise) {
    lowering.builder.addOperator("DEPTHWISE_CONV_2D", [padded.index, filterIndex, biasIndex], [result.index], {
      type: "DepthwiseConv2DOptions",
      fields: { ...common, depth_multiplier: outputChannels / inputChannels },
    });
  } else {
    lowering.builder.addOperator("CONV_2D", [padded.index, filterIndex, biasIndex], [result.index], { type: "Conv2DOptions", fields: common });
  }
  return result;
}

/** Checks that weights are quantized per tensor or per output channel (axis 0), and returns the quantization with one entry per channel or one in all. */
function checkPerOutputChannel(node: GraphNode, quantization: QuantParams, channels: number, role: string): QuantParams {
  if (quantization.scale.length === 1) return quantization;
  if (quantization.axis !== 0 || quantization.scale.length !== channels) {
    throw new UnsupportedNodeError(node, `${role} are quantized along axis ${quantization.axis}; only per-tensor or per-output-channel quantization is supported`);
  }
  return quantization;
}

// Fully connected and batch matrix product.

/** Weights as FULLY_CONNECTED stores them, [N, K], from ONNX [K, N] (`transpose`) or [N, K]. */
function fullyConnectedWeights(node: GraphNode, weights: Weights, transpose: boolean): Weights {
  const dims = weights.tensor.dims;
  if (dims.length !== 2) throw new UnsupportedNodeError(node, `weights have shape [${dims}]; a 2-D constant is needed`);
  const outputAxis = transpose ? 1 : 0;
  const quantization = weights.quantization;
  if (quantization.scale.length > 1 && quantization.axis !== outputAxis) {
    throw new UnsupportedNodeError(node, `weights are quantized along axis ${quantization.axis}; only per-tensor or per-output-column quantization is supported`);
  }
  if (!transpose) return { tensor: weights.tensor, quantization: { ...quantization, axis: quantization.scale.length > 1 ? 0 : undefined } };
  const values = transposeValues(weights.tensor.values, dims, [1, 0], weights.tensor.values.slice());
  return {
    tensor: { type: weights.tensor.type, dims: [dims[1], dims[0]], values },
    quantization: { ...quantization, axis: quantization.scale.length > 1 ? 0 : undefined },
  };
}

function emitFullyConnected(lowering: Lowering, node: GraphNode, input: TensorValue, weights: Weights, bias: BiasSource | undefined, output: LayerOutput): TensorValue {
  const [units, depth] = weights.tensor.dims;
  const rank = input.shape.length;
  if (rank < 2 || rank === 4) {
    throw new UnsupportedNodeError(node, `input has shape [${input.shape}]; a fully connected layer needs rank 2 or 3 (rank 4 is stored NHWC)`);
  }
  if (input.shape[rank - 1] !== depth) throw new UnsupportedNodeError(node, `input has ${input.shape[rank - 1]} features, but the weights expect ${depth}`);
  const quantization = checkPerOutputChannel(node, weights.quantization, units, "weights");

  // A flatten of NHWC data stores feature order[j] at position j, so weight column j must be ONNX column order[j].
  let values = weights.tensor.values;
  if (input.featureOrder !== undefined) {
    const order = input.featureOrder;
    const permuted = values.slice();
    for (let unit = 0; unit < units; unit++) {
      for (let j = 0; j < depth; j++) permuted[unit * depth + j] = values[unit * depth + order[j]];
    }
    values = permuted;
  }
  const prefix = node.name || node.opType;
  const weightsIndex = lowering.builder.addConstant(`${prefix}/weights`, quantization.type as "uint8" | "int8", [units, depth], values, tfliteQuantization(quantization, 2));
  const biasIndex = emitBias(lowering, node, bias, input, quantization, units);

  const outputShape = [...input.shape.slice(0, -1), units];
  const result = lowering.addTensor(output.name, output.quantization?.type ?? "int32", outputShape, output.quantization);
  lowering.builder.addOperator("FULLY_CONNECTED", [input.index, weightsIndex, biasIndex], [result.index], {
    type: "FullyConnectedOptions",
    fields: { fused_activation_function: output.activation, keep_num_dims: rank > 2 },
  });
  return result;
}

function batchMatMulShape(node: GraphNode, a: readonly number[], b: readonly number[]): number[] {
  if (a.length < 2 || b.length < 2 || a.length === 4 || b.length === 4 || a.length > 5 || b.length > 5) {
    throw new UnsupportedNodeError(node, `operands [${a}] and [${b}]: a batched matrix product needs ranks 2, 3 or 5 (rank 4 is stored NHWC)`);
  }
  const [m, k] = a.slice(-2);
  const [kb, n] = b.slice(-2);
  if (k !== kb) throw new UnsupportedNodeError(node, `inner dimensions differ: [${a}] x [${b}]`);
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new UnsupportedNodeError(node, `batch dimensions of [${a}] and [${b}] do not broadcast`);
    batch.push(Math.max(da, db));
  }
  return [...batch, m, n];
}

function emitBatchMatMul(lowering: Lowering, node: GraphNode, a: TensorValue, b: TensorValue, output: LayerOutput): TensorValue {
  for (const [operand, role] of [[a, "A"], [b, "B"]] as const) {
    if (operand.quantization !== undefined && operand.quantization.scale.length > 1) {
      throw new UnsupportedNodeError(node, `${role} is quantized per axis; a batched matrix product needs per-tensor quantization`);
    }
    if (operand.featureOrder !== undefined) throw new UnsupportedNodeError(node, `${role} is a flattened NHWC tensor; only a fully connected layer can read it`);
  }
  const shape = batchMatMulShape(node, a.shape, b.shape);
  const result = lowering.addTensor(output.name, output.quantization?.type ?? "int32", shape, output.quantization);
  lowering.builder.addOperator("BATCH_MATMUL", [a.index, b.index], [result.index], {
    type: "BatchMatMulOptions",
    fields: { adj_x: false, adj_y: false },
  });
  return result;
}

// Bias.

/**
 * Adds the bias tensor of a conv or fully connected layer and returns its
 * index, or -1 without bias. A float bias from the options replaces the
 * bias of the .onnx and is written as float32 in real units. Otherwise the
 * pytorch-onednn scheme reads a float32 bias in real units, and every other
 * scheme reads int32 in units of fl(inputScale * weightScale[c]), stored
 * with that scale as TFLite does.
 */
function emitBias(lowering: Lowering, node: GraphNode, bias: BiasSource | undefined, input: TensorValue, weights: QuantParams, channels: number): number {
  if (bias === undefined) return -1;
  const values = bias.tensor.values;
  if (values.length !== channels) throw new UnsupportedNodeError(node, `bias has ${values.length} values for ${channels} output channels`);
  const inputScale = input.quantization?.scale[0] ?? 1;
  const accumulatorScale = Float32Array.from({ length: channels }, (_, c) => Math.fround(inputScale * weights.scale[weights.scale.length === 1 ? 0 : c]));
  const name = `${node.name || node.opType}/bias`;

  const floatBias = lowering.options.floatBias?.get(node);
  if (floatBias !== undefined) {
    // The .onnx bias in its own units: a dequantized int32 in units of its scale, other kinds in units of the accumulator scale.
    const unit = (c: number): number => {
      if (bias.kind !== "dequantized") return accumulatorScale[c];
      const scales = bias.quantization.scale;
      return scales[scales.length === 1 ? 0 : c];
    };
    const exported = (c: number): number => {
      switch (bias.kind) {
        case "dequantized":
          return values[c] - bias.quantization.zeroPoint[bias.quantization.zeroPoint.length === 1 ? 0 : c];
        case "accumulator":
          return values[c];
        case "float":
          return values[c] / accumulatorScale[c];
      }
    };
    checkFloatBias(node, floatBias, channels, exported, unit);
    return lowering.builder.addConstant(name, "float32", [channels], floatBias.values);
  }

  // Real value of bias element c.
  const realValue = (c: number): number => {
    switch (bias.kind) {
      case "dequantized": {
        const q = bias.quantization;
        const channel = q.scale.length === 1 ? 0 : c;
        return Math.fround((values[c] - q.zeroPoint[channel]) * q.scale[channel]);
      }
      case "float":
        return values[c];
      case "accumulator":
        return Math.fround(values[c] * accumulatorScale[c]);
    }
  };

  if (lowering.options.scheme === FLOAT_BIAS_SCHEME) {
    return lowering.builder.addConstant(name, "float32", [channels], Float32Array.from({ length: channels }, (_, c) => realValue(c)));
  }

  const [min, max] = TYPE_RANGES.int32;
  const int32 = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    let value: number;
    if (bias.kind === "accumulator") {
      value = values[c];
    } else if (bias.kind === "dequantized" && bias.quantization.zeroPoint.every((z) => z === 0) && bias.quantization.scale[bias.quantization.scale.length === 1 ? 0 : c] === accumulatorScale[c]) {
      // The usual case: the bias was quantized with exactly the accumulator's scale, so its integers are used as they are.
      value = values[c];
    } else {
      value = roundHalfToEven(realValue(c) / accumulatorScale[c]);
    }
    if (value < min || value > max) throw new UnsupportedNodeError(node, `bias value ${value} of channel ${c} does not fit int32 in units of input scale times weight scale`);
    int32[c] = value;
  }
  const perChannel = weights.scale.length > 1;
  return lowering.builder.addConstant(name, "int32", [channels], int32, {
    scale: perChannel ? Array.from(accumulatorScale) : [accumulatorScale[0]],
    zeroPoint: new Array(perChannel ? channels : 1).fill(0),
    ...(perChannel ? { quantizedDimension: 0 } : {}),
  });
}
