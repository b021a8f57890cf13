// Naive CONV_2D for int8: a line-by-line port of TFLM's reference
// ConvPerChannel (tensorflow/lite/kernels/internal/reference/integer_ops/conv.h),
// the baseline that microq's optimized kernel is measured against. Each
// element access calls offset(), each tap is bounds-checked, and the input
// offset is added per multiply-accumulate, as in the C. Prepare validates the
// operator with the helpers of kernels/common.ts, as microq's kernel does.

import { InvalidModelError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { readConv2DOptions } from "../../runtime/schema/options.js";
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
} from "../../kernels/common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { readOptionalBias } from "./bias.js";
import { offset } from "./offset.js";

/** The fields of TFLM's ConvParams that the int8 kernel reads, plus the shapes. */
interface ConvParameters {
  inputOffset: number;
  outputOffset: number;
  strideWidth: number;
  strideHeight: number;
  dilationWidthFactor: number;
  dilationHeightFactor: number;
  padWidth: number;
  padHeight: number;
  quantizedActivationMin: number;
  quantizedActivationMax: number;
  outputMultiplier: Int32Array;
  outputShift: Int32Array;
  inputShape: Int32Array;
  filterShape: Int32Array;
  outputShape: Int32Array;
}

function convPerChannel(
  params: ConvParameters,
  inputData: Int8Array,
  filterData: Int8Array,
  biasData: Int32Array | null,
  outputData: Int8Array,
): void {
  const inputOffset = params.inputOffset;
  const strideWidth = params.strideWidth;
  const strideHeight = params.strideHeight;
  const dilationWidthFactor = params.dilationWidthFactor;
  const dilationHeightFactor = params.dilationHeightFactor;
  const padWidth = params.padWidth;
  const padHeight = params.padHeight;
  const outputOffset = params.outputOffset;
  const outputActivationMin = params.quantizedActivationMin;
  const outputActivationMax = params.quantizedActivationMax;
  const inputShape = params.inputShape;
  const filterShape = params.filterShape;
  const outputShape = params.outputShape;

  const batches = inputShape[0];
  const inputDepth = inputShape[3];
  const outputDepth = filterShape[0];
  const inputHeight = inputShape[1];
  const inputWidth = inputShape[2];
  const filterHeight = filterShape[1];
  const filterWidth = filterShape[2];
  const filterInputDepth = filterShape[3];
  const groups = inputDepth / filterInputDepth;
  const filtersPerGroup = outputDepth / groups;
  const outputHeight = outputShape[1];
  const outputWidth = outputShape[2];

  for (let batch = 0; batch < batches; batch++) {
    for (let outY = 0; outY < outputHeight; outY++) {
      const inYOrigin = outY * strideHeight - padHeight;
      for (let outX = 0; outX < outputWidth; outX++) {
        const inXOrigin = outX * strideWidth - padWidth;
        for (let outChannel = 0; outChannel < outputDepth; outChannel++) {
          const group = Math.floor(outChannel / filtersPerGroup);
          // Each product is at most 127 * 255 in magnitude, so the sum stays
          // inside int32 for up to 2^16 taps, the same bound the C relies on.
          let acc = 0;
          for (let filterY = 0; filterY < filterHeight; filterY++) {
            const inY = inYOrigin + dilationHeightFactor * filterY;
            for (let filterX = 0; filterX < filterWidth; filterX++) {
              const inX = inXOrigin + dilationWidthFactor * filterX;

              // Taps outside the image are skipped, which equals padding
              // with the input zero point.
              const isPointInsideImage = inX >= 0 && inX < inputWidth && inY >= 0 && inY < inputHeight;
              if (!isPointInsideImage) {
                continue;
              }

              for (let inChannel = 0; inChannel < filterInputDepth; inChannel++) {
                const inputValue = inputData[offset(inputShape, batch, inY, inX, inChannel + group * filterInputDepth)];
                const filterValue = filterData[offset(filterShape, outChannel, filterY, filterX, inChannel)];
                acc += filterValue * (inputValue + inputOffset);
              }
            }
          }

          if (biasData !== null) {
            acc += biasData[outChannel];
          }
          acc = multiplyByQuantizedMultiplier(acc, params.outputMultiplier[outChannel], params.outputShift[outChannel]);
          acc += outputOffset;
          acc = Math.max(acc, outputActivationMin);
          acc = Math.min(acc, outputActivationMax);
          outputData[offset(outputShape, batch, outY, outX, outChannel)] = acc;
        }
      }
    }
  }
}

export const naiveConv2dKernel: Kernel = {
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
      throw new InvalidModelError(`operator ${op.index} (CONV_2D): weights ${describeTensor(weights)} must be a constant in the model, not computed at run time; the file is corrupted`);
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
    const bias = readOptionalBias(context, op, 2, outputChannels);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);

    const params: ConvParameters = {
      inputOffset: -inputZeroPoint,
      outputOffset: outputZeroPoint,
      strideWidth: options.strideWidth,
      strideHeight: options.strideHeight,
      dilationWidthFactor: options.dilationWidth,
      dilationHeightFactor: options.dilationHeight,
      padWidth: horizontal.before,
      padHeight: vertical.before,
      quantizedActivationMin: activationMin,
      quantizedActivationMax: activationMax,
      outputMultiplier: multipliers,
      outputShift: shifts,
      inputShape: Int32Array.from(input.shape),
      filterShape: Int32Array.from(weights.shape),
      outputShape: Int32Array.from(output.shape),
    };
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength + 3 * 4 * 4);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const filterData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * vertical.outputSize * horizontal.outputSize * outputChannels * filterHeight * filterWidth * filterDepth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        convPerChannel(params, inputData, filterData, bias, outputData);
      },
    };
  },
};
