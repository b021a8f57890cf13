// SOFTMAX with int8 input and int8 or int16 output, as TFLM's reference
// Softmax computes it: exp in gemmlowp fixed point, a Q12 sum of exps, and
// one fixed-point reciprocal per row.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul } from "../runtime/fixedpoint.js";
import { expOnNegativeValues, getReciprocal, reciprocalBitsOverUnit } from "../runtime/fixedpoint_exp.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { frexp, roundHalfAwayFromZero } from "../runtime/quantize_multiplier.js";
import { readSoftmaxOptions } from "../runtime/schema/options.js";
import { TensorType } from "../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkShape,
  checkType,
  checkZeroPoint,
  describeTensor,
} from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

/** Integer bits of the scaled input differences fed to exp (Q5.26). */
const SCALED_DIFF_INTEGER_BITS = 5;
/** Integer bits of the sum of exps (Q12.19). */
const ACCUMULATION_INTEGER_BITS = 12;
/** Input differences of int8 values lie in [-255, 0]. */
const INT8_DIFF_COUNT = 256;

/** The input multiplier of exp's argument: beta * input_scale in Q5.26, as multiplierQ31 * 2^leftShift. */
interface InputMultiplier {
  multiplierQ31: number;
  /** Left shift in [0, 31]. */
  leftShift: number;
}

export const softmaxKernel: Kernel = {
  name: "SOFTMAX",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8]);
    checkType(op, output, "output", [TensorType.INT8, TensorType.INT16]);
    if (input.shape.length < 1) {
      throw new InvalidModelError(
        `operator ${op.index} (SOFTMAX): input ${describeTensor(input)} is a scalar, expected at least 1 dimension; the file is corrupted`,
      );
    }
    checkShape(op, output, "output", input.shape);

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    checkZeroPoint(op, input, "input");
    checkOutputQuantization(op, output);

    const beta = readSoftmaxOptions(context.reader, op).beta;
    const { multiplierQ31, leftShift } = inputMultiplier(op, beta, input.scale[0]);
    const expTable = expTableForInt8(multiplierQ31, leftShift);
    context.notePersistentBytes(expTable.byteLength);

    const depth = input.shape[input.shape.length - 1];
    const rows = depth > 0 ? input.elementCount / depth : 0;
    const outputIsInt16 = output.type === TensorType.INT16;
    const outputBits = outputIsInt16 ? 16 : 8;
    const outputMin = outputIsInt16 ? -32768 : -128;
    const outputMax = outputIsInt16 ? 32767 : 127;

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array | Int16Array = new Int8Array(0);

    return {
      // One fixed-point multiply by the row's reciprocal per element.
      macs: input.elementCount,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = outputIsInt16 ? memory.int16(outputIndex) : memory.int8(outputIndex);
      },
      invoke(): void {
        const input = inputData;
        const out = outputData;
        const table = expTable;
        for (let row = 0; row < rows; row++) {
          const base = row * depth;
          const end = base + depth;

          let maxInRow = -128;
          for (let i = base; i < end; i++) {
            const value = input[i];
            if (value > maxInRow) maxInRow = value;
          }

          // Q12 sum of the exps. Rescaling an exp from Q0 is a rounding
          // divide by 2^12, which for a non-negative value adds bit 11 to
          // the shifted value. Every term is at most 2^19, so up to 4095
          // elements cannot overflow. Beyond that the sum wraps as TFLM's
          // int32 sum does.
          let sumOfExps = 0;
          for (let i = base; i < end; i++) {
            const exp = table[maxInRow - input[i]];
            sumOfExps = (sumOfExps + (exp >> 12) + ((exp >> 11) & 1)) | 0;
          }

          // 1 / sum = shiftedScale * 2^-bitsOverUnit, and the output is
          // exp / sum in units of 2^-outputBits.
          const shiftedScale = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
          const exponent = reciprocalBitsOverUnit(sumOfExps, ACCUMULATION_INTEGER_BITS) + 31 - outputBits;

          if (exponent < 0 || exponent > 31) {
            // NOTE: TFLM aborts here. For int8 output that happens once the
            // sum of exps reaches 512 (raw 2^28), where every quotient would
            // round to 0, so the row gets the output minimum. A sum that
            // wrapped past int32 may land here too.
            for (let i = base; i < end; i++) out[i] = outputMin;
            continue;
          }

          for (let i = base; i < end; i++) {
            const exp = table[maxInRow - input[i]];
            let value = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, exp), exponent) + outputMin;
            if (value > outputMax) value = outputMax;
            out[i] = value;
          }
        }
      },
    };
  },
};

/**
 * Checks the fixed output quantization TFLM's softmax assumes: scale 1/256
 * exactly and zero point -128 for int8, scale 1/65536 within 0.1% and zero
 * point -32768 for int16 (both compared in float32, as TFLM does).
 */
function checkOutputQuantization(op: OperatorDef, output: TensorDef): void {
  const scale = output.scale[0];
  const zeroPoint = checkZeroPoint(op, output, "output");
  let scaleMatches: boolean;
  let expected: string;
  if (output.type === TensorType.INT16) {
    const target = Math.fround(1 / 65536);
    const tolerance = Math.fround(Math.fround(0.001) / 65536);
    scaleMatches = Math.fround(Math.abs(scale - target)) <= tolerance && zeroPoint === -32768;
    expected = "scale 1/65536 and zero point -32768";
  } else {
    scaleMatches = scale === 1 / 256 && zeroPoint === -128;
    expected = "scale 1/256 and zero point -128";
  }
  if (!scaleMatches) {
    throw new UnsupportedError(
      `output ${describeTensor(output)} of operator ${op.index} (SOFTMAX) has scale ${scale} and zero point ${zeroPoint}; ` +
        `a quantized softmax needs ${expected}, so requantize the model with the TFLite converter`,
    );
  }
}

/**
 * Derives the multiplier of input differences as TFLM's
 * PreprocessSoftmaxScaling: beta * input_scale * 2^26 in double, capped at
 * 2^31 - 1, then quantized as QuantizeMultiplierGreaterThanOne does.
 */
function inputMultiplier(op: OperatorDef, beta: number, inputScale: number): InputMultiplier {
  const maxRealMultiplier = 0x7fffffff;
  const realMultiplier = Math.min(beta * inputScale * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), maxRealMultiplier);
  if (!(realMultiplier > 1)) {
    throw new UnsupportedError(
      `operator ${op.index} (SOFTMAX): beta ${beta} times input scale ${inputScale} is ${beta * inputScale}, ` +
        `but TFLM's int8 softmax needs more than 2^-26; check the beta option and the input quantization`,
    );
  }

  // Like quantizeMultiplier, but the cap above can make the shift 31, which
  // that function rejects. The fraction cannot round up to 2^31 here,
  // because realMultiplier is at most 2^31 - 1.
  const { fraction, exponent } = frexp(realMultiplier);
  let multiplierQ31 = roundHalfAwayFromZero(fraction * 0x80000000);
  let leftShift = exponent;
  if (multiplierQ31 === 0x80000000) {
    multiplierQ31 /= 2;
    leftShift++;
  }
  return { multiplierQ31, leftShift };
}

/**
 * Tabulates exp(beta * input_scale * diff) in Q0 for every int8 input
 * difference diff = -index, computed exactly as TFLM computes it per
 * element. Differences below TFLM's diff_min, which it skips, get 0, which
 * adds nothing to the sum and yields the output minimum, as skipping does.
 */
function expTableForInt8(multiplierQ31: number, leftShift: number): Int32Array {
  // TFLM skips differences below -inputRadius, where inputRadius is
  // CalculateInputRadius(5, leftShift, 31) = floor((2^5 - 1) * 2^26 / 2^leftShift).
  // Their scaled value would fall below about -31.
  const inputRadius = Math.floor(((2 ** SCALED_DIFF_INTEGER_BITS - 1) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS)) / 2 ** leftShift);
  const table = new Int32Array(INT8_DIFF_COUNT);
  for (let index = 0; index < INT8_DIFF_COUNT && index <= inputRadius; index++) {
    // MultiplyByQuantizedMultiplierGreaterThanOne: |diff| <= inputRadius
    // keeps diff * 2^leftShift within 31 * 2^26, so the shift is exact.
    const diff = -index;
    const scaledDiff = saturatingRoundingDoublingHighMul(diff << leftShift, multiplierQ31);
    table[index] = expOnNegativeValues(scaledDiff, SCALED_DIFF_INTEGER_BITS);
  }
  return table;
}
