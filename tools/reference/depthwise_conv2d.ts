// DEPTHWISE_CONV_2D in double on dequantized values: NHWC input, weights
// [1, height, width, input depth * multiplier], output channel
// input_channel * multiplier + m, a real bias per output channel and the
// fused activation. Taps outside the input contribute the real value 0.

import { DepthwiseConv2DOptions } from "../../runtime/schema/options.js";
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

export function depthwiseConv2dReference(
  input: ReferenceTensor,
  weights: ReferenceTensor,
  bias: ReferenceTensor | null,
  options: DepthwiseConv2DOptions,
): RealTensor {
  if (input.shape.length !== 4 || weights.shape.length !== 4) {
    throw new FloatReferenceError(`DEPTHWISE_CONV_2D needs 4-D input and weights, got [${input.shape}] and [${weights.shape}]`);
  }
  const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
  const [filterBatches, filterHeight, filterWidth, outputChannels] = weights.shape;
  // The multiplier follows from the shapes. Old converters wrote a
  // depth_multiplier option of 0, so the option is not used.
  const depthMultiplier = outputChannels / inputDepth;
  if (filterBatches !== 1 || !Number.isInteger(depthMultiplier) || depthMultiplier <= 0) {
    throw new FloatReferenceError(
      `DEPTHWISE_CONV_2D weights [${weights.shape}] do not match input depth ${inputDepth}; expected [1, h, w, depth * multiplier]`,
    );
  }
  checkChannelDimension(weights, 3, "DEPTHWISE_CONV_2D weights");

  const x = realValues(input);
  const w = realValues(weights);
  const b = realBias(bias, perTensorScale(input, "DEPTHWISE_CONV_2D input"), weights, outputChannels);
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
          const inChannel = Math.floor(outChannel / depthMultiplier);
          let sum = b[outChannel];
          for (let filterY = 0; filterY < filterHeight; filterY++) {
            const inY = inYOrigin + filterY * options.dilationHeight;
            if (inY < 0 || inY >= inputHeight) continue;
            for (let filterX = 0; filterX < filterWidth; filterX++) {
              const inX = inXOrigin + filterX * options.dilationWidth;
              if (inX < 0 || inX >= inputWidth) continue;
              const inputValue = x[((batch * inputHeight + inY) * inputWidth + inX) * inputDepth + inChannel];
              sum += inputValue * w[(filterY * filterWidth + filterX) * outputChannels + outChannel];
            }
          }
          values[outIndex++] = activate(sum, options.activation);
        }
      }
    }
  }
  return { shape, values };
}
