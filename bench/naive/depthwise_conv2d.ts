// Naive DEPTHWISE_CONV_2D for int8: a line-by-line port of TFLM's reference
// DepthwiseConvPerChannel
// (tensorflow/lite/kernels/internal/reference/integer_ops/depthwise_conv.h),
// the baseline for microq's optimized kernel. As in the C, the input origin
// is recomputed for every output channel, each tap is bounds-checked, each
// element access calls offset(), and the input offset is added per
// multiply-accumulate. Output channel = input channel * depthMultiplier + m.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { prepareDepthwiseConv2dLayer } from "../../kernels/layer_params.js";
import { readOptionalBias } from "./bias.js";
import { offset } from "./offset.js";

/** The fields of TFLM's DepthwiseParams that the int8 kernel reads, plus the shapes. */
interface DepthwiseParameters {
  inputOffset: number;
  outputOffset: number;
  strideWidth: number;
  strideHeight: number;
  dilationWidthFactor: number;
  dilationHeightFactor: number;
  padWidth: number;
  padHeight: number;
  depthMultiplier: number;
  quantizedActivationMin: number;
  quantizedActivationMax: number;
  outputMultiplier: Int32Array;
  outputShift: Int32Array;
  inputShape: Int32Array;
  filterShape: Int32Array;
  outputShape: Int32Array;
}

function depthwiseConvPerChannel(
  params: DepthwiseParameters,
  inputData: Int8Array,
  filterData: Int8Array,
  biasData: Int32Array | null,
  outputData: Int8Array,
): void {
  const strideWidth = params.strideWidth;
  const strideHeight = params.strideHeight;
  const dilationWidthFactor = params.dilationWidthFactor;
  const dilationHeightFactor = params.dilationHeightFactor;
  const padWidth = params.padWidth;
  const padHeight = params.padHeight;
  const depthMultiplier = params.depthMultiplier;
  const inputOffset = params.inputOffset;
  const outputOffset = params.outputOffset;
  const outputActivationMin = params.quantizedActivationMin;
  const outputActivationMax = params.quantizedActivationMax;
  const inputShape = params.inputShape;
  const filterShape = params.filterShape;
  const outputShape = params.outputShape;

  const batches = inputShape[0];
  const inputHeight = inputShape[1];
  const inputWidth = inputShape[2];
  const inputDepth = inputShape[3];
  const filterHeight = filterShape[1];
  const filterWidth = filterShape[2];
  const outputHeight = outputShape[1];
  const outputWidth = outputShape[2];

  for (let batch = 0; batch < batches; batch++) {
    for (let outY = 0; outY < outputHeight; outY++) {
      for (let outX = 0; outX < outputWidth; outX++) {
        for (let inChannel = 0; inChannel < inputDepth; inChannel++) {
          for (let m = 0; m < depthMultiplier; m++) {
            const outputChannel = m + inChannel * depthMultiplier;
            const inXOrigin = outX * strideWidth - padWidth;
            const inYOrigin = outY * strideHeight - padHeight;
            // Each product is at most 127 * 255 in magnitude, so the sum
            // stays inside int32 for up to 2^16 taps.
            let acc = 0;
            for (let filterY = 0; filterY < filterHeight; filterY++) {
              for (let filterX = 0; filterX < filterWidth; filterX++) {
                const inX = inXOrigin + dilationWidthFactor * filterX;
                const inY = inYOrigin + dilationHeightFactor * filterY;
                // Taps outside the image are skipped, which equals padding
                // with the input zero point.
                const isPointInsideImage = inX >= 0 && inX < inputWidth && inY >= 0 && inY < inputHeight;
                if (isPointInsideImage) {
                  const inputValue = inputData[offset(inputShape, batch, inY, inX, inChannel)];
                  const filterValue = filterData[offset(filterShape, 0, filterY, filterX, outputChannel)];
                  acc += filterValue * (inputValue + inputOffset);
                }
              }
            }
            if (biasData !== null) {
              acc += biasData[outputChannel];
            }
            acc = multiplyByQuantizedMultiplier(acc, params.outputMultiplier[outputChannel], params.outputShift[outputChannel]);
            acc += outputOffset;
            acc = Math.max(acc, outputActivationMin);
            acc = Math.min(acc, outputActivationMax);
            outputData[offset(outputShape, batch, outY, outX, outputChannel)] = acc;
          }
        }
      }
    }
  }
}

export const naiveDepthwiseConv2dKernel: Kernel = {
  name: "DEPTHWISE_CONV_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const layer = prepareDepthwiseConv2dLayer(context, op);
    const { options, batches, outputChannels, depthMultiplier, filterHeight, filterWidth, vertical, horizontal } = layer;
    const { inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData: filterData } = layer;
    const input = context.tensor(op.inputs[0]);
    const weights = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    const bias = readOptionalBias(context, op, 2, outputChannels);

    const params: DepthwiseParameters = {
      inputOffset: -inputZeroPoint,
      outputOffset: outputZeroPoint,
      strideWidth: options.strideWidth,
      strideHeight: options.strideHeight,
      dilationWidthFactor: options.dilationWidth,
      dilationHeightFactor: options.dilationHeight,
      padWidth: horizontal.before,
      padHeight: vertical.before,
      depthMultiplier,
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
      macs: batches * vertical.outputSize * horizontal.outputSize * outputChannels * filterHeight * filterWidth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        depthwiseConvPerChannel(params, inputData, filterData, bias, outputData);
      },
    };
  },
};
