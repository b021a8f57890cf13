// Operand and shape checks of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
// that the int8 kernels (layer_params.ts) and the affine kernels share:
// operand counts, ranks, conv groups or the depthwise multiplier, padding and
// the output shape. Types and quantization differ between the two families,
// so each checks those itself.

import { InvalidModelError } from "../runtime/errors.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { Conv2DOptions } from "../runtime/schema/options.js";
import { SpatialPadding, checkInputCount, checkOutputCount, checkRank, checkShape, computePadding } from "./common.js";
import { PrepareContext } from "./kernel.js";

/** Shapes and padding of a validated CONV_2D or DEPTHWISE_CONV_2D layer. */
export interface ConvGeometry {
  batches: number;
  inputHeight: number;
  inputWidth: number;
  inputDepth: number;
  outputChannels: number;
  filterHeight: number;
  filterWidth: number;
  /** Input channels one filter reads: the group depth for conv, 1 for depthwise. */
  filterDepth: number;
  /** Conv groups (1 for depthwise). */
  groups: number;
  /** Output channels per input channel (1 for conv). */
  depthMultiplier: number;
  vertical: SpatialPadding;
  horizontal: SpatialPadding;
}

/** Checks the operand counts (input, weights, optional bias; one output) and returns input, weights and output. */
export function layerOperands(context: PrepareContext, op: OperatorDef): [TensorDef, TensorDef, TensorDef] {
  checkInputCount(op, 2, 3);
  checkOutputCount(op, 1);
  return [context.tensor(op.inputs[0]), context.tensor(op.inputs[1]), context.tensor(op.outputs[0])];
}

export function checkLayerRanks(op: OperatorDef, input: TensorDef, weights: TensorDef, output: TensorDef, rank: number): void {
  checkRank(op, input, "input", rank);
  checkRank(op, weights, "weights", rank);
  checkRank(op, output, "output", rank);
}

/** Derives and checks the geometry of a CONV_2D with OHWI weights, grouped when the input is deeper than the weights. */
export function conv2dGeometry(
  op: OperatorDef,
  input: TensorDef,
  weights: TensorDef,
  output: TensorDef,
  options: Conv2DOptions,
): ConvGeometry {
  const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
  const [outputChannels, filterHeight, filterWidth, filterDepth] = weights.shape;
  if (filterDepth <= 0 || inputDepth % filterDepth !== 0) {
    throw new InvalidModelError(
      `operator ${op.index} (CONV_2D): input depth ${inputDepth} is not a multiple of the weights' depth ${filterDepth}; the file is corrupted`,
    );
  }
  const groups = inputDepth / filterDepth;
  if (outputChannels % groups !== 0) {
    throw new InvalidModelError(
      `operator ${op.index} (CONV_2D): ${outputChannels} output channels do not split into ${groups} groups; the file is corrupted`,
    );
  }
  const vertical = computePadding(op, options.padding, inputHeight, filterHeight, options.strideHeight, options.dilationHeight, "height");
  const horizontal = computePadding(op, options.padding, inputWidth, filterWidth, options.strideWidth, options.dilationWidth, "width");
  checkShape(op, output, "output", [batches, vertical.outputSize, horizontal.outputSize, outputChannels]);
  return {
    batches,
    inputHeight,
    inputWidth,
    inputDepth,
    outputChannels,
    filterHeight,
    filterWidth,
    filterDepth,
    groups,
    depthMultiplier: 1,
    vertical,
    horizontal,
  };
}

/** Derives and checks the geometry of a DEPTHWISE_CONV_2D with [1, h, w, depth * multiplier] weights. */
export function depthwiseConv2dGeometry(
  op: OperatorDef,
  input: TensorDef,
  weights: TensorDef,
  output: TensorDef,
  options: Conv2DOptions,
): ConvGeometry {
  const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
  const [filterBatch, filterHeight, filterWidth, outputChannels] = weights.shape;
  // Old converters wrote depth_multiplier 0, so the weights' shape decides.
  const depthMultiplier = inputDepth > 0 ? outputChannels / inputDepth : 0;
  if (filterBatch !== 1 || !Number.isInteger(depthMultiplier) || depthMultiplier <= 0) {
    throw new InvalidModelError(
      `operator ${op.index} (DEPTHWISE_CONV_2D): weights shape [${weights.shape}] does not match input depth ${inputDepth} ` +
        `(expected [1, h, w, depth * multiplier]); the file is corrupted`,
    );
  }
  const vertical = computePadding(op, options.padding, inputHeight, filterHeight, options.strideHeight, options.dilationHeight, "height");
  const horizontal = computePadding(op, options.padding, inputWidth, filterWidth, options.strideWidth, options.dilationWidth, "width");
  checkShape(op, output, "output", [batches, vertical.outputSize, horizontal.outputSize, outputChannels]);
  return {
    batches,
    inputHeight,
    inputWidth,
    inputDepth,
    outputChannels,
    filterHeight,
    filterWidth,
    filterDepth: 1,
    groups: 1,
    depthMultiplier,
    vertical,
    horizontal,
  };
}
