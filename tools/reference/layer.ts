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
import { readLeakyReluOptions } from "../../runtime/schema/options_activation.js";
import { readMulOptions, readSubOptions, readTflmAddOptions } from "../../runtime/schema/options_elementwise.js";
import { readUnidirectionalSequenceLstmOptions } from "../../runtime/schema/options_lstm.js";
import { readStridedSliceOptions } from "../../runtime/schema/options_movement.js";
import { readReducerOptions } from "../../runtime/schema/options_reduce.js";
import { readSvdfOptions } from "../../runtime/schema/options_svdf.js";
import { readTransposeConvOptions } from "../../runtime/schema/options_transpose_conv.js";
import { readConcatenationOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { ActivationOperator, activationReference } from "./activations.js";
import { binaryReference } from "./elementwise.js";
import { meanReference } from "./mean.js";
import { concatenationReference, padReference, stridedSliceReference, transposeReference } from "./movement.js";
import { lstmReference, svdfReference } from "./recurrent.js";
import { transposeConvReference } from "./transpose_conv.js";
import { conv2dReference } from "./conv2d.js";
import { depthwiseConv2dReference } from "./depthwise_conv2d.js";
import { dequantizeReference } from "./dequantize.js";
import { fullyConnectedReference } from "./fully_connected.js";
import { pool2dReference } from "./pooling.js";
import { requantize } from "./quantization.js";
import { quantizeReference } from "./quantize.js";
import { reshapeReference } from "./reshape.js";
import { softmaxReference } from "./softmax.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, decodeValues, realValues } from "./tensor.js";

/** Operators the float reference computes, by builtin name. */
export const REFERENCE_OPERATORS = [
  "ADD",
  "AVERAGE_POOL_2D",
  "CONCATENATION",
  "CONV_2D",
  "DEPTHWISE_CONV_2D",
  "DEQUANTIZE",
  "EXPAND_DIMS",
  "FULLY_CONNECTED",
  "HARD_SWISH",
  "LEAKY_RELU",
  "LOGISTIC",
  "MAX_POOL_2D",
  "MEAN",
  "MUL",
  "PAD",
  "PADV2",
  "QUANTIZE",
  "RELU",
  "RELU6",
  "RESHAPE",
  "SOFTMAX",
  "SQUEEZE",
  "STRIDED_SLICE",
  "SUB",
  "SVDF",
  "TANH",
  "TRANSPOSE",
  "TRANSPOSE_CONV",
  "UNIDIRECTIONAL_SEQUENCE_LSTM",
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
    case "ADD":
      return binaryReference("add", requiredInput(0), requiredInput(1), readTflmAddOptions(reader, op).activation);
    case "SUB":
      return binaryReference("sub", requiredInput(0), requiredInput(1), readSubOptions(reader, op).activation);
    case "MUL":
      return binaryReference("mul", requiredInput(0), requiredInput(1), readMulOptions(reader, op).activation);
    case "LOGISTIC":
    case "TANH":
    case "RELU":
    case "RELU6":
    case "HARD_SWISH":
      return activationReference(op.name as ActivationOperator, requiredInput(0));
    case "LEAKY_RELU":
      return activationReference("LEAKY_RELU", requiredInput(0), readLeakyReluOptions(reader, op).alpha);
    case "PAD":
      return padReference(requiredInput(0), Array.from(requiredInput(1).values), 0);
    case "PADV2": {
      const constant = inputAt(2);
      return padReference(requiredInput(0), Array.from(requiredInput(1).values), constant === null ? 0 : realValues(constant)[0]);
    }
    case "TRANSPOSE":
      return transposeReference(requiredInput(0), Array.from(requiredInput(1).values));
    case "CONCATENATION": {
      const options = readConcatenationOptions(reader, op);
      return concatenationReference(op.inputs.map((_, i) => requiredInput(i)), options.axis, options.activation);
    }
    case "SQUEEZE":
    case "EXPAND_DIMS":
      return reshapeReference(requiredInput(0), output.shape);
    case "MEAN":
      return meanReference(requiredInput(0), Array.from(requiredInput(1).values), readReducerOptions(reader, op).keepDims);
    case "STRIDED_SLICE": {
      const options = readStridedSliceOptions(reader, op);
      if (options.ellipsisMask !== 0 || options.newAxisMask !== 0) {
        throw new FloatReferenceError("STRIDED_SLICE with an ellipsis or new axis mask is not modeled by the float reference");
      }
      const spec = {
        begin: Array.from(requiredInput(1).values),
        end: Array.from(requiredInput(2).values),
        strides: Array.from(requiredInput(3).values),
        beginMask: options.beginMask,
        endMask: options.endMask,
        shrinkAxisMask: options.shrinkAxisMask,
        offset: options.offset,
      };
      return stridedSliceReference(requiredInput(0), spec);
    }
    case "TRANSPOSE_CONV":
      // Inputs: output shape, weights, input, optional bias. The output
      // shape comes from the output tensor, as TFLM reads it.
      return transposeConvReference(requiredInput(2), requiredInput(1), inputAt(3), output.shape, readTransposeConvOptions(reader, op));
    case "SVDF":
      return svdfFromResetState(model, op, requiredInput, inputAt);
    case "UNIDIRECTIONAL_SEQUENCE_LSTM":
      return lstmFromResetState(model, op, requiredInput, inputAt);
    default:
      throw new FloatReferenceError(`operator ${op.name} has no float reference; it covers ${REFERENCE_OPERATORS.join(", ")}`);
  }
}

/**
 * SVDF's first invoke after resetState(): the state is real 0 (its int8
 * zero point or int16 0), whatever the variable tensor contains now.
 */
function svdfFromResetState(
  model: ModelDef,
  op: OperatorDef,
  requiredInput: (position: number) => ReferenceTensor,
  inputAt: (position: number) => ReferenceTensor | null,
): RealTensor {
  const options = readSvdfOptions(model.reader, op);
  const state = new Float64Array(model.tensors[op.inputs[4]].elementCount);
  return svdfReference(requiredInput(0), requiredInput(1), requiredInput(2), inputAt(3), state, options.rank, options.activation).output;
}

/**
 * LSTM's first invoke after resetState(): hidden and cell state are real 0.
 * Peepholes, projection and layer normalization are not modeled.
 */
function lstmFromResetState(
  model: ModelDef,
  op: OperatorDef,
  requiredInput: (position: number) => ReferenceTensor,
  inputAt: (position: number) => ReferenceTensor | null,
): RealTensor {
  for (const position of [9, 10, 11, 16, 17, 20, 21, 22, 23]) {
    if (inputAt(position) !== null) {
      throw new FloatReferenceError(`LSTM input ${position} (peephole, projection or layer norm) is not modeled by the float reference`);
    }
  }
  const gate = (inputWeights: number, recurrentWeights: number, bias: number) => ({
    input: requiredInput(inputWeights),
    recurrent: requiredInput(recurrentWeights),
    bias: requiredInput(bias),
  });
  const options = readUnidirectionalSequenceLstmOptions(model.reader, op);
  const units = model.tensors[op.inputs[18]].elementCount;
  const cells = model.tensors[op.inputs[19]].elementCount;
  return lstmReference(
    requiredInput(0),
    { input: gate(1, 5, 12), forget: gate(2, 6, 13), cell: gate(3, 7, 14), output: gate(4, 8, 15) },
    new Float64Array(units),
    new Float64Array(cells),
    { timeMajor: options.timeMajor, cellClip: options.cellClip, activation: options.activation },
  );
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
