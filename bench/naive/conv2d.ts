// Naive CONV_2D for int8: a line-by-line port of TFLM's reference
// ConvPerChannel (tensorflow/lite/kernels/internal/reference/integer_ops/conv.h),
// the baseline that microq's optimized kernel is measured against. Each
// element access calls offset(), each tap is bounds-checked, and the input
// offset is added per multiply-accumulate, as in the C. Prepare validates the
// operator with kernels/layer_params.ts, the same code microq's kernel uses.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { prepareConv2dLayer } from "../../kernels/layer_params.js";
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
    const layer = prepareConv2dLayer(context, op);
    const { options, batches, outputChannels, filterHeight, filterWidth, filterDepth, vertical, horizontal } = layer;
    const { inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData: filterData } = layer;
    const input = context.tensor(op.inputs[0]);
    const weights = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    const bias = readOptionalBias(context, op, 2, outputChannels);

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
