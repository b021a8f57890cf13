// RESHAPE: the same real values under the output tensor's shape. Like
// TFLite Micro, the reference takes the shape from the output tensor, not
// from the new_shape option or the shape input.

import { FloatReferenceError, RealTensor, ReferenceTensor, elementCount, realValues } from "./tensor.js";

export function reshapeReference(input: ReferenceTensor, outputShape: readonly number[]): RealTensor {
  if (elementCount(outputShape) !== input.values.length) {
    throw new FloatReferenceError(`RESHAPE of ${input.values.length} elements to shape [${outputShape}] changes the element count`);
  }
  return { shape: [...outputShape], values: realValues(input) };
}
