// SOFTMAX in double along the last axis: exp(beta * (x - max)) over the
// row's sum, on dequantized inputs. Subtracting the row maximum leaves the
// result unchanged and, for beta >= 0, keeps exp from overflowing.

import { SoftmaxOptions } from "../../runtime/schema/options.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, realValues } from "./tensor.js";

export function softmaxReference(input: ReferenceTensor, options: SoftmaxOptions): RealTensor {
  if (input.shape.length < 1) {
    throw new FloatReferenceError("SOFTMAX needs an input of at least one dimension");
  }
  const depth = input.shape[input.shape.length - 1];
  const x = realValues(input);
  const values = new Float64Array(x.length);
  for (let base = 0; depth > 0 && base < x.length; base += depth) {
    let max = -Infinity;
    for (let i = base; i < base + depth; i++) max = Math.max(max, x[i]);
    let sum = 0;
    for (let i = base; i < base + depth; i++) {
      values[i] = Math.exp(options.beta * (x[i] - max));
      sum += values[i];
    }
    for (let i = base; i < base + depth; i++) values[i] /= sum;
  }
  return { shape: [...input.shape], values };
}
