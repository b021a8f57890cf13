// TRANSPOSE_CONV in double on dequantized values: every input element
// scatters input * weight into a window of the output, the transpose of
// CONV_2D's gather. NHWC input, weights [output channels, height, width,
// input channels], the output shape from the model, padding as CONV_2D
// would compute it from that output back to this input, a real bias per
// output channel and the fused activation.

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

export interface TransposeConvGeometry {
  padding: number;
  strideHeight: number;
  strideWidth: number;
  activation: number;
}

export function transposeConvReference(
  input: ReferenceTensor,
  weights: ReferenceTensor,
  bias: ReferenceTensor | null,
  outputShape: readonly number[],
  options: TransposeConvGeometry,
): RealTensor {
  if (input.shape.length !== 4 || weights.shape.length !== 4 || outputShape.length !== 4) {
    throw new FloatReferenceError(
      `TRANSPOSE_CONV needs 4-D input, weights and output, got [${input.shape}], [${weights.shape}] and [${outputShape}]`,
    );
  }
  const [batches, inputHeight, inputWidth, inputDepth] = input.shape;
  const [outputChannels, filterHeight, filterWidth, filterDepth] = weights.shape;
  const [, outputHeight, outputWidth] = outputShape;
  if (filterDepth !== inputDepth || outputShape[3] !== outputChannels || outputShape[0] !== batches) {
    throw new FloatReferenceError(
      `TRANSPOSE_CONV shapes do not agree: input [${input.shape}], weights [${weights.shape}], output [${outputShape}]`,
    );
  }
  checkChannelDimension(weights, 0, "TRANSPOSE_CONV weights");
  const padTop = spatialAxis(options.padding, outputHeight, filterHeight, options.strideHeight, 1).before;
  const padLeft = spatialAxis(options.padding, outputWidth, filterWidth, options.strideWidth, 1).before;

  const x = realValues(input);
  const w = realValues(weights);
  const b = realBias(bias, perTensorScale(input, "TRANSPOSE_CONV input"), weights, outputChannels);
  const values = new Float64Array(batches * outputHeight * outputWidth * outputChannels);
  for (let n = 0; n < batches; n++) {
    for (let iy = 0; iy < inputHeight; iy++) {
      for (let ix = 0; ix < inputWidth; ix++) {
        for (let fy = 0; fy < filterHeight; fy++) {
          const oy = iy * options.strideHeight - padTop + fy;
          if (oy < 0 || oy >= outputHeight) continue;
          for (let fx = 0; fx < filterWidth; fx++) {
            const ox = ix * options.strideWidth - padLeft + fx;
            if (ox < 0 || ox >= outputWidth) continue;
            const outBase = ((n * outputHeight + oy) * outputWidth + ox) * outputChannels;
            const inBase = ((n * inputHeight + iy) * inputWidth + ix) * inputDepth;
            for (let oc = 0; oc < outputChannels; oc++) {
              const wBase = ((oc * filterHeight + fy) * filterWidth + fx) * inputDepth;
              let sum = 0;
              for (let ic = 0; ic < inputDepth; ic++) sum += x[inBase + ic] * w[wBase + ic];
              values[outBase + oc] += sum;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < values.length; i++) values[i] = activate(values[i] + b[i % outputChannels], options.activation);
  return { shape: [...outputShape], values };
}
