// AVERAGE_POOL_2D and MAX_POOL_2D in double on dequantized NHWC values,
// followed by the fused activation. Unlike convolution, pooling leaves the
// padding taps out: an average divides by the number of in-bounds taps, as
// TFLite defines it.

import { Pool2DOptions } from "../../runtime/schema/options.js";
import { spatialAxis } from "./geometry.js";
import { activate } from "./quantization.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, realValues } from "./tensor.js";

export type PoolKind = "average" | "max";

export function pool2dReference(kind: PoolKind, input: ReferenceTensor, options: Pool2DOptions): RealTensor {
  if (input.shape.length !== 4) {
    throw new FloatReferenceError(`pooling needs a 4-D input, got [${input.shape}]`);
  }
  const [batches, inputHeight, inputWidth, channels] = input.shape;
  const x = realValues(input);
  const vertical = spatialAxis(options.padding, inputHeight, options.filterHeight, options.strideHeight, 1);
  const horizontal = spatialAxis(options.padding, inputWidth, options.filterWidth, options.strideWidth, 1);

  const shape = [batches, vertical.outputSize, horizontal.outputSize, channels];
  const values = new Float64Array(batches * vertical.outputSize * horizontal.outputSize * channels);
  let outIndex = 0;
  for (let batch = 0; batch < batches; batch++) {
    for (let outY = 0; outY < vertical.outputSize; outY++) {
      const inYOrigin = outY * options.strideHeight - vertical.before;
      for (let outX = 0; outX < horizontal.outputSize; outX++) {
        const inXOrigin = outX * options.strideWidth - horizontal.before;
        for (let channel = 0; channel < channels; channel++) {
          let sum = 0;
          let max = -Infinity;
          let taps = 0;
          for (let filterY = 0; filterY < options.filterHeight; filterY++) {
            const inY = inYOrigin + filterY;
            if (inY < 0 || inY >= inputHeight) continue;
            for (let filterX = 0; filterX < options.filterWidth; filterX++) {
              const inX = inXOrigin + filterX;
              if (inX < 0 || inX >= inputWidth) continue;
              const value = x[((batch * inputHeight + inY) * inputWidth + inX) * channels + channel];
              sum += value;
              if (value > max) max = value;
              taps++;
            }
          }
          if (taps === 0) {
            throw new FloatReferenceError(`pooling window of output (${outY}, ${outX}) covers no input element`);
          }
          values[outIndex++] = activate(kind === "average" ? sum / taps : max, options.activation);
        }
      }
    }
  }
  return { shape, values };
}
