// CONV_2D in double on dequantized values: NHWC input, weights
// [output channels, height, width, input depth / groups], a real bias per
// output channel and the fused activation. Taps outside the input are
// padding and contribute the real value 0.

import { Conv2DOptions } from "../../runtime/schema/options.js";
import { spatialAxis } from "./geometry.js";
import { activate } from "./quantization.js";
import {
  FloatReferenceError,
  RealTensor,
  ReferenceTensor,
  checkChannelDimension,
  perTensorScale,
  realBias,
  realValues,
} from "./tensor.js";

export function conv2dReference(
  input: ReferenceTensor,
  weights: ReferenceTensor,
  bias: ReferenceTensor | null,
  options: Conv2DOptions,
): RealTensor {
  if (input.shape.length !== 4 || weights.shape.length !== 4) {
    throw new FloatReferenceError(`CONV_2D needs 4-D input and weights, got [${input.shape}] and [${weights.shape}]`);
  }
  const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
  const [outputChannels, filterHeight, filterWidth, filterDepth] = weights.shape;
  if (filterDepth <= 0 || inputDepth % filterDepth !== 0 || outputChannels % (inputDepth / filterDepth) !== 0) {
    throw new FloatReferenceError(`CONV_2D input depth ${inputDepth} does not split into groups of the weights' depth ${filterDepth}`);
  }
  checkChannelDimension(weights, 0, "CONV_2D weights");
  const groups = inputDepth / filterDepth;
  const outputChannelsPerGroup = outputChannels / groups;

  const x = realValues(input);
  const w = realValues(weights);
  const b = realBias(bias, perTensorScale(input, "CONV_2D input"), weights, outputChannels);
  const vertical = spatialAxis(options.padding, inputHeight, filterHeight, options.strideHeight, options.dilationHeight);
  const horizontal = spatialAxis(options.padding, inputWidth, filterWidth, options.strideWidth, options.dilationWidth);

  const shape = [batches, vertical.outputSize, horizontal.outputSize, outputChannels];
  const values = new Float64Array(batches * vertical.outputSize * horizontal.outputSize * outputChannels);
  let outIndex = 0;
  for (let batch = 0; batch < batches; batch++) {
    for (let outY = 0; outY < vertical.outputSize; outY++) {
      const inYOrigin = outY * options.strideHeight - vertical.before;
      for (let outX = 0; outX < horizontal.outputSize; outX++) {
        const inXOrigin = outX * options.strideWidth - horizontal.before;
        for (let outChannel = 0; outChannel < outputChannels; outChannel++) {
          const firstInChannel = Math.floor(outChannel / outputChannelsPerGroup) * filterDepth;
          let sum = b[outChannel];
          for (let filterY = 0; filterY < filterHeight; filterY++) {
            const inY = inYOrigin + filterY * options.dilationHeight;
            if (inY < 0 || inY >= inputHeight) continue;
            for (let filterX = 0; filterX < filterWidth; filterX++) {
              const inX = inXOrigin + filterX * options.dilationWidth;
              if (inX < 0 || inX >= inputWidth) continue;
              const inputBase = ((batch * inputHeight + inY) * inputWidth + inX) * inputDepth + firstInChannel;
              const weightsBase = ((outChannel * filterHeight + filterY) * filterWidth + filterX) * filterDepth;
              for (let filterChannel = 0; filterChannel < filterDepth; filterChannel++) {
                sum += x[inputBase + filterChannel] * w[weightsBase + filterChannel];
              }
            }
          }
          values[outIndex++] = activate(sum, options.activation);
        }
      }
    }
  }
  return { shape, values };
}
