// DEPTHWISE_CONV_2D, int8 activations with int8 per-channel (or per-tensor)
// weights and int32 bias, bit-exact with TFLM's reference
// DepthwiseConvPerChannel. Output channel = input channel * depthMultiplier + m.
//
// Three paths, chosen at prepare:
//   3x3        3x3 filter, dilation 1, horizontal stride 1 or 2: the sliding
//              window of depthwise_3x3.ts.
//   patches    one input channel: an ordinary convolution with
//              depthMultiplier output channels, run as gathered patches
//              times transposed weights (im2col.ts and gemm.ts).
//   general    everything else: one output channel at a time over the
//              in-bounds taps, as the reference loops, with the
//              requantization inlined.

import { OperatorDef } from "../runtime/model.js";
import { isTflmInt8Operator, readBias } from "./common.js";
import { Depthwise3x3Plan, depthwise3x3 } from "./depthwise_3x3.js";
import { GEMM_TILE_BYTES, createGemmPlan, gemm } from "./gemm.js";
import { PatchGeometry, gatherPatches, patchRowsPerPass } from "./im2col.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareDepthwiseConv2dLayer } from "./layer_params.js";
import { ChannelRequantization, NARROW_FORM, WIDE_FORM, prepareRequantization, requantizeExact } from "./requantize.js";
import { tapRange } from "./taps.js";
import { packChannelColumns, sumColumns } from "./weight_packing.js";

/** Everything the general path needs, built at prepare. */
interface DepthwisePlan {
  readonly batches: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputDepth: number;
  readonly depthMultiplier: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
  /** In-bounds filter row and column ranges of each output row and column (taps.ts). */
  readonly rows: Int32Array;
  readonly columns: Int32Array;
  readonly weights: Int8Array;
  /** Unfolded int32 bias: the general path subtracts the zero point from each input. */
  readonly bias: Int32Array;
  readonly requantization: ChannelRequantization;
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly activationMin: number;
  readonly activationMax: number;
}

export const depthwiseConv2dKernel: Kernel = {
  name: "DEPTHWISE_CONV_2D",
  accepts: (context, op) => isTflmInt8Operator(context, op, 1),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const layer = prepareDepthwiseConv2dLayer(context, op);
    const { options, batches, inputHeight, inputWidth, inputDepth, outputChannels, depthMultiplier } = layer;
    const { filterHeight, filterWidth, vertical, horizontal } = layer;
    const { inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData } = layer;
    const bias = readBias(context, op, 2, outputChannels);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const taps = filterHeight * filterWidth;
    const weightSums = sumColumns(weightData, taps, outputChannels);
    const requantization = prepareRequantization(bias, weightSums, inputZeroPoint, multipliers, shifts);
    context.notePersistentBytes(requantization.byteLength);

    const outputHeight = vertical.outputSize;
    const outputWidth = horizontal.outputSize;
    const macs = batches * outputHeight * outputWidth * outputChannels * taps;
    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);
    const bindTensors = (memory: MemoryContext): void => {
      inputData = memory.int8(inputIndex);
      outputData = memory.int8(outputIndex);
    };

    const isThreeByThree =
      filterHeight === 3 && filterWidth === 3 && options.dilationHeight === 1 && options.dilationWidth === 1 &&
      (options.strideWidth === 1 || options.strideWidth === 2) && vertical.before <= 1 && horizontal.before <= 1;
    if (isThreeByThree) {
      const plan: Depthwise3x3Plan = {
        batches,
        inputHeight,
        inputWidth,
        inputDepth,
        depthMultiplier,
        outputHeight,
        outputWidth,
        strideHeight: options.strideHeight,
        strideWidth: options.strideWidth,
        padTop: vertical.before,
        padLeft: horizontal.before,
        weights: weightData,
        requantization,
        inputZeroPoint,
        outputZeroPoint,
        activationMin,
        activationMax,
      };
      return {
        macs,
        bind: bindTensors,
        invoke(): void {
          depthwise3x3(plan, inputData, outputData);
        },
      };
    }

    if (inputDepth === 1) {
      // One input channel: output channel m is an ordinary convolution with
      // the weights' column m as its filter.
      const packed = packChannelColumns(context, weightData, taps, outputChannels);
      const plan = createGemmPlan(packed.words, packed.rowWords, requantization, outputZeroPoint, activationMin, activationMax);
      context.notePersistentBytes(GEMM_TILE_BYTES);
      const geometry: PatchGeometry = {
        inputHeight,
        inputWidth,
        inputDepth,
        filterHeight,
        filterWidth,
        channels: 1,
        strideHeight: options.strideHeight,
        strideWidth: options.strideWidth,
        dilationHeight: options.dilationHeight,
        dilationWidth: options.dilationWidth,
        padTop: vertical.before,
        padLeft: horizontal.before,
        outputWidth,
        rowBytes: packed.rowWords * 4,
      };
      const outputPixels = outputHeight * outputWidth;
      const pixelsPerPass = patchRowsPerPass(geometry.rowBytes, outputPixels);
      const patchWordCount = pixelsPerPass * packed.rowWords;
      const scratch = context.requestScratch(patchWordCount * 4);
      let patchWords: Int32Array = new Int32Array(0);
      let patchBytes: Int8Array = new Int8Array(0);
      return {
        macs,
        bind(memory: MemoryContext): void {
          bindTensors(memory);
          patchWords = memory.scratchInt32(scratch, patchWordCount);
          patchBytes = new Int8Array(patchWords.buffer, patchWords.byteOffset, patchWordCount * 4);
        },
        invoke(): void {
          let batch, firstPixel, count;
          for (batch = 0; batch < batches; batch++) {
            for (firstPixel = 0; firstPixel < outputPixels; firstPixel += pixelsPerPass) {
              count = outputPixels - firstPixel < pixelsPerPass ? outputPixels - firstPixel : pixelsPerPass;
              gatherPatches(geometry, inputData, batch * inputHeight * inputWidth, 0, inputZeroPoint, patchBytes, firstPixel, count);
              gemm(
                plan,
                patchWords,
                0,
                packed.rowWords,
                count,
                outputData,
                (batch * outputPixels + firstPixel) * outputChannels,
                outputChannels,
                0,
                outputChannels,
              );
            }
          }
        },
      };
    }

    const rows = tapRange(outputHeight, options.strideHeight, vertical.before, options.dilationHeight, filterHeight, inputHeight);
    const columns = tapRange(outputWidth, options.strideWidth, horizontal.before, options.dilationWidth, filterWidth, inputWidth);
    context.notePersistentBytes(rows.byteLength + columns.byteLength);
    const plan: DepthwisePlan = {
      batches,
      inputHeight,
      inputWidth,
      inputDepth,
      depthMultiplier,
      outputHeight,
      outputWidth,
      filterWidth,
      strideHeight: options.strideHeight,
      strideWidth: options.strideWidth,
      dilationHeight: options.dilationHeight,
      dilationWidth: options.dilationWidth,
      padTop: vertical.before,
      padLeft: horizontal.before,
      rows,
      columns,
      weights: weightData,
      bias,
      requantization,
      inputZeroPoint,
      outputZeroPoint,
      activationMin,
      activationMax,
    };
    return {
      macs,
      bind: bindTensors,
      invoke(): void {
        depthwiseGeneral(plan, inputData, outputData);
      },
    };
  },
};

/**
 * Runs the general path: the reference loop nest with the output channel
 * outermost, so that a channel's bias and multiplier are read once.
 */
function depthwiseGeneral(plan: DepthwisePlan, input: Int8Array, output: Int8Array): void {
  const inputHeight = plan.inputHeight;
  const inputWidth = plan.inputWidth;
  const inputDepth = plan.inputDepth;
  const depthMultiplier = plan.depthMultiplier;
  const outputHeight = plan.outputHeight;
  const outputWidth = plan.outputWidth;
  const outputChannels = inputDepth * depthMultiplier;
  const filterRowStride = plan.filterWidth * outputChannels;
  const inputRowStride = inputWidth * inputDepth;
  const dilationRowStride = plan.dilationHeight * inputRowStride;
  const dilationColumnStride = plan.dilationWidth * inputDepth;
  const rows = plan.rows;
  const columns = plan.columns;
  const weights = plan.weights;
  const biases = plan.bias;
  const requantization = plan.requantization;
  const multipliers = requantization.multipliers;
  const shifts = requantization.shifts;
  const forms = requantization.forms;
  const inputOffset = -plan.inputZeroPoint;
  const outputZeroPoint = plan.outputZeroPoint;
  const activationMin = plan.activationMin;
  const activationMax = plan.activationMax;
  const imul = Math.imul;

  let batch, inChannel, m, channel, outY, outX, filterY, filterX, filterYEnd, filterXStart, filterXEnd;
  let imageBase, rowBase, inputIndex, filterIndex, outputIndex, bias;
  let form, multiplier, limb0, limb1, limb2, rightShift, roundingOffset;
  let acc, high, low, middle1, middle2, rounded, value;

  for (batch = 0; batch < plan.batches; batch++) {
    imageBase = batch * inputHeight * inputRowStride;
    for (inChannel = 0; inChannel < inputDepth; inChannel++) {
      for (m = 0; m < depthMultiplier; m++) {
        channel = inChannel * depthMultiplier + m;
        bias = biases[channel];
        form = forms[channel];
        multiplier = multipliers[channel];
        // Limbs of the multiplier for the channel's form (requantize.ts).
        limb0 = form === NARROW_FORM ? multiplier & 0x3ff : multiplier & 0xffff;
        limb1 = form === NARROW_FORM ? (multiplier >> 10) & 0x7ff : multiplier >> 16;
        limb2 = multiplier >> 21;
        rightShift = -shifts[channel];
        roundingOffset = 1 << (rightShift - 1);
        outputIndex = batch * outputHeight * outputWidth * outputChannels + channel;
        for (outY = 0; outY < outputHeight; outY++) {
          filterYEnd = rows[2 * outY + 1];
          for (outX = 0; outX < outputWidth; outX++) {
            filterXStart = columns[2 * outX];
            filterXEnd = columns[2 * outX + 1];
            // Range: accumulatorBound (requantize.ts) bounds |acc|.
            acc = bias;
            for (filterY = rows[2 * outY]; filterY < filterYEnd; filterY++) {
              rowBase =
                imageBase + (outY * plan.strideHeight - plan.padTop) * inputRowStride + filterY * dilationRowStride +
                (outX * plan.strideWidth - plan.padLeft) * inputDepth + inChannel;
              inputIndex = rowBase + filterXStart * dilationColumnStride;
              filterIndex = filterY * filterRowStride + filterXStart * outputChannels + channel;
              for (filterX = filterXStart; filterX < filterXEnd; filterX++) {
                acc += weights[filterIndex] * (input[inputIndex] + inputOffset);
                inputIndex += dilationColumnStride;
                filterIndex += outputChannels;
              }
            }
            // The requantization forms of requantize.ts, which explains each step.
            if (form === NARROW_FORM) {
              middle1 = acc * limb1 + ((acc * limb0) >> 10);
              rounded = (acc * limb2 + ((middle1 + 0x100000) >> 11)) >> 10;
              value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
            } else if (form === WIDE_FORM) {
              high = acc >> 16;
              low = acc & 0xffff;
              middle1 = high * limb0 + (imul(low, limb0) >>> 16);
              middle2 = low * limb1 + (middle1 & 0xffff);
              rounded = ((high * limb1 + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
              value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
            } else {
              value = requantizeExact(acc, requantization, channel) + outputZeroPoint;
            }
            if (value < activationMin) value = activationMin;
            else if (value > activationMax) value = activationMax;
            output[outputIndex] = value;
            outputIndex += outputChannels;
          }
        }
      }
    }
  }
}
