// Prepare-time validation and derived parameters of the int8 CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED operators, shared by microq's kernels
// and the naive baseline, so that both accept exactly the same models. The
// shape checks come from conv_geometry.ts, which the affine kernels share.
// Kernels read their bias themselves (the baseline keeps a missing one as
// null, as TFLM does) and record persistent bytes for what they keep.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { quantizeMultiplier } from "../runtime/quantize_multiplier.js";
import {
  Conv2DOptions,
  FullyConnectedOptions,
  readConv2DOptions,
  readDepthwiseConv2DOptions,
  readFullyConnectedOptions,
} from "../runtime/schema/options.js";
import { TensorType } from "../runtime/tensor_types.js";
import {
  activationRange,
  checkPerTensorQuantization,
  checkRank,
  checkType,
  checkWeightQuantization,
  checkZeroPoint,
  describeTensor,
  perChannelMultipliers,
} from "./common.js";
import { ConvGeometry, checkLayerRanks, conv2dGeometry, depthwiseConv2dGeometry, layerOperands } from "./conv_geometry.js";
import { PrepareContext } from "./kernel.js";

/** Quantization parameters every one of these operators derives. */
export interface QuantizedLayer {
  inputZeroPoint: number;
  outputZeroPoint: number;
  /** Per output channel Q31 multipliers and shifts (repeated for per-tensor weights). */
  multipliers: Int32Array;
  shifts: Int32Array;
  activationMin: number;
  activationMax: number;
  /** Zero-copy view of the constant weights. */
  weightData: Int8Array;
}

/** A validated CONV_2D or DEPTHWISE_CONV_2D layer. */
export interface ConvLayer extends QuantizedLayer, ConvGeometry {
  options: Conv2DOptions;
}

/** A validated FULLY_CONNECTED layer. */
export interface FullyConnectedLayer extends QuantizedLayer {
  options: FullyConnectedOptions;
  batches: number;
  units: number;
  depth: number;
  perChannel: boolean;
}

/** Checks operand counts, int8 types and constant weights; returns input, weights and output. */
function checkInt8Operands(context: PrepareContext, op: OperatorDef, rank: number | null): [TensorDef, TensorDef, TensorDef] {
  const [input, weights, output] = layerOperands(context, op);
  checkType(op, input, "input", [TensorType.INT8]);
  checkType(op, weights, "weights", [TensorType.INT8]);
  checkType(op, output, "output", [TensorType.INT8]);
  if (rank !== null) {
    checkLayerRanks(op, input, weights, output, rank);
  } else {
    checkRank(op, weights, "weights", 2);
  }
  if (!context.isConstant(op.inputs[1]) && rank !== null) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): weights ${describeTensor(weights)} must be a constant in the model, ` +
        `not computed at run time; the file is corrupted`,
    );
  }
  if (!context.isConstant(op.inputs[1])) {
    throw new UnsupportedError(`weights ${describeTensor(weights)} are computed at run time; ${op.name} needs constant weights here`);
  }
  return [input, weights, output];
}

function weightView(context: PrepareContext, op: OperatorDef): Int8Array {
  const bytes = context.constantBytes(op.inputs[1]);
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Quantization checks and parameters shared by conv and depthwise conv. */
function convQuantization(
  context: PrepareContext,
  op: OperatorDef,
  input: TensorDef,
  weights: TensorDef,
  output: TensorDef,
  outputChannels: number,
  channelDimension: number,
  activation: number,
): QuantizedLayer {
  checkPerTensorQuantization(op, input, "input");
  checkPerTensorQuantization(op, output, "output");
  checkWeightQuantization(op, weights, outputChannels, channelDimension);
  const inputZeroPoint = checkZeroPoint(op, input, "input");
  const outputZeroPoint = checkZeroPoint(op, output, "output");
  const { multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], outputChannels);
  const [activationMin, activationMax] = activationRange(op, activation, output);
  return { inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData: weightView(context, op) };
}

export function prepareConv2dLayer(context: PrepareContext, op: OperatorDef): ConvLayer {
  const [input, weights, output] = checkInt8Operands(context, op, 4);
  const options = readConv2DOptions(context.reader, op);
  const geometry = conv2dGeometry(op, input, weights, output, options);
  const quantization = convQuantization(context, op, input, weights, output, geometry.outputChannels, 0, options.activation);
  return { ...quantization, ...geometry, options };
}

export function prepareDepthwiseConv2dLayer(context: PrepareContext, op: OperatorDef): ConvLayer {
  const [input, weights, output] = checkInt8Operands(context, op, 4);
  const options = readDepthwiseConv2DOptions(context.reader, op);
  const geometry = depthwiseConv2dGeometry(op, input, weights, output, options);
  const quantization = convQuantization(context, op, input, weights, output, geometry.outputChannels, 3, options.activation);
  return { ...quantization, ...geometry, options };
}

export function prepareFullyConnectedLayer(context: PrepareContext, op: OperatorDef): FullyConnectedLayer {
  const [input, weights, output] = checkInt8Operands(context, op, null);
  const options = readFullyConnectedOptions(context.reader, op);
  if (options.weightsFormat !== 0) {
    throw new UnsupportedError(`weights format ${options.weightsFormat} (shuffled) is not supported; convert with the default weights format`);
  }

  const [units, depth] = weights.shape;
  const outputShape = output.shape;
  if (outputShape.length === 0 || outputShape[outputShape.length - 1] !== units) {
    throw new InvalidModelError(
      `operator ${op.index} (FULLY_CONNECTED): output ${describeTensor(output)} shape [${outputShape}] must end in ${units} units; the file is corrupted`,
    );
  }
  const batches = units > 0 ? output.elementCount / units : 0;
  if (input.elementCount !== batches * depth) {
    throw new InvalidModelError(
      `operator ${op.index} (FULLY_CONNECTED): input ${describeTensor(input)} has ${input.elementCount} elements, ` +
        `expected ${batches} batches of ${depth}; the file is corrupted`,
    );
  }

  checkPerTensorQuantization(op, input, "input");
  checkPerTensorQuantization(op, output, "output");
  checkWeightQuantization(op, weights, units, 0);
  const inputZeroPoint = checkZeroPoint(op, input, "input");
  const outputZeroPoint = checkZeroPoint(op, output, "output");
  const perChannel = weights.scale.length > 1;
  let multipliers: Int32Array;
  let shifts: Int32Array;
  if (perChannel) {
    ({ multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], units));
  } else {
    // TFLM multiplies the input and weight scales in float32 for fully
    // connected, then divides in double.
    const productScale = Math.fround(input.scale[0] * weights.scale[0]);
    const q = quantizeMultiplier(productScale / output.scale[0], `operator ${op.index} (FULLY_CONNECTED)`);
    multipliers = new Int32Array(units).fill(q.multiplierQ31);
    shifts = new Int32Array(units).fill(q.shift);
  }
  const [activationMin, activationMax] = activationRange(op, options.activation, output);
  return {
    options,
    batches,
    units,
    depth,
    perChannel,
    inputZeroPoint,
    outputZeroPoint,
    multipliers,
    shifts,
    activationMin,
    activationMax,
    weightData: weightView(context, op),
  };
}
