// Prepare-time validation and derived parameters of TRANSPOSE_CONV, as
// TFLM's micro/kernels/transpose_conv.cc (tflite-micro commit 90b983c2)
// prepares it. Operands: 0 the output shape (int32 [4]), 1 the weights
// [output_channels, filter_height, filter_width, input_channels], 2 the
// input, 3 an optional bias.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { Padding } from "../../runtime/schema/options.js";
import { TransposeConvOptions, readTransposeConvOptions } from "../../runtime/schema/options_transpose_conv.js";
import { TensorType } from "../../runtime/tensor_types.js";
import {
  activationRange,
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkRank,
  checkType,
  checkWeightQuantization,
  describeTensor,
  perChannelMultipliers,
} from "../common.js";
import { PrepareContext } from "../kernel.js";

export const OUTPUT_SHAPE_INPUT = 0;
export const WEIGHTS_INPUT = 1;
export const DATA_INPUT = 2;
export const BIAS_INPUT = 3;

/** A validated TRANSPOSE_CONV: shapes, padding, requantization and tensor indices. */
export interface TransposeConvLayer {
  options: TransposeConvOptions;
  input: TensorDef;
  output: TensorDef;
  batches: number;
  inputHeight: number;
  inputWidth: number;
  inputChannels: number;
  outputHeight: number;
  outputWidth: number;
  outputChannels: number;
  filterHeight: number;
  filterWidth: number;
  padTop: number;
  padLeft: number;
  /** Elements of the output tensor, each with one accumulator in scratch. */
  outputElements: number;
  /** Distance between two output channels' rows in the [outputChannels, height, width, inputChannels] weights. */
  channelStride: number;
  macs: number;
  /** Per output channel Q31 multipliers and shifts (repeated for per-tensor weights). */
  multipliers: Int32Array;
  shifts: Int32Array;
  activationMin: number;
  activationMax: number;
  weightData: Int8Array;
  inputIndex: number;
  outputIndex: number;
  /** Tensor index of the bias, or -1 when there is none. */
  biasIndex: number;
}

export function prepareTransposeConvLayer(context: PrepareContext, op: OperatorDef): TransposeConvLayer {
  checkInputCount(op, 3, 4);
  checkOutputCount(op, 1);
  const outputShape = context.tensor(op.inputs[OUTPUT_SHAPE_INPUT]);
  const weights = context.tensor(op.inputs[WEIGHTS_INPUT]);
  const input = context.tensor(op.inputs[DATA_INPUT]);
  const output = context.tensor(op.outputs[0]);
  const biasIndex = op.inputs.length > BIAS_INPUT ? op.inputs[BIAS_INPUT] : -1;

  checkType(op, input, "input", [TensorType.INT8, TensorType.INT16]);
  checkType(op, weights, "weights", [TensorType.INT8]);
  checkType(op, output, "output", [input.type]);
  checkType(op, outputShape, "output shape", [TensorType.INT32]);
  checkRank(op, input, "input", 4);
  checkRank(op, weights, "weights", 4);
  checkRank(op, output, "output", 4);
  checkOutputShapeTensor(context, op, outputShape, output);
  if (!context.isConstant(op.inputs[WEIGHTS_INPUT])) {
    throw new UnsupportedError(`weights ${describeTensor(weights)} are computed at run time; ${op.name} needs constant weights here`);
  }

  const [batches, inputHeight, inputWidth, inputChannels] = input.shape;
  const [outputChannels, filterHeight, filterWidth, filterChannels] = weights.shape;
  const [outputBatches, outputHeight, outputWidth, outputDepth] = output.shape;
  if (outputBatches !== batches || filterChannels !== inputChannels || outputDepth !== outputChannels) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): input [${input.shape}], weights [${weights.shape}] and output [${output.shape}] ` +
        `do not match (expected the same batches, weights [output_channels, h, w, input_channels]); the file is corrupted`,
    );
  }

  const options = readTransposeConvOptions(context.reader, op);
  if (options.padding !== Padding.SAME && options.padding !== Padding.VALID) {
    throw new InvalidModelError(`operator ${op.index} (${op.name}) has padding type ${options.padding}; the file is corrupted`);
  }
  if (options.strideHeight <= 0 || options.strideWidth <= 0 || filterHeight <= 0 || filterWidth <= 0) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): strides ${options.strideHeight}x${options.strideWidth} and filter ` +
        `${filterHeight}x${filterWidth} must be positive; the file is corrupted`,
    );
  }
  const [padTop, padLeft] = transposeConvPadding(options, outputHeight, outputWidth, filterHeight, filterWidth);

  checkPerTensorQuantization(op, input, "input");
  checkPerTensorQuantization(op, output, "output");
  checkWeightQuantization(op, weights, outputChannels, 0);
  const { multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], outputChannels);
  context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);
  const [activationMin, activationMax] = activationRange(op, options.activation, output);

  const weightBytes = context.constantBytes(op.inputs[WEIGHTS_INPUT]);
  const weightData = new Int8Array(weightBytes.buffer, weightBytes.byteOffset, weightBytes.byteLength);
  if (weightData.length !== weights.elementCount) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): weights ${describeTensor(weights)} hold ${weightData.length} bytes, ` +
        `expected ${weights.elementCount}; the file is corrupted`,
    );
  }

  return {
    options,
    input,
    output,
    batches,
    inputHeight,
    inputWidth,
    inputChannels,
    outputHeight,
    outputWidth,
    outputChannels,
    filterHeight,
    filterWidth,
    padTop,
    padLeft,
    outputElements: batches * outputHeight * outputWidth * outputChannels,
    channelStride: filterHeight * filterWidth * inputChannels,
    macs: batches * inputHeight * inputWidth * inputChannels * filterHeight * filterWidth * outputChannels,
    multipliers,
    shifts,
    activationMin,
    activationMax,
    weightData,
    inputIndex: op.inputs[DATA_INPUT],
    outputIndex: op.outputs[0],
    biasIndex,
  };
}

/**
 * TFLM takes the output size from the output tensor and never reads the
 * output shape operand; when that operand is a constant, it must agree.
 */
function checkOutputShapeTensor(context: PrepareContext, op: OperatorDef, outputShape: TensorDef, output: TensorDef): void {
  if (outputShape.elementCount !== 4) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): output shape ${describeTensor(outputShape)} has ${outputShape.elementCount} ` +
        `elements, expected 4; the file is corrupted`,
    );
  }
  if (!context.isConstant(op.inputs[OUTPUT_SHAPE_INPUT])) return;
  const values = context.constantInt32(op.inputs[OUTPUT_SHAPE_INPUT]);
  for (let i = 0; i < 4; i++) {
    if (values[i] !== output.shape[i]) {
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): output shape ${describeTensor(outputShape)} is [${Array.from(values)}], ` +
          `but output ${describeTensor(output)} has shape [${output.shape}]; the file is corrupted`,
      );
    }
  }
}

/**
 * Top and left padding as TFLM's ComputePaddingHeightWidth (kernels/padding.h)
 * derives it for a transpose conv: the padding of a conv from the output
 * size (stride and filter as given, dilation 1), with C's truncating division.
 * TFLM leaves both paddings 0 when either dimension fails its size check.
 */
export function transposeConvPadding(
  options: TransposeConvOptions,
  outputHeight: number,
  outputWidth: number,
  filterHeight: number,
  filterWidth: number,
): [number, number] {
  const convWidth = convOutputSize(options.padding, outputWidth, filterWidth, options.strideWidth);
  const convHeight = convOutputSize(options.padding, outputHeight, filterHeight, options.strideHeight);
  if (convWidth < 0 || convHeight < 0) return [0, 0];
  return [
    paddingBefore(options.strideHeight, outputHeight, filterHeight, convHeight),
    paddingBefore(options.strideWidth, outputWidth, filterWidth, convWidth),
  ];
}

/** Output size of a conv over imageSize by TFLM's GetWindowedOutputSize rule; negative where TFLM reports an error. */
function convOutputSize(padding: number, imageSize: number, filterSize: number, stride: number): number {
  if (imageSize < 0) return -1;
  const numerator = padding === Padding.SAME ? imageSize + stride - 1 : imageSize + stride - filterSize;
  return Math.trunc(numerator / stride);
}

function paddingBefore(stride: number, inSize: number, filterSize: number, outSize: number): number {
  const total = (outSize - 1) * stride + filterSize - inSize;
  return total > 0 ? Math.trunc(total / 2) : 0;
}
