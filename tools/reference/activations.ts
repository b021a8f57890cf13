// Standalone activation operators in double on dequantized values:
// LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU and HARD_SWISH.

import { FloatReferenceError, RealTensor, ReferenceTensor, realValues } from "./tensor.js";

export type ActivationOperator = "LOGISTIC" | "TANH" | "RELU" | "RELU6" | "LEAKY_RELU" | "HARD_SWISH";

/** The real function of each activation; alpha is LEAKY_RELU's slope below zero. */
export function activationFunction(name: ActivationOperator, alpha = 0): (x: number) => number {
  switch (name) {
    case "LOGISTIC":
      return (x) => 1 / (1 + Math.exp(-x));
    case "TANH":
      return Math.tanh;
    case "RELU":
      return (x) => Math.max(x, 0);
    case "RELU6":
      return (x) => Math.min(Math.max(x, 0), 6);
    case "LEAKY_RELU":
      return (x) => (x >= 0 ? x : alpha * x);
    case "HARD_SWISH":
      return (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    default:
      throw new FloatReferenceError(`activation ${name as string} is not modeled`);
  }
}

export function activationReference(name: ActivationOperator, input: ReferenceTensor, alpha = 0): RealTensor {
  const f = activationFunction(name, alpha);
  return { shape: [...input.shape], values: realValues(input).map(f) };
}
