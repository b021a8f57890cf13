// QUANTIZE: the input's real values, float32 as stored or dequantized
// integers. The layer's requantization to the output tensor does the rest,
// so float32 to int8 and int8 to int8 share this one step.

import { RealTensor, ReferenceTensor, realValues } from "./tensor.js";

export function quantizeReference(input: ReferenceTensor): RealTensor {
  return { shape: [...input.shape], values: realValues(input) };
}
