// CONV_2D with uint8 or int8 activations and uint8 or int8 weights (OHWI,
// per-tensor or per-channel, any zero points), stride, dilation, groups
// (input depth / filter depth) and SAME or VALID padding. The output is
// requantized by the model's scheme, or is the raw int32 accumulator
// (ONNX ConvInteger).
//
// For every output pixel and group, the filter's patch of input is either
// read in place (a 1x1 filter, whose patch is contiguous) or gathered into
// scratch memory, with the input zero point written for padding taps so
// that they add (zx - zx) * (w - zw) = 0 to the accumulator. Then every
// output channel of the group is one dot product with its OHWI weight row,
// which has the same (filter_y, filter_x, channel) order as the patch,
// computed four rows at a time (dotProducts).
// accumulator_common.ts folds the zero points and bounds the sums.

import { OperatorDef } from "../../runtime/model.js";
import { readConv2DOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkLayerRanks, conv2dGeometry, layerOperands } from "../conv_geometry.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ROW_BLOCK,
  AccumulatorOutputArray,
  QuantizedArray,
  channelOffsets,
  checkAccumulatorDepth,
  dotProducts,
  isRawOutput,
  outputView,
  prepareOutputStage,
  quantizedView,
  readAffineBias,
  readAffineWeights,
  readInputQuantization,
} from "./accumulator_common.js";

export const affineConv2dKernel: Kernel = {
  name: "CONV_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, filter, output] = layerOperands(context, op);
    checkLayerRanks(op, input, filter, output, 4);
    const options = readConv2DOptions(context.reader, op);
    const geometry = conv2dGeometry(op, input, filter, output, options);
    const { batches, inputHeight, inputWidth, inputDepth, outputChannels, filterHeight, filterWidth, filterDepth, groups } = geometry;
    const { strideHeight, strideWidth, dilationHeight, dilationWidth } = options;
    const outputHeight = geometry.vertical.outputSize;
    const outputWidth = geometry.horizontal.outputSize;

    const raw = isRawOutput(output);
    const inputQuantization = readInputQuantization(op, input, "input", !raw);
    const weights = readAffineWeights(context, op, 1, outputChannels, 0, !raw);
    const bias = readAffineBias(context, op, 2, outputChannels);
    const patchLength = filterHeight * filterWidth * filterDepth;
    checkAccumulatorDepth(op, patchLength, `a ${filterHeight}x${filterWidth} filter over ${filterDepth} channels`);
    const stage = prepareOutputStage(
      context, op, "conv", inputQuantization, weights.scales, bias, output, outputChannels, options.activation,
    );
    const { requantizer, min, max } = stage;
    const inputZeroPoint = inputQuantization.zeroPoint;
    const weightZeroPoints = weights.zeroPoints;
    const hasWeightZeroPoints = weights.hasZeroPoints;
    const offsets = channelOffsets(weights, outputChannels, patchLength, patchLength, 1, inputZeroPoint);
    const dots = new Int32Array(ROW_BLOCK);
    context.notePersistentBytes(offsets.byteLength + dots.byteLength);
    const weightData = weights.data;

    // A 1x1 filter reads one pixel's channels, which are contiguous and, for
    // SAME or VALID padding, always inside the input.
    const readsInPlace = filterHeight === 1 && filterWidth === 1;
    const patchWords = (patchLength + 3) >> 2;
    const scratch = readsInPlace ? -1 : context.requestScratch(4 * patchWords);
    const channelsPerGroup = outputChannels / groups;
    const padTop = geometry.vertical.before;
    const padLeft = geometry.horizontal.before;
    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const inputType = input.type;
    let inputData: QuantizedArray = new Uint8Array(0);
    let outputData: AccumulatorOutputArray = new Uint8Array(0);
    let patch: QuantizedArray = new Uint8Array(0);

    return {
      macs: batches * outputHeight * outputWidth * outputChannels * patchLength,
      bind(memory: MemoryContext): void {
        inputData = quantizedView(memory, inputIndex, inputType);
        outputData = outputView(memory, outputIndex, output.type);
        if (!readsInPlace) {
          const words = memory.scratchInt32(scratch, patchWords);
          patch = inputType === TensorType.INT8
            ? new Int8Array(words.buffer, words.byteOffset, patchLength)
            : new Uint8Array(words.buffer, words.byteOffset, patchLength);
        }
      },
      invoke(): void {
        let batch, outY, outX, originY, originX, group, filterY, filterX, inY, inX, k, rowStart, patchIndex;
        let source, sourceStart, sourceEnd, inputSum, channel, channelEnd, count, j, acc, value;
        let outputOffset = 0;
        for (batch = 0; batch < batches; batch++) {
          for (outY = 0; outY < outputHeight; outY++) {
            for (outX = 0; outX < outputWidth; outX++) {
              originY = outY * strideHeight - padTop;
              originX = outX * strideWidth - padLeft;
              for (group = 0; group < groups; group++) {
                // The patch: in place, or gathered with zero-point padding.
                if (readsInPlace) {
                  source = inputData;
                  sourceStart = ((batch * inputHeight + originY) * inputWidth + originX) * inputDepth + group * filterDepth;
                } else {
                  source = patch;
                  sourceStart = 0;
                  patchIndex = 0;
                  for (filterY = 0; filterY < filterHeight; filterY++) {
                    inY = originY + filterY * dilationHeight;
                    for (filterX = 0; filterX < filterWidth; filterX++) {
                      inX = originX + filterX * dilationWidth;
                      if (inY >= 0 && inY < inputHeight && inX >= 0 && inX < inputWidth) {
                        rowStart = ((batch * inputHeight + inY) * inputWidth + inX) * inputDepth + group * filterDepth;
                        for (k = 0; k < filterDepth; k++) patch[patchIndex++] = inputData[rowStart + k];
                      } else {
                        for (k = 0; k < filterDepth; k++) patch[patchIndex++] = inputZeroPoint;
                      }
                    }
                  }
                }

                sourceEnd = sourceStart + patchLength;
                inputSum = 0;
                if (hasWeightZeroPoints) {
                  for (k = sourceStart; k < sourceEnd; k++) inputSum += source[k];
                }

                channelEnd = (group + 1) * channelsPerGroup;
                for (channel = group * channelsPerGroup; channel < channelEnd; channel += ROW_BLOCK) {
                  count = channelEnd - channel < ROW_BLOCK ? channelEnd - channel : ROW_BLOCK;
                  dotProducts(source, sourceStart, weightData, channel, patchLength, count, dots);
                  for (j = 0; j < count; j++) {
                    acc = dots[j] - weightZeroPoints[channel + j] * inputSum - offsets[channel + j];
                    value = requantizer.requantize(acc, channel + j);
                    if (value < min) value = min;
                    else if (value > max) value = max;
                    outputData[outputOffset + channel + j] = value;
                  }
                }
              }
              outputOffset += outputChannels;
            }
          }
        }
      },
    };
  },
};
