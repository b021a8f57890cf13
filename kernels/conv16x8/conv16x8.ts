// CONV_2D with int16 activations and int8 per-channel (or per-tensor)
// weights, bit-exact with TFLM's reference 16x8 ConvPerChannel
// (reference/integer_ops/conv.h and micro/kernels/conv.cc, tflite-micro
// commit 90b983c2):
//   - no input or output offset: TFLM ignores int16 zero points, and the
//     quantization spec fixes them at 0, so other zero points are rejected;
//   - an int64 bias (or none, unless Conv2DOptions.quantized_bias_type is
//     INT32) gives an int64 accumulator and the int64
//     MultiplyByQuantizedMultiplier with its Q15 multiplier;
//   - an int32 bias (or none with quantized_bias_type INT32) gives an int32
//     accumulator that wraps, and the int32 MultiplyByQuantizedMultiplier.
//
// For each output pixel and group, the patch of input values the filter
// covers is copied into scratch memory, with 0 for taps outside the image
// (TFLM skips them, which adds the same 0). Each output channel's dot product
// runs over that patch in int32 partial sums of at most 511 products, folded
// into a split sum (runtime/fixedpoint64.ts) that keeps the exact total.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import {
  INT16X8_PRODUCTS_PER_PARTIAL_SUM,
  SPLIT_SUM_MAX_TERMS,
  addInt64High,
  addInt64Low,
  multiplyInt64ByQ15,
  splitSumHigh,
  splitSumLow,
} from "../../runtime/fixedpoint64.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { readConv2DOptions } from "../../runtime/schema/options.js";
import { readConv2DQuantizedBiasType } from "../../runtime/schema/options_transpose_conv.js";
import { TensorType } from "../../runtime/tensor_types.js";
import {
  activationRange,
  checkPerTensorQuantization,
  checkType,
  checkWeightQuantization,
  describeTensor,
  perChannelMultipliers,
  readBias,
} from "../common.js";
import { checkLayerRanks, conv2dGeometry, layerOperands } from "../conv_geometry.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { prepareInt64Requantization, readInt64Bias } from "./bias.js";

/** True for the operators this kernel runs: scheme "tflm" and an int16 input. */
export function isTflm16x8Operator(context: PrepareContext, op: OperatorDef): boolean {
  if (context.scheme.name !== "tflm") return false;
  const inputIndex = op.inputs[0];
  if (inputIndex === undefined || inputIndex < 0) return false;
  try {
    return context.tensor(inputIndex).type === TensorType.INT16;
  } catch {
    return false;
  }
}

/** Throws UnsupportedError unless an int16 tensor has zero point 0. */
export function checkInt16ZeroPoint(op: OperatorDef, tensor: TensorDef, role: string): void {
  const zeroPoint = tensor.zeroPoint.length > 0 ? tensor.zeroPoint[0] : 0;
  if (zeroPoint !== 0) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} is int16 with zero point ${zeroPoint}; int16 ${op.name} needs zero point 0 ` +
        `(TFLite's int16 quantization is symmetric), so requantize the model with symmetric int16 activations`,
    );
  }
}

export const conv16x8Kernel: Kernel = {
  name: "CONV_2D",
  accepts: isTflm16x8Operator,
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, weights, output] = layerOperands(context, op);
    checkType(op, input, "input", [TensorType.INT16]);
    checkType(op, weights, "weights", [TensorType.INT8]);
    checkType(op, output, "output", [TensorType.INT16]);
    checkLayerRanks(op, input, weights, output, 4);
    if (!context.isConstant(op.inputs[1])) {
      throw new UnsupportedError(`weights ${describeTensor(weights)} are computed at run time; ${op.name} needs constant weights here`);
    }
    const options = readConv2DOptions(context.reader, op);
    const geometry = conv2dGeometry(op, input, weights, output, options);
    const { batches, inputHeight, inputWidth, inputDepth, outputChannels, filterHeight, filterWidth, filterDepth, groups } = geometry;

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    checkWeightQuantization(op, weights, outputChannels, 0);
    checkInt16ZeroPoint(op, input, "input");
    checkInt16ZeroPoint(op, output, "output");
    const { multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], outputChannels);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);

    // TFLM picks the accumulator from the bias type, or from the options
    // when there is no bias.
    const biasIndex = op.inputs.length > 2 ? op.inputs[2] : -1;
    let int64Accumulator: boolean;
    if (biasIndex >= 0) {
      const bias = context.tensor(biasIndex);
      checkType(op, bias, "bias", [TensorType.INT32, TensorType.INT64]);
      int64Accumulator = bias.type === TensorType.INT64;
    } else {
      int64Accumulator = readConv2DQuantizedBiasType(context.reader, op) !== TensorType.INT32;
    }

    const patchLength = filterHeight * filterWidth * filterDepth;
    const partialSums = Math.ceil(patchLength / INT16X8_PRODUCTS_PER_PARTIAL_SUM);
    if (partialSums > SPLIT_SUM_MAX_TERMS) {
      throw new UnsupportedError(
        `operator ${op.index} (CONV_2D): a filter of ${patchLength} taps is more than the ` +
          `${SPLIT_SUM_MAX_TERMS * INT16X8_PRODUCTS_PER_PARTIAL_SUM} that the int16 kernel accumulates exactly`,
      );
    }
    const weightBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightBytes.buffer, weightBytes.byteOffset, weightBytes.byteLength);
    if (weightData.length !== outputChannels * patchLength) {
      throw new InvalidModelError(
        `operator ${op.index} (CONV_2D): weights ${describeTensor(weights)} hold ${weightData.length} bytes, ` +
          `expected ${outputChannels * patchLength}; the file is corrupted`,
      );
    }

    const layer: Conv16x8Layer = {
      batches,
      inputHeight,
      inputWidth,
      inputDepth,
      outputHeight: geometry.vertical.outputSize,
      outputWidth: geometry.horizontal.outputSize,
      outputChannels,
      filterHeight,
      filterWidth,
      filterDepth,
      groups,
      strideHeight: options.strideHeight,
      strideWidth: options.strideWidth,
      dilationHeight: options.dilationHeight,
      dilationWidth: options.dilationWidth,
      padTop: geometry.vertical.before,
      padLeft: geometry.horizontal.before,
      activationMin,
      activationMax,
      weightData,
      inputIndex: op.inputs[0],
      outputIndex: op.outputs[0],
      patchScratch: context.requestScratch(Math.ceil(patchLength / 2) * 4),
    };
    // Multipliers, shifts and the two split-sum arrays of createConv16x8.
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength + 8 * outputChannels);

    if (int64Accumulator) {
      const { high: biasHigh, low: biasLow } = readInt64Bias(context, op, biasIndex, outputChannels, [TensorType.INT64]);
      const { multipliersQ15, totalShifts } = prepareInt64Requantization(context, op, multipliers, shifts);
      return createConv16x8(layer, (channel, sumHigh, sumLow) => {
        const accumulatorHigh = splitSumHigh(sumHigh, sumLow);
        const accumulatorLow = splitSumLow(sumHigh, sumLow);
        return multiplyInt64ByQ15(
          addInt64High(accumulatorHigh, accumulatorLow, biasHigh[channel], biasLow[channel]),
          addInt64Low(accumulatorLow, biasLow[channel]),
          multipliersQ15[channel],
          totalShifts[channel],
        );
      });
    }
    const bias32 = readBias(context, op, 2, outputChannels);
    return createConv16x8(layer, (channel, sumHigh, sumLow) => {
      // The int32 accumulator keeps the total modulo 2^32, as TFLM's wrapping int32 adds do.
      const accumulator = (splitSumLow(sumHigh, sumLow) + bias32[channel]) | 0;
      return multiplyByQuantizedMultiplier(accumulator, multipliers[channel], shifts[channel]);
    });
  },
};

/** Shapes, parameters and tensor indices of a validated 16x8 CONV_2D. */
interface Conv16x8Layer {
  batches: number;
  inputHeight: number;
  inputWidth: number;
  inputDepth: number;
  outputHeight: number;
  outputWidth: number;
  outputChannels: number;
  filterHeight: number;
  filterWidth: number;
  filterDepth: number;
  groups: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  activationMin: number;
  activationMax: number;
  weightData: Int8Array;
  inputIndex: number;
  outputIndex: number;
  patchScratch: number;
}

/**
 * Requantizes one output channel's accumulator, given as a split sum
 * (sumHigh * 2^16 + sumLow) of the products, to the unclamped output value.
 */
type Requantize = (channel: number, sumHigh: number, sumLow: number) => number;

function createConv16x8(layer: Conv16x8Layer, requantize: Requantize): PreparedOp {
  const { batches, inputHeight, inputWidth, inputDepth, outputHeight, outputWidth, outputChannels } = layer;
  const { filterHeight, filterWidth, filterDepth, groups, strideHeight, strideWidth, dilationHeight, dilationWidth } = layer;
  const { padTop, padLeft, activationMin, activationMax, weightData, inputIndex, outputIndex, patchScratch } = layer;
  const patchLength = filterHeight * filterWidth * filterDepth;
  const channelsPerGroup = outputChannels / groups;
  const chunk = INT16X8_PRODUCTS_PER_PARTIAL_SUM;
  const macs = batches * outputHeight * outputWidth * outputChannels * patchLength;

  let inputData: Int16Array = new Int16Array(0);
  let outputData: Int16Array = new Int16Array(0);
  let patch: Int16Array = new Int16Array(0);
  // Split sums (runtime/fixedpoint64.ts) of one pixel's output channels.
  const sumsLow = new Int32Array(outputChannels);
  const sumsHigh = new Int32Array(outputChannels);
  return {
    macs,
    bind(memory: MemoryContext): void {
      inputData = memory.int16(inputIndex);
      outputData = memory.int16(outputIndex);
      const words = memory.scratchInt32(patchScratch, Math.ceil(patchLength / 2));
      patch = new Int16Array(words.buffer, words.byteOffset, patchLength);
    },
    invoke(): void {
      let batch, outY, outX, group, filterY, filterX, inY, inX, c, p, source, rowInside, channel, start, end, k, j, value;
      let row0, row1, row2, row3, partial0, partial1, partial2, partial3, x0, x1, x2, x3, outputOffset;
      outputOffset = 0;
      for (batch = 0; batch < batches; batch++) {
        const batchBase = batch * inputHeight;
        for (outY = 0; outY < outputHeight; outY++) {
          const inYOrigin = outY * strideHeight - padTop;
          for (outX = 0; outX < outputWidth; outX++) {
            const inXOrigin = outX * strideWidth - padLeft;
            for (group = 0; group < groups; group++) {
              // Gather the patch, (filter_y, filter_x, channel) in the weights' order.
              p = 0;
              for (filterY = 0; filterY < filterHeight; filterY++) {
                inY = inYOrigin + dilationHeight * filterY;
                rowInside = inY >= 0 && inY < inputHeight;
                for (filterX = 0; filterX < filterWidth; filterX++) {
                  inX = inXOrigin + dilationWidth * filterX;
                  if (rowInside && inX >= 0 && inX < inputWidth) {
                    source = ((batchBase + inY) * inputWidth + inX) * inputDepth + group * filterDepth;
                    for (c = 0; c < filterDepth; c++) patch[p++] = inputData[source + c];
                  } else {
                    for (c = 0; c < filterDepth; c++) patch[p++] = 0;
                  }
                }
              }

              // Dot products over the patch in chunks of at most 511 products,
              // so that each int32 partial sum stays exact. Four channels at a
              // time share each patch value; the rest go one at a time.
              const firstChannel = group * channelsPerGroup;
              const lastChannel = firstChannel + channelsPerGroup;
              sumsLow.fill(0, firstChannel, lastChannel);
              sumsHigh.fill(0, firstChannel, lastChannel);
              for (start = 0; start < patchLength; start = end) {
                end = start + chunk < patchLength ? start + chunk : patchLength;
                for (channel = firstChannel; channel < lastChannel - 3; channel += 4) {
                  // Weight rows of channels channel .. channel + 3, indexed by patch position k.
                  row0 = channel * patchLength;
                  row1 = row0 + patchLength;
                  row2 = row1 + patchLength;
                  row3 = row2 + patchLength;
                  partial0 = 0;
                  partial1 = 0;
                  partial2 = 0;
                  partial3 = 0;
                  for (k = start; k < end - 3; k += 4) {
                    x0 = patch[k];
                    x1 = patch[k + 1];
                    x2 = patch[k + 2];
                    x3 = patch[k + 3];
                    j = row0 + k;
                    partial0 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row1 + k;
                    partial1 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row2 + k;
                    partial2 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row3 + k;
                    partial3 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                  }
                  for (; k < end; k++) {
                    x0 = patch[k];
                    partial0 += x0 * weightData[row0 + k];
                    partial1 += x0 * weightData[row1 + k];
                    partial2 += x0 * weightData[row2 + k];
                    partial3 += x0 * weightData[row3 + k];
                  }
                  sumsLow[channel] += partial0 & 0xffff;
                  sumsHigh[channel] += partial0 >> 16;
                  sumsLow[channel + 1] += partial1 & 0xffff;
                  sumsHigh[channel + 1] += partial1 >> 16;
                  sumsLow[channel + 2] += partial2 & 0xffff;
                  sumsHigh[channel + 2] += partial2 >> 16;
                  sumsLow[channel + 3] += partial3 & 0xffff;
                  sumsHigh[channel + 3] += partial3 >> 16;
                }
                for (; channel < lastChannel; channel++) {
                  partial0 = 0;
                  for (k = start, j = channel * patchLength + start; k < end; k++, j++) partial0 += patch[k] * weightData[j];
                  sumsLow[channel] += partial0 & 0xffff;
                  sumsHigh[channel] += partial0 >> 16;
                }
              }

              for (channel = firstChannel; channel < lastChannel; channel++) {
                value = requantize(channel, sumsHigh[channel], sumsLow[channel]);
                if (value < activationMin) value = activationMin;
                if (value > activationMax) value = activationMax;
                outputData[outputOffset + channel] = value;
              }
            }
            outputOffset += outputChannels;
          }
        }
      }
    },
  };
}
