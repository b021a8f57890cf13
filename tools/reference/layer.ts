// One operator of a model through the float reference: read its inputs
// (constants from the model buffer, activations from the caller), compute
// the operator in double, and requantize to the output tensor.

import { ModelDef, OperatorDef, TensorDef } from "../../runtime/model.js";
import {
  readConv2DOptions,
  readDepthwiseConv2DOptions,
  readFullyConnectedOptions,
  readPool2DOptions,
  readSoftmaxOptions,
} from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { conv2dReference } from "./conv2d.js";
import { depthwiseConv2dReference } from "./depthwise_conv2d.js";
import { dequantizeReference } from "./dequantize.js";
import { fullyConnectedReference } from "./fully_connected.js";
import { pool2dReference } from "./pooling.js";
import { requantize } from "./quantization.js";
import { quantizeReference } from "./quantize.js";
import { reshapeReference } from "./reshape.js";
import { softmaxReference } from "./softmax.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, decodeValues } from "./tensor.js";

/** Operators the float reference computes, by builtin name. */
export const REFERENCE_OPERATORS = [
  "AVERAGE_POOL_2D",
  "CONV_2D",
  "DEPTHWISE_CONV_2D",
  "DEQUANTIZE",
  "FULLY_CONNECTED",
  "MAX_POOL_2D",
  "QUANTIZE",
  "RESHAPE",
  "SOFTMAX",
] as const;

/** The reference result for an operator's output tensor. */
export interface LayerReference {
  /** Expected stored values: requantized integers, or real values for a float32 output. */
  readonly expected: Float64Array;
  /** Stored-value difference that counts as 1 LSB, as outputLsb defines it. */
  readonly lsb: number;
}

/** Wraps a model tensor and its raw bytes for the reference. */
export function referenceTensor(tensor: TensorDef, bytes: Uint8Array): ReferenceTensor {
  return {
    type: tensor.type,
    shape: tensor.shape,
    values: decodeValues(bytes, tensor.type),
    scale: Array.from(tensor.scale),
    zeroPoint: Array.from(tensor.zeroPoint),
    quantizedDimension: tensor.quantizedDimension,
  };
}

/**
 * Returns 1 LSB of an operator's output in stored values: 1 for an integer
 * output. A float32 output (DEQUANTIZE) is measured in units of its own
 * scale when it has one, else of the first input's scale, the step of the
 * quantized values it came from.
 */
export function outputLsb(model: ModelDef, op: OperatorDef): number {
  const output = model.tensors[op.outputs[0]];
  if (output.type !== TensorType.FLOAT32) return 1;
  if (output.scale.length > 0 && output.scale[0] > 0) return output.scale[0];
  const input = op.inputs.length > 0 && op.inputs[0] >= 0 ? model.tensors[op.inputs[0]] : undefined;
  if (input !== undefined && input.scale.length > 0 && input.scale[0] > 0) return input.scale[0];
  return 1;
}

/**
 * Computes the float reference of an operator with one output.
 * `activationBytes` returns the bytes of a non-constant input as microq
 * computed them, so that errors of earlier layers do not accumulate.
 * Throws FloatReferenceError for an operator or configuration the
 * reference does not model.
 */
export function referenceLayer(model: ModelDef, op: OperatorDef, activationBytes: (tensorIndex: number) => Uint8Array): LayerReference {
  if (op.outputs.length !== 1) {
    throw new FloatReferenceError(`operator ${op.index} (${op.name}) has ${op.outputs.length} outputs; the reference handles one`);
  }
  const output = model.tensors[op.outputs[0]];
  const inputAt = (position: number): ReferenceTensor | null => {
    const index = position < op.inputs.length ? op.inputs[position] : -1;
    if (index < 0) return null;
    const tensor = model.tensors[index];
    const bytes =
      tensor.dataOffset >= 0 ? model.reader.bytes.subarray(tensor.dataOffset, tensor.dataOffset + tensor.byteLength) : activationBytes(index);
    return referenceTensor(tensor, bytes);
  };
  const requiredInput = (position: number): ReferenceTensor => {
    const tensor = inputAt(position);
    if (tensor === null) throw new FloatReferenceError(`operator ${op.index} (${op.name}) has no input ${position}`);
    return tensor;
  };

  const real = computeReal(model, op, output, requiredInput, inputAt);
  checkOutputShape(op, output, real);
  return { expected: requantizeOutput(op, output, real.values), lsb: outputLsb(model, op) };
}

function computeReal(
  model: ModelDef,
  op: OperatorDef,
  output: TensorDef,
  requiredInput: (position: number) => ReferenceTensor,
  inputAt: (position: number) => ReferenceTensor | null,
): RealTensor {
  const reader = model.reader;
  switch (op.name) {
    case "CONV_2D":
      return conv2dReference(requiredInput(0), requiredInput(1), inputAt(2), readConv2DOptions(reader, op));
    case "DEPTHWISE_CONV_2D":
      return depthwiseConv2dReference(requiredInput(0), requiredInput(1), inputAt(2), readDepthwiseConv2DOptions(reader, op));
    case "FULLY_CONNECTED":
      return fullyConnectedReference(requiredInput(0), requiredInput(1), inputAt(2), readFullyConnectedOptions(reader, op));
    case "AVERAGE_POOL_2D":
      return pool2dReference("average", requiredInput(0), readPool2DOptions(reader, op));
    case "MAX_POOL_2D":
      return pool2dReference("max", requiredInput(0), readPool2DOptions(reader, op));
    case "SOFTMAX":
      return softmaxReference(requiredInput(0), readSoftmaxOptions(reader, op));
    case "RESHAPE":
      return reshapeReference(requiredInput(0), output.shape);
    case "QUANTIZE":
      return quantizeReference(requiredInput(0));
    case "DEQUANTIZE":
      return dequantizeReference(requiredInput(0));
    default:
      throw new FloatReferenceError(`operator ${op.name} has no float reference; it covers ${REFERENCE_OPERATORS.join(", ")}`);
  }
}

/**
 * The reference's shape must be the output tensor's. FULLY_CONNECTED
 * yields [batches, units], which its output may spell with more
 * dimensions, so only its element count must agree.
 */
function checkOutputShape(op: OperatorDef, output: TensorDef, real: RealTensor): void {
  const sameCount = real.values.length === output.elementCount;
  const sameShape = sameCount && real.shape.length === output.shape.length && real.shape.every((d, i) => d === output.shape[i]);
  if (op.name === "FULLY_CONNECTED" ? !sameCount : !sameShape) {
    throw new FloatReferenceError(
      `operator ${op.index} (${op.name}) computes shape [${real.shape}], but its output tensor ${output.index} has shape [${output.shape}]`,
    );
  }
}

/** Requantizes to an integer output with one scale. A float32 or unquantized output keeps the real values. */
function requantizeOutput(op: OperatorDef, output: TensorDef, values: Float64Array): Float64Array {
  if (output.type === TensorType.FLOAT32 || output.scale.length === 0) return values;
  if (output.scale.length > 1) {
    throw new FloatReferenceError(
      `operator ${op.index} (${op.name}) output tensor ${output.index} has ${output.scale.length} scales; the reference requantizes per tensor`,
    );
  }
  if (!(output.scale[0] > 0)) {
    throw new FloatReferenceError(`operator ${op.index} (${op.name}) output tensor ${output.index} has scale ${output.scale[0]}`);
  }
  return requantize(values, { type: output.type, scale: output.scale[0], zeroPoint: output.zeroPoint[0] ?? 0 });
}
