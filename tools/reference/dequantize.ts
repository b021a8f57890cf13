// DEQUANTIZE: scale * (q - zero_point) in double. The output is float32,
// so the layer compares it in float instead of requantizing it.

import { FloatReferenceError, RealTensor, ReferenceTensor, isQuantized, realValues } from "./tensor.js";

export function dequantizeReference(input: ReferenceTensor): RealTensor {
  if (!isQuantized(input)) {
    throw new FloatReferenceError("DEQUANTIZE input has no quantization scale");
  }
  return { shape: [...input.shape], values: realValues(input) };
}
