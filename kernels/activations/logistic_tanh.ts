// LOGISTIC and TANH under the "tflm" scheme, as TFLM 90b983c2's logistic.cc
// and tanh.cc compute them. int8: the input minus its zero point is rescaled
// to Q4 by input_scale * 2^27, then gemmlowp's fixed-point logistic or tanh
// gives Q0, which is rounded to the fixed output quantization. int16: the
// interpolated sigmoid table of int16_sigmoid_table.ts.

import { UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier, roundingDivideByPOT } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { frexp, roundHalfAwayFromZero } from "../../runtime/quantize_multiplier.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ActivationTensor,
  acceptsTflmInput,
  checkZeroZeroPoint,
  clamp,
  int16Operator,
  int8TableLookup,
  isInt8,
  prepareActivationTensors,
  tabulateInt8,
} from "./activation_common.js";
import { logisticQ0, tanhQ0 } from "./fixedpoint_logistic_tanh.js";
import { Int16InputRescale, applyLogisticInt16, applyTanhInt16, checkedLog2, int16InputRescale } from "./int16_sigmoid_table.js";

/** Integer bits of the rescaled int8 input (Q4 covers (-16, 16)). */
const INPUT_INTEGER_BITS = 4;

const SUPPORTED_TYPES = [TensorType.INT8, TensorType.INT16];

/** The int8 input rescale: (x - zeroPoint) * multiplierQ31 * 2^(leftShift - 31) gives Q4. */
export interface Int8InputRescale {
  multiplierQ31: number;
  leftShift: number;
  /** Inputs with |x - zeroPoint| >= radius saturate the output without being rescaled. */
  radius: number;
}

/**
 * Derives the int8 input rescale as TFLM's prepare does, from the frexp of
 * input_scale * 2^27 in double. Rounding the fraction to Q31 is exact,
 * because a float32 scale has 24 significant bits. The radius
 * floor(15 * 2^27 / 2^leftShift) bounds the inputs whose Q4 value stays below 15.
 */
export function int8InputRescale(op: OperatorDef, input: ActivationTensor): Int8InputRescale {
  const realMultiplier = input.scale * 2 ** (31 - INPUT_INTEGER_BITS);
  const { fraction, exponent } = frexp(realMultiplier);
  // TFLM shifts by leftShift in a 64-bit integer, which needs it in [0, 62].
  if (exponent < 0 || exponent > 62) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): input ${describeTensor(input.tensor)} has scale ${input.scale}, outside ` +
        `[2^-28, 2^35) where TFLM's int8 ${op.name} is defined; requantize the model's input to this operator`,
    );
  }
  const radius = Math.floor(((2 ** INPUT_INTEGER_BITS - 1) * 2 ** (31 - INPUT_INTEGER_BITS)) / 2 ** exponent);
  return { multiplierQ31: roundHalfAwayFromZero(fraction * 0x80000000), leftShift: exponent, radius };
}

/**
 * Returns TFLM's int8 output for one input value. `activationQ0` is logistic
 * or tanh on a Q4 raw value, `outputShift` rounds its Q0 result to the output
 * (23 for logistic's 2^-8 steps, 24 for tanh's 2^-7), and `outputZeroPoint`
 * is -128 for logistic and 0 for tanh.
 */
export function activationInt8(
  value: number,
  inputZeroPoint: number,
  rescale: Int8InputRescale,
  activationQ0: (q4: number, integerBits: number) => number,
  outputShift: number,
  outputZeroPoint: number,
): number {
  const x = value - inputZeroPoint;
  if (x <= -rescale.radius) return -128;
  if (x >= rescale.radius) return 127;

  // |x| < radius keeps x * 2^leftShift below 15 * 2^27, so nothing wraps.
  const inputQ4 = multiplyByQuantizedMultiplier(x, rescale.multiplierQ31, rescale.leftShift);
  const output = roundingDivideByPOT(activationQ0(inputQ4, INPUT_INTEGER_BITS), outputShift) + outputZeroPoint;
  return clamp(output, -128, 127);
}

export const tflmLogisticKernel: Kernel = {
  name: "LOGISTIC",
  accepts: acceptsTflmInput(SUPPORTED_TYPES),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, SUPPORTED_TYPES);
    if (isInt8(input)) {
      // NOTE: TFLM checks the output zero point but not its scale, and its
      // result assumes 1/256; the converter always writes that scale.
      if (output.zeroPoint !== -128) {
        throw new UnsupportedError(
          `operator ${op.index} (LOGISTIC): output ${describeTensor(output.tensor)} has zero point ${output.zeroPoint}; ` +
            `TFLM's int8 LOGISTIC needs zero point -128 (and scale 1/256), so requantize the model with the TFLite converter`,
        );
      }
      const rescale = int8InputRescale(op, input);
      const table = tabulateInt8((value) => activationInt8(value, input.zeroPoint, rescale, logisticQ0, 23, -128));
      context.notePersistentBytes(table.byteLength);
      return int8TableLookup(input.tensor.index, output.tensor.index, table);
    }
    return prepareInt16(op, input, output, [0], applyLogisticInt16);
  },
};

export const tflmTanhKernel: Kernel = {
  name: "TANH",
  accepts: acceptsTflmInput(SUPPORTED_TYPES),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, SUPPORTED_TYPES);
    if (isInt8(input)) {
      // NOTE: TFLM checks neither output zero point nor scale, and its result
      // assumes scale 1/128 and zero point 0, which the converter writes.
      const rescale = int8InputRescale(op, input);
      const table = tabulateInt8((value) => activationInt8(value, input.zeroPoint, rescale, tanhQ0, 24, 0));
      context.notePersistentBytes(table.byteLength);
      return int8TableLookup(input.tensor.index, output.tensor.index, table);
    }
    return prepareInt16(op, input, output, [0, 1], applyTanhInt16);
  },
};

/**
 * Prepares int16 LOGISTIC or TANH: zero points 0, an output scale of 2^-15
 * (checked as TFLM's CheckedLog2 does) and the input rescale.
 */
function prepareInt16(
  op: OperatorDef,
  input: ActivationTensor,
  output: ActivationTensor,
  powerOfTwoShifts: readonly number[],
  apply: (input: Int16Array, output: Int16Array, rescale: Int16InputRescale) => void,
): PreparedOp {
  checkZeroZeroPoint(op, input, "input");
  checkZeroZeroPoint(op, output, "output");
  const outputLog2 = checkedLog2(output.scale);
  if (!outputLog2.isPowerOfTwo || outputLog2.log2 !== -15) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): output ${describeTensor(output.tensor)} has scale ${output.scale}; ` +
        `TFLM's int16 ${op.name} needs scale 2^-15, so requantize the model with the TFLite converter`,
    );
  }
  const rescale = int16InputRescale(input.scale, powerOfTwoShifts);
  if (rescale === null) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): input ${describeTensor(input.tensor)} has scale ${input.scale}, outside ` +
        `the range (about 4e-14 to 2.67) whose rescale multiplier fits TFLM's int16 ${op.name}; requantize the model's input to this operator`,
    );
  }

  return int16Operator(input, output, input.tensor.elementCount, (source, out) => apply(source, out, rescale));
}
