// Fused activations in real terms and requantization of real values, the
// last two steps of every layer of the float reference.

import { Activation, ACTIVATION_NAMES } from "../../runtime/schema/options.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { FloatReferenceError } from "./tensor.js";

/** Quantization of a layer's output. */
export interface OutputQuantization {
  /** TensorType enum value of the output. */
  readonly type: number;
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Returns the fused activation applied to a real value. */
export function activate(x: number, activation: number): number {
  switch (activation) {
    case Activation.NONE:
      return x;
    case Activation.RELU:
      return Math.max(x, 0);
    case Activation.RELU6:
      return Math.min(Math.max(x, 0), 6);
    case Activation.RELU_N1_TO_1:
      return Math.min(Math.max(x, -1), 1);
    default:
      throw new FloatReferenceError(
        `fused activation ${ACTIVATION_NAMES[activation] ?? activation} is not modeled by the float reference; ` +
          `it covers NONE, RELU, RELU6 and RELU_N1_TO_1`,
      );
  }
}

/** Returns the [min, max] of an integer tensor type. */
export function integerRange(type: number): [number, number] {
  switch (type) {
    case TensorType.INT8:
      return [-128, 127];
    case TensorType.UINT8:
      return [0, 255];
    case TensorType.INT16:
      return [-32768, 32767];
    case TensorType.INT32:
      return [-0x80000000, 0x7fffffff];
    default:
      throw new FloatReferenceError(`tensor type ${tensorTypeName(type)} has no integer range to requantize into`);
  }
}

/** Rounds to the nearest integer, ties away from zero, as C's round() and TFLite's TfLiteRound. */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Requantizes real values: round(x / scale) + zero_point, the division in
 * double, the rounding half away from zero, clamped to the output type.
 */
export function requantize(values: Float64Array, output: OutputQuantization): Float64Array {
  const [min, max] = integerRange(output.type);
  const result = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const quantized = roundHalfAwayFromZero(values[i] / output.scale) + output.zeroPoint;
    result[i] = Math.min(max, Math.max(min, quantized));
  }
  return result;
}
