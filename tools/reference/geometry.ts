// Output size and leading padding of one spatial axis of a convolution or
// pooling window, from TFLite's definitions of SAME and VALID padding.

import { Padding } from "../../runtime/schema/options.js";
import { FloatReferenceError } from "./tensor.js";

export interface SpatialAxis {
  outputSize: number;
  /** Padding before the first input element (top or left). */
  before: number;
}

/**
 * SAME gives ceil(input / stride) outputs and VALID gives
 * ceil((input - effective filter + 1) / stride), where the effective filter
 * spans (filter - 1) * dilation + 1 inputs. The total padding is split with
 * the odd element after the data.
 */
export function spatialAxis(padding: number, inputSize: number, filterSize: number, stride: number, dilation: number): SpatialAxis {
  if (stride <= 0 || dilation <= 0 || filterSize <= 0) {
    throw new FloatReferenceError(`stride ${stride}, dilation ${dilation} and filter size ${filterSize} must be positive`);
  }
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  let outputSize: number;
  if (padding === Padding.SAME) outputSize = Math.ceil(inputSize / stride);
  else if (padding === Padding.VALID) outputSize = Math.max(Math.ceil((inputSize - effectiveFilter + 1) / stride), 0);
  else throw new FloatReferenceError(`padding type ${padding} is neither SAME nor VALID`);

  const totalPadding = Math.max((outputSize - 1) * stride + effectiveFilter - inputSize, 0);
  return { outputSize, before: Math.floor(totalPadding / 2) };
}
