// DEPTHWISE_CONV_2D, int8 activations with int8 per-channel (or per-tensor)
// weights and int32 bias, as TFLM's reference DepthwiseConvPerChannel.
// Output channel = input channel * depthMultiplier + m.

import { InvalidModelError } from "../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../runtime/fixedpoint.js";
import { OperatorDef } from "../runtime/model.js";
import { readDepthwiseConv2DOptions } from "../runtime/schema/options.js";
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
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { tapRange } from "./taps.js";

export const depthwiseConv2dKernel: Kernel = {
  name: "DEPTHWISE_CONV_2D",
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
      throw new InvalidModelError(`operator ${op.index} (DEPTHWISE_CONV_2D): weights ${describeTensor(weights)} must be constant`);
    }

    const options = readDepthwiseConv2DOptions(context.reader, op);
    const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
    const [filterBatch, filterHeight, filterWidth, outputChannels] = weights.shape;
    // Old converters wrote depth_multiplier 0; the weights' shape is authoritative.
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

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    checkWeightQuantization(op, weights, outputChannels, 3);
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    const outputZeroPoint = checkZeroPoint(op, output, "output");
    const { multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], outputChannels);
    const bias = readBias(context, op, 2, outputChannels);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const outputHeight = vertical.outputSize;
    const outputWidth = horizontal.outputSize;
    const rows = tapRange(outputHeight, options.strideHeight, vertical.before, options.dilationHeight, filterHeight, inputHeight);
    const columns = tapRange(outputWidth, options.strideWidth, horizontal.before, options.dilationWidth, filterWidth, inputWidth);
    context.notePersistentBytes(rows.byteLength + columns.byteLength);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * outputHeight * outputWidth * outputChannels * filterHeight * filterWidth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        const input = inputData;
        const filter = weightData;
        const out = outputData;
        const inputOffset = -inputZeroPoint;
        const strideH = options.strideHeight;
        const strideW = options.strideWidth;
        const dilationH = options.dilationHeight;
        const dilationW = options.dilationWidth;
        const padTop = vertical.before;
        const padLeft = horizontal.before;

        const inputRowStride = inputWidth * inputDepth;
        const filterRowStride = filterWidth * outputChannels;
        let outIndex = 0;
        for (let batch = 0; batch < batches; batch++) {
          const batchBase = batch * inputHeight * inputRowStride;
          for (let outY = 0; outY < outputHeight; outY++) {
            const inYOrigin = outY * strideH - padTop;
            const filterYStart = rows[2 * outY];
            const filterYEnd = rows[2 * outY + 1];
            for (let outX = 0; outX < outputWidth; outX++) {
              const inXOrigin = outX * strideW - padLeft;
              const filterXStart = columns[2 * outX];
              const filterXEnd = columns[2 * outX + 1];
              for (let inChannel = 0; inChannel < inputDepth; inChannel++) {
                for (let m = 0; m < depthMultiplier; m++) {
                  const outChannel = inChannel * depthMultiplier + m;
                  // Range: |acc| <= taps * 127 * 255 plus |bias|, inside int32.
                  let acc = bias[outChannel];
                  for (let filterY = filterYStart; filterY < filterYEnd; filterY++) {
                    const inY = inYOrigin + dilationH * filterY;
                    const rowBase = batchBase + inY * inputRowStride + inChannel;
                    const filterRowBase = filterY * filterRowStride + outChannel;
                    for (let filterX = filterXStart; filterX < filterXEnd; filterX++) {
                      const inX = inXOrigin + dilationW * filterX;
                      acc += filter[filterRowBase + filterX * outputChannels] * (input[rowBase + inX * inputDepth] + inputOffset);
                    }
                  }

                  let value = multiplyByQuantizedMultiplier(acc, multipliers[outChannel], shifts[outChannel]) + outputZeroPoint;
                  if (value < activationMin) value = activationMin;
                  if (value > activationMax) value = activationMax;
                  out[outIndex++] = value;
                }
              }
            }
          }
        }
      },
    };
  },
};
