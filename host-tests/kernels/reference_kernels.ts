// Reference kernels for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the
// plain loops of TFLM's reference ConvPerChannel, DepthwiseConvPerChannel and
// FullyConnected, as microq ran them before its kernels were optimized. They
// passed the TFLM golden and layer-dump tests, and they stay out of the device
// bundle. conv_paths.test.ts checks the optimized kernels against them bit for
// bit, and bench/kernels/ measures them as the "before" figures.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { readConv2DOptions, readDepthwiseConv2DOptions, readFullyConnectedOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
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
} from "../../kernels/common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { findKernel } from "../../kernels/registry.js";
import { tapRange } from "../../kernels/taps.js";

export const referenceConv2dKernel: Kernel = {
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

    const outputHeight = vertical.outputSize;
    const outputWidth = horizontal.outputSize;
    const rows = tapRange(outputHeight, options.strideHeight, vertical.before, options.dilationHeight, filterHeight, inputHeight);
    const columns = tapRange(outputWidth, options.strideWidth, horizontal.before, options.dilationWidth, filterWidth, inputWidth);
    context.notePersistentBytes(rows.byteLength + columns.byteLength);
    const outputChannelsPerGroup = outputChannels / groups;

    const inputIndex = op.inputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const outputIndex = op.outputs[0];
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);

    return {
      macs: batches * outputHeight * outputWidth * outputChannels * filterHeight * filterWidth * filterDepth,
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
              for (let outChannel = 0; outChannel < outputChannels; outChannel++) {
                const group = (outChannel / outputChannelsPerGroup) | 0;
                const inChannelBase = group * filterDepth;
                // Range: |acc| <= taps * 127 * 255 plus |bias|; for the
                // filter sizes accepted here this stays inside int32.
                let acc = bias[outChannel];
                for (let filterY = filterYStart; filterY < filterYEnd; filterY++) {
                  const inY = inYOrigin + dilationH * filterY;
                  const rowBase = batchBase + inY * inputRowStride + inChannelBase;
                  const filterRowBase = ((outChannel * filterHeight + filterY) * filterWidth) * filterDepth;
                  for (let filterX = filterXStart; filterX < filterXEnd; filterX++) {
                    const inX = inXOrigin + dilationW * filterX;
                    const inBase = rowBase + inX * inputDepth;
                    const filterBase = filterRowBase + filterX * filterDepth;
                    for (let inChannel = 0; inChannel < filterDepth; inChannel++) {
                      acc += filter[filterBase + inChannel] * (input[inBase + inChannel] + inputOffset);
                    }
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
      },
    };
  },
};

export const referenceDepthwiseConv2dKernel: Kernel = {
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

export const referenceFullyConnectedKernel: Kernel = {
  name: "FULLY_CONNECTED",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 3);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const weights = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8]);
    checkType(op, weights, "weights", [TensorType.INT8]);
    checkType(op, output, "output", [TensorType.INT8]);
    checkRank(op, weights, "weights", 2);
    if (!context.isConstant(op.inputs[1])) {
      throw new UnsupportedError(`weights ${describeTensor(weights)} are computed at run time; FULLY_CONNECTED needs constant weights here`);
    }
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
    let multipliers: Int32Array;
    let shifts: Int32Array;
    if (weights.scale.length > 1) {
      ({ multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], units));
    } else {
      // float32 product of the scales, then a double division.
      const productScale = Math.fround(input.scale[0] * weights.scale[0]);
      const q = quantizeMultiplier(productScale / output.scale[0], `operator ${op.index} (FULLY_CONNECTED)`);
      multipliers = new Int32Array(units).fill(q.multiplierQ31);
      shifts = new Int32Array(units).fill(q.shift);
    }
    const bias = readBias(context, op, 2, units);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        const input = inputData;
        const filter = weightData;
        const out = outputData;
        const inputOffset = -inputZeroPoint;
        let outIndex = 0;
        for (let batch = 0; batch < batches; batch++) {
          const inputBase = batch * depth;
          for (let unit = 0; unit < units; unit++) {
            const filterBase = unit * depth;
            // Range: |acc| <= depth * 127 * 255 plus |bias|, inside int32 for depth < 2^16.
            let acc = bias[unit];
            for (let d = 0; d < depth; d++) {
              acc += filter[filterBase + d] * (input[inputBase + d] + inputOffset);
            }
            let value = multiplyByQuantizedMultiplier(acc, multipliers[unit], shifts[unit]) + outputZeroPoint;
            if (value < activationMin) value = activationMin;
            if (value > activationMax) value = activationMax;
            out[outIndex++] = value;
          }
        }
      },
    };
  },
};

const REFERENCE_KERNELS: ReadonlyMap<number, Kernel> = new Map<number, Kernel>([
  [3, referenceConv2dKernel], // CONV_2D
  [4, referenceDepthwiseConv2dKernel], // DEPTHWISE_CONV_2D
  [9, referenceFullyConnectedKernel], // FULLY_CONNECTED
]);

/** Interpreter resolveKernel option: the reference kernel of an operator, else microq's own kernel. */
export function resolveReferenceKernel(builtinCode: number): Kernel | undefined {
  return REFERENCE_KERNELS.get(builtinCode) ?? findKernel(builtinCode);
}
