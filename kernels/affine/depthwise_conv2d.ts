// DEPTHWISE_CONV_2D with uint8 or int8 activations and uint8 or int8
// weights ([1, h, w, channels * multiplier], per-tensor or per-channel along
// dimension 3, any zero points), stride, dilation and SAME or VALID
// padding. Output channel ic * multiplier + m reads input channel ic. The
// output is requantized by the model's scheme, or is the raw int32
// accumulator.
//
// Each output sums over the filter taps inside the input only: a padding
// tap would add (zx - zx) * (w - zw) = 0. With n in-bounds taps the folded
// accumulator (accumulator_common.ts) is
//   acc = sum x * w - zw * sum x - zx * (sum over in-bounds taps of w - n * zw),
// whose last term is precomputed for interior pixels, where n is the whole
// filter, and summed over the in-bounds taps at the border.

import { OperatorDef } from "../../runtime/model.js";
import { readDepthwiseConv2DOptions } from "../../runtime/schema/options.js";
import { checkLayerRanks, depthwiseConv2dGeometry, layerOperands } from "../conv_geometry.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { tapRange } from "../taps.js";
import {
  AccumulatorOutputArray,
  QuantizedArray,
  channelOffsets,
  checkAccumulatorDepth,
  isRawOutput,
  outputView,
  prepareOutputStage,
  quantizedView,
  readAffineBias,
  readAffineWeights,
  readInputQuantization,
} from "./accumulator_common.js";

export const affineDepthwiseConv2dKernel: Kernel = {
  name: "DEPTHWISE_CONV_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, filter, output] = layerOperands(context, op);
    checkLayerRanks(op, input, filter, output, 4);
    const options = readDepthwiseConv2DOptions(context.reader, op);
    const geometry = depthwiseConv2dGeometry(op, input, filter, output, options);
    const { batches, inputHeight, inputWidth, inputDepth, outputChannels, filterHeight, filterWidth, depthMultiplier } = geometry;
    const { vertical, horizontal } = geometry;
    const { strideHeight, strideWidth, dilationHeight, dilationWidth } = options;
    const outputHeight = vertical.outputSize;
    const outputWidth = horizontal.outputSize;

    const raw = isRawOutput(output);
    const inputQuantization = readInputQuantization(op, input, "input", !raw);
    const weights = readAffineWeights(context, op, 1, outputChannels, 3, !raw);
    const bias = readAffineBias(context, op, 2, outputChannels);
    const taps = filterHeight * filterWidth;
    checkAccumulatorDepth(op, taps, `a ${filterHeight}x${filterWidth} filter`);
    const stage = prepareOutputStage(
      context, op, "conv", inputQuantization, weights.scales, bias, output, outputChannels, options.activation,
    );
    const { requantizer, min, max } = stage;
    const inputZeroPoint = inputQuantization.zeroPoint;
    const weightZeroPoints = weights.zeroPoints;
    const hasWeightZeroPoints = weights.hasZeroPoints;
    const weightData = weights.data;
    // Weight (channel, tap) is at tap * outputChannels + channel.
    const interiorOffsets = channelOffsets(weights, outputChannels, taps, 1, outputChannels, inputZeroPoint);
    const rows = tapRange(outputHeight, strideHeight, vertical.before, dilationHeight, filterHeight, inputHeight);
    const columns = tapRange(outputWidth, strideWidth, horizontal.before, dilationWidth, filterWidth, inputWidth);
    context.notePersistentBytes(interiorOffsets.byteLength + rows.byteLength + columns.byteLength);

    const padTop = vertical.before;
    const padLeft = horizontal.before;
    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    // Per output pixel: each channel's running sum of x * w, its sum of
    // in-bounds weights (border pixels only) and each input channel's sum of
    // inputs (only with weight zero points).
    const scratch = context.requestScratch(4 * (2 * outputChannels + inputDepth));
    let inputData: QuantizedArray = new Uint8Array(0);
    let outputData: AccumulatorOutputArray = new Uint8Array(0);
    let products: Int32Array = new Int32Array(0);
    let weightSums: Int32Array = new Int32Array(0);
    let inputSums: Int32Array = new Int32Array(0);

    return {
      macs: batches * outputHeight * outputWidth * outputChannels * taps,
      bind(memory: MemoryContext): void {
        inputData = quantizedView(memory, inputIndex, input.type);
        outputData = outputView(memory, outputIndex, output.type);
        const sums = memory.scratchInt32(scratch, 2 * outputChannels + inputDepth);
        products = sums.subarray(0, outputChannels);
        weightSums = sums.subarray(outputChannels, 2 * outputChannels);
        inputSums = sums.subarray(2 * outputChannels);
      },
      invoke(): void {
        let batch, outY, outX, originY, originX, rowFirst, rowEnd, columnFirst, columnEnd, interior, tapCount;
        let filterY, filterX, inputStart, weightStart, inputChannel, channel, m, x, offset, acc, value;
        let outputOffset = 0;
        for (batch = 0; batch < batches; batch++) {
          for (outY = 0; outY < outputHeight; outY++) {
            originY = outY * strideHeight - padTop;
            rowFirst = rows[2 * outY];
            rowEnd = rows[2 * outY + 1];
            for (outX = 0; outX < outputWidth; outX++) {
              originX = outX * strideWidth - padLeft;
              columnFirst = columns[2 * outX];
              columnEnd = columns[2 * outX + 1];
              tapCount = (rowEnd - rowFirst) * (columnEnd - columnFirst);
              interior = tapCount === taps;
              for (channel = 0; channel < outputChannels; channel++) {
                products[channel] = 0;
                weightSums[channel] = 0;
              }
              for (inputChannel = 0; inputChannel < inputDepth; inputChannel++) inputSums[inputChannel] = 0;

              // Channels innermost: one in-bounds tap's input pixel and weights are contiguous.
              for (filterY = rowFirst; filterY < rowEnd; filterY++) {
                for (filterX = columnFirst; filterX < columnEnd; filterX++) {
                  inputStart = ((batch * inputHeight + originY + filterY * dilationHeight) * inputWidth + originX + filterX * dilationWidth) * inputDepth;
                  weightStart = (filterY * filterWidth + filterX) * outputChannels;
                  if (depthMultiplier === 1) {
                    for (channel = 0; channel < outputChannels; channel++) {
                      products[channel] += inputData[inputStart + channel] * weightData[weightStart + channel];
                    }
                  } else {
                    for (inputChannel = 0, channel = 0; inputChannel < inputDepth; inputChannel++) {
                      x = inputData[inputStart + inputChannel];
                      for (m = 0; m < depthMultiplier; m++, channel++) products[channel] += x * weightData[weightStart + channel];
                    }
                  }
                  if (hasWeightZeroPoints) {
                    for (inputChannel = 0; inputChannel < inputDepth; inputChannel++) inputSums[inputChannel] += inputData[inputStart + inputChannel];
                  }
                  if (!interior) {
                    for (channel = 0; channel < outputChannels; channel++) weightSums[channel] += weightData[weightStart + channel];
                  }
                }
              }

              for (inputChannel = 0, channel = 0; inputChannel < inputDepth; inputChannel++) {
                for (m = 0; m < depthMultiplier; m++, channel++) {
                  offset = interior
                    ? interiorOffsets[channel]
                    : inputZeroPoint * (weightSums[channel] - tapCount * weightZeroPoints[channel]);
                  acc = products[channel] - weightZeroPoints[channel] * inputSums[inputChannel] - offset;
                  value = requantizer.requantize(acc, channel);
                  if (value < min) value = min;
                  else if (value > max) value = max;
                  outputData[outputOffset + channel] = value;
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
