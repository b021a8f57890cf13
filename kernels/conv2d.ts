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

import { InvalidModelError } from "../runtime/errors.js";
import { OperatorDef } from "../runtime/model.js";
import { readConv2DOptions } from "../runtime/schema/options.js";
import { TensorType } from "../runtime/tensor_types.js";
import {
  activationRange,
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkRank,
  checkShape,
  checkType,
  checkWeightQuantization,
  checkZeroPoint,
  computePadding,
  describeTensor,
  perChannelMultipliers,
  readBias,
} from "./common.js";
import { GEMM_TILE_BYTES, createGemmPlan, gemm } from "./gemm.js";
import { PatchGeometry, gatherPatches, patchRowsPerPass } from "./im2col.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareRequantization } from "./requantize.js";
import { packRows, sumRows, wordsFor } from "./weight_packing.js";

export const conv2dKernel: Kernel = {
  name: "CONV_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 3);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const weights = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8]);
    checkType(op, weights, "weights", [TensorType.INT8]);
    checkType(op, output, "output", [TensorType.INT8]);
    checkRank(op, input, "input", 4);
    checkRank(op, weights, "weights", 4);
    checkRank(op, output, "output", 4);
    if (!context.isConstant(op.inputs[1])) {
      throw new InvalidModelError(`operator ${op.index} (CONV_2D): weights ${describeTensor(weights)} must be constant`);
    }

    const options = readConv2DOptions(context.reader, op);
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

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    checkWeightQuantization(op, weights, outputChannels, 0);
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    const outputZeroPoint = checkZeroPoint(op, output, "output");
    const { multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], outputChannels);
    const bias = readBias(context, op, 2, outputChannels);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    // Each output channel's weights, (filter_y, filter_x, channel) in order,
    // are one row of the product's right operand.
    const patchLength = filterHeight * filterWidth * filterDepth;
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
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
