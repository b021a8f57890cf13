// CONV_2D, int8 activations with int8 per-channel (or per-tensor) weights and
// int32 bias, bit-exact with TFLM's reference ConvPerChannel.
//
// Both paths end in the matrix product of gemm.ts, with the input zero point
// folded into the bias:
//   pointwise  1x1 filter, stride 1, one group and a depth of whole words:
//              the input tensor itself is the left operand, one row a pixel.
//   patches    everything else: gatherPatches (im2col.ts) copies a band of
//              output pixels' patches into scratch memory, and the product
//              runs over it, one group at a time.

import { OperatorDef } from "../runtime/model.js";
import { isTflmInt8Operator, readBias } from "./common.js";
import { GEMM_TILE_BYTES, createGemmPlan, gemm } from "./gemm.js";
import { PatchGeometry, gatherPatches, patchRowsPerPass } from "./im2col.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareConv2dLayer } from "./layer_params.js";
import { prepareRequantization } from "./requantize.js";
import { packRows, sumRows, wordsFor } from "./weight_packing.js";

export const conv2dKernel: Kernel = {
  name: "CONV_2D",
  accepts: (context, op) => isTflmInt8Operator(context, op, 1),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const layer = prepareConv2dLayer(context, op);
    const { options, batches, inputHeight, inputWidth, inputDepth, outputChannels } = layer;
    const { filterHeight, filterWidth, filterDepth, groups, vertical, horizontal } = layer;
    const { inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData } = layer;
    const bias = readBias(context, op, 2, outputChannels);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    // Each output channel's weights, (filter_y, filter_x, channel) in order,
    // are one row of the product's right operand.
    const patchLength = filterHeight * filterWidth * filterDepth;
    const packed = packRows(context, weightData, outputChannels, patchLength);
    const weightSums = sumRows(weightData, outputChannels, patchLength);
    const requantization = prepareRequantization(bias, weightSums, inputZeroPoint, multipliers, shifts);
    const plan = createGemmPlan(packed.words, packed.rowWords, requantization, outputZeroPoint, activationMin, activationMax);
    context.notePersistentBytes(requantization.byteLength + GEMM_TILE_BYTES);

    const outputHeight = vertical.outputSize;
    const outputWidth = horizontal.outputSize;
    const macs = batches * outputHeight * outputWidth * outputChannels * patchLength;
    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    // Activations live in the arena at offsets that are multiples of 16, but
    // a constant input may sit anywhere in the model.
    const inputAligned = !context.isConstant(inputIndex) || context.constantBytes(inputIndex).byteOffset % 4 === 0;
    const pointwise =
      filterHeight === 1 && filterWidth === 1 && options.strideHeight === 1 && options.strideWidth === 1 &&
      groups === 1 && inputDepth % 4 === 0 && inputAligned;

    if (pointwise) {
      const pixels = batches * inputHeight * inputWidth;
      const depthWords = inputDepth >> 2;
      let inputWords: Int32Array = new Int32Array(0);
      let outputData: Int8Array = new Int8Array(0);
      return {
        macs,
        bind(memory: MemoryContext): void {
          const inputData = memory.int8(inputIndex);
          inputWords = new Int32Array(inputData.buffer, inputData.byteOffset, pixels * depthWords);
          outputData = memory.int8(outputIndex);
        },
        invoke(): void {
          gemm(plan, inputWords, 0, depthWords, pixels, outputData, 0, outputChannels, 0, outputChannels);
        },
      };
    }

    const rowWords = wordsFor(patchLength);
    const geometry: PatchGeometry = {
      inputHeight,
      inputWidth,
      inputDepth,
      filterHeight,
      filterWidth,
      channels: filterDepth,
      strideHeight: options.strideHeight,
      strideWidth: options.strideWidth,
      dilationHeight: options.dilationHeight,
      dilationWidth: options.dilationWidth,
      padTop: vertical.before,
      padLeft: horizontal.before,
      outputWidth,
      rowBytes: rowWords * 4,
    };
    const outputPixels = outputHeight * outputWidth;
    const pixelsPerPass = patchRowsPerPass(geometry.rowBytes, outputPixels);
    const patchWordCount = pixelsPerPass * rowWords;
    const scratch = context.requestScratch(patchWordCount * 4);
    const channelsPerGroup = outputChannels / groups;
    const inputImageSize = inputHeight * inputWidth * inputDepth;
    const outputImageSize = outputPixels * outputChannels;
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);
    let patchWords: Int32Array = new Int32Array(0);
    let patchBytes: Int8Array = new Int8Array(0);
    return {
      macs,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
        patchWords = memory.scratchInt32(scratch, patchWordCount);
        patchBytes = new Int8Array(patchWords.buffer, patchWords.byteOffset, patchWordCount * 4);
      },
      invoke(): void {
        let batch, firstPixel, count, group;
        for (batch = 0; batch < batches; batch++) {
          for (firstPixel = 0; firstPixel < outputPixels; firstPixel += pixelsPerPass) {
            count = outputPixels - firstPixel < pixelsPerPass ? outputPixels - firstPixel : pixelsPerPass;
            for (group = 0; group < groups; group++) {
              gatherPatches(geometry, inputData, batch * inputImageSize, group * filterDepth, inputZeroPoint, patchBytes, firstPixel, count);
              gemm(
                plan,
                patchWords,
                0,
                rowWords,
                count,
                outputData,
                batch * outputImageSize + firstPixel * outputChannels,
                outputChannels,
                group * channelsPerGroup,
                channelsPerGroup,
              );
            }
          }
        }
      },
    };
  },
};
