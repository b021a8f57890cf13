// RELU and RELU6 under the "tflm" scheme, on int8 or int16 tensors, as TFLM
// 90b983c2's activations.cc and activations_common.cc compute them.
//
// RELU requantizes: output zero point + the input's offset from its zero
// point times input_scale / output_scale (divided in float32, then TFLM's
// QuantizeMultiplier), clamped below at the output zero point. RELU6 does not
// requantize: it clamps the stored input between its zero point and the
// quantized 6, which is only right when the output shares the input's
// quantization, as the TFLite converter arranges.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { quantizeMultiplier, roundHalfAwayFromZero } from "../../runtime/quantize_multiplier.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { typeRange } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import {
  acceptsTflmInput,
  checkZeroZeroPoint,
  clamp,
  int16Operator,
  int8TableLookup,
  isInt8,
  prepareActivationTensors,
  tabulateInt8,
} from "./activation_common.js";

const SUPPORTED_TYPES = [TensorType.INT8, TensorType.INT16];

/** RELU's requantization from input to output, with the clamp range in output units. */
export interface ReluParameters {
  inputZeroPoint: number;
  outputZeroPoint: number;
  multiplierQ31: number;
  shift: number;
  outputMin: number;
  outputMax: number;
}

/** Returns TFLM's RELU output for one stored input value. */
export function reluValue(value: number, p: ReluParameters): number {
  const output = p.outputZeroPoint + multiplyByQuantizedMultiplier(value - p.inputZeroPoint, p.multiplierQ31, p.shift);
  return clamp(output, p.outputMin, p.outputMax);
}

export const tflmReluKernel: Kernel = {
  name: "RELU",
  accepts: acceptsTflmInput(SUPPORTED_TYPES),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, SUPPORTED_TYPES);
    if (!isInt8(input)) {
      checkZeroZeroPoint(op, input, "input");
      checkZeroZeroPoint(op, output, "output");
    }

    // TFLM divides the scales in float32 and widens the quotient to double.
    const { multiplierQ31, shift } = quantizeMultiplier(Math.fround(input.scale / output.scale), `operator ${op.index} (RELU)`);
    const [typeMin, typeMax] = typeRange(input.tensor.type);
    const parameters: ReluParameters = {
      inputZeroPoint: input.zeroPoint,
      outputZeroPoint: output.zeroPoint,
      multiplierQ31,
      shift,
      // round(0 / scale) adds nothing to the zero point, and the upper bound is infinite.
      outputMin: Math.max(typeMin, output.zeroPoint),
      outputMax: typeMax,
    };

    if (isInt8(input)) {
      const table = tabulateInt8((value) => reluValue(value, parameters));
      context.notePersistentBytes(table.byteLength);
      return int8TableLookup(input.tensor.index, output.tensor.index, table);
    }

    return int16Operator(input, output, input.tensor.elementCount, (source, out) => {
      const inputZeroPoint = parameters.inputZeroPoint;
      const outputZeroPoint = parameters.outputZeroPoint;
      const outputMin = parameters.outputMin;
      const outputMax = parameters.outputMax;
      const n = source.length;
      for (let i = 0; i < n; i++) {
        let output = outputZeroPoint + multiplyByQuantizedMultiplier(source[i] - inputZeroPoint, multiplierQ31, shift);
        if (output < outputMin) output = outputMin;
        else if (output > outputMax) output = outputMax;
        out[i] = output;
      }
    });
  },
};

/**
 * Returns RELU6's clamp range in input units: the input zero point and
 * round(6 / input_scale) + zero point, with the division in float32 and the
 * result clamped to the type, as TFLM's FloatToQuantizedType.
 */
export function relu6Range(inputScale: number, inputZeroPoint: number, type: number): [number, number] {
  const [typeMin, typeMax] = typeRange(type);
  const six = roundHalfAwayFromZero(Math.fround(6 / inputScale)) + inputZeroPoint;
  return [inputZeroPoint, Math.min(typeMax, Math.max(typeMin, six))];
}

export const tflmRelu6Kernel: Kernel = {
  name: "RELU6",
  accepts: acceptsTflmInput(SUPPORTED_TYPES),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, output] = prepareActivationTensors(context, op, SUPPORTED_TYPES);
    // NOTE: TFLM ignores the output's quantization here, and so does this kernel.
    const [lower, upper] = relu6Range(input.scale, input.zeroPoint, input.tensor.type);

    if (isInt8(input)) {
      const table = tabulateInt8((value) => clamp(value, lower, upper));
      context.notePersistentBytes(table.byteLength);
      return int8TableLookup(input.tensor.index, output.tensor.index, table);
    }

    return int16Operator(input, output, 0, (source, out) => {
      const n = source.length;
      for (let i = 0; i < n; i++) {
        let value = source[i];
        if (value > upper) value = upper;
        else if (value < lower) value = lower;
        out[i] = value;
      }
    });
  },
};
