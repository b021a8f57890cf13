// LEAKY_RELU under the "tflm" scheme, on int8 or int16 tensors, as TFLM
// 90b983c2's leaky_relu_common.cc and reference QuantizeLeakyRelu compute it.
// A non-negative offset of the input from its zero point is requantized by
// input_scale / output_scale, a negative one by
// input_scale * alpha / output_scale, both quotients taken in float32.

import { UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { frexp, quantizeMultiplier, roundHalfAwayFromZero } from "../../runtime/quantize_multiplier.js";
import { readLeakyReluOptions } from "../../runtime/schema/options_activation.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { typeRange } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import {
  acceptsTflmInput,
  clamp,
  int16Operator,
  int8TableLookup,
  isInt8,
  prepareActivationTensors,
  tabulateInt8,
} from "./activation_common.js";

const SUPPORTED_TYPES = [TensorType.INT8, TensorType.INT16];

export interface LeakyReluParameters {
  inputZeroPoint: number;
  outputZeroPoint: number;
  identityMultiplierQ31: number;
  identityShift: number;
  /** Magnitude of the alpha multiplier; INT32_MIN stands for 2^31, as the C++ negation wraps. */
  alphaMultiplierQ31: number;
  alphaShift: number;
  alphaIsNegative: boolean;
  outputMin: number;
  outputMax: number;
}

/** Returns TFLM's LEAKY_RELU output for one stored input value. */
export function leakyReluValue(value: number, p: LeakyReluParameters): number {
  const x = value - p.inputZeroPoint;
  let output = p.outputZeroPoint;
  if (x >= 0) {
    output += multiplyByQuantizedMultiplier(x, p.identityMultiplierQ31, p.identityShift);
  } else {
    const scaled = multiplyByQuantizedMultiplier(x, p.alphaMultiplierQ31, p.alphaShift);
    output += p.alphaIsNegative ? -scaled : scaled;
  }
  return clamp(output, p.outputMin, p.outputMax);
}

/**
 * Quantizes a possibly negative alpha multiplier as TFLM's QuantizeMultiplier
 * does and splits off its sign. The fraction of a negative multiplier that
 * rounds to -2^31 is not renormalized there, and its negation wraps to
 * INT32_MIN, which is kept here.
 */
function alphaMultiplier(op: OperatorDef, real: number): { multiplierQ31: number; shift: number; isNegative: boolean } {
  const subject = `operator ${op.index} (LEAKY_RELU) alpha`;
  if (real >= 0) {
    const { multiplierQ31, shift } = quantizeMultiplier(real, subject);
    return { multiplierQ31, shift, isNegative: false };
  }
  if (!Number.isFinite(real)) quantizeMultiplier(real, subject);

  // Rounding half away from zero is symmetric, so the magnitude rounds as
  // the negative value does.
  const { fraction, exponent } = frexp(-real);
  const magnitude = roundHalfAwayFromZero(fraction * 0x80000000);
  if (exponent < -31) return { multiplierQ31: 0, shift: 0, isNegative: true };
  if (exponent > 30) {
    throw new UnsupportedError(
      `${subject}: rescale factor ${real} is 2^${exponent - 1} or more in magnitude, beyond the int32 requantization ` +
        `range; check alpha and the tensors' quantization scales`,
    );
  }
  return { multiplierQ31: magnitude | 0, shift: exponent, isNegative: true };
}

export const tflmLeakyReluKernel: Kernel = {
  name: "LEAKY_RELU",
  accepts: acceptsTflmInput(SUPPORTED_TYPES),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, SUPPORTED_TYPES);
    const { alpha } = readLeakyReluOptions(context.reader, op);

    // Both quotients are float32, widened to double, as in TFLM.
    const identity = quantizeMultiplier(Math.fround(input.scale / output.scale), `operator ${op.index} (LEAKY_RELU)`);
    const negative = alphaMultiplier(op, Math.fround(Math.fround(input.scale * alpha) / output.scale));
    const [outputMin, outputMax] = typeRange(input.tensor.type);
    const parameters: LeakyReluParameters = {
      inputZeroPoint: input.zeroPoint,
      outputZeroPoint: output.zeroPoint,
      identityMultiplierQ31: identity.multiplierQ31,
      identityShift: identity.shift,
      alphaMultiplierQ31: negative.multiplierQ31,
      alphaShift: negative.shift,
      alphaIsNegative: negative.isNegative,
      outputMin,
      outputMax,
    };

    if (isInt8(input)) {
      const table = tabulateInt8((value) => leakyReluValue(value, parameters));
      context.notePersistentBytes(table.byteLength);
      return int8TableLookup(input.tensor.index, output.tensor.index, table);
    }

    return int16Operator(input, output, input.tensor.elementCount, (source, out) => {
      const inputZeroPoint = parameters.inputZeroPoint;
      const outputZeroPoint = parameters.outputZeroPoint;
      const identityMultiplierQ31 = parameters.identityMultiplierQ31;
      const identityShift = parameters.identityShift;
      const alphaMultiplierQ31 = parameters.alphaMultiplierQ31;
      const alphaShift = parameters.alphaShift;
      const alphaSign = parameters.alphaIsNegative ? -1 : 1;
      const n = source.length;
      for (let i = 0; i < n; i++) {
        const x = source[i] - inputZeroPoint;
        let output = outputZeroPoint;
        if (x >= 0) output += multiplyByQuantizedMultiplier(x, identityMultiplierQ31, identityShift);
        else output += alphaSign * multiplyByQuantizedMultiplier(x, alphaMultiplierQ31, alphaShift);
        if (output < outputMin) output = outputMin;
        else if (output > outputMax) output = outputMax;
        out[i] = output;
      }
    });
  },
};
