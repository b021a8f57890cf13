// FULLY_CONNECTED in double on dequantized values: the input is read as
// rows of the weights' depth, weights are [units, depth], a real bias per
// unit and the fused activation. The output shape is [batches, units], and
// the model's output tensor may spell the same elements with more dimensions.

import { FullyConnectedOptions } from "../../runtime/schema/options.js";
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

export function fullyConnectedReference(
  input: ReferenceTensor,
  weights: ReferenceTensor,
  bias: ReferenceTensor | null,
  options: FullyConnectedOptions,
): RealTensor {
  if (weights.shape.length !== 2) {
    throw new FloatReferenceError(`FULLY_CONNECTED needs 2-D weights, got [${weights.shape}]`);
  }
  if (options.weightsFormat !== 0) {
    throw new FloatReferenceError(`FULLY_CONNECTED weights format ${options.weightsFormat} (shuffled) is not modeled`);
  }
  const [units, depth] = weights.shape;
  if (depth <= 0 || input.values.length % depth !== 0) {
    throw new FloatReferenceError(`FULLY_CONNECTED input of ${input.values.length} elements does not split into rows of ${depth}`);
  }
  checkChannelDimension(weights, 0, "FULLY_CONNECTED weights");
  const batches = input.values.length / depth;

  const x = realValues(input);
  const w = realValues(weights);
  const b = realBias(bias, perTensorScale(input, "FULLY_CONNECTED input"), weights, units);

  const values = new Float64Array(batches * units);
  for (let batch = 0; batch < batches; batch++) {
    for (let unit = 0; unit < units; unit++) {
      let sum = b[unit];
      for (let d = 0; d < depth; d++) sum += x[batch * depth + d] * w[unit * depth + d];
      values[batch * units + unit] = activate(sum, options.activation);
    }
  }
  return { shape: [batches, units], values };
}
