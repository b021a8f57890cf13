// MUL of int8 or int16 tensors as TFLM's reference kernel computes it
// (tflite-micro 90b983c2: micro/kernels/mul_common.cc and
// reference/integer_ops/mul.h), with broadcasting and a fused activation.
// The product of the two centered inputs is scaled by one multiplier,
// sa * sb / so derived in double, with MultiplyByQuantizedMultiplier. The
// output zero point is added before the clamp. TFLM requires zero points of
// 0 for int16 and gives int16 inputs an int16 output.

import { UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { QuantizedMultiplier, quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { readMulOptions } from "../../runtime/schema/options_elementwise.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { activationRange, describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { OperandViews, RowFunction, broadcastOperator } from "./broadcast.js";
import { BinaryOperands, acceptsTflmInteger, tflmBinaryOperands } from "./operands.js";

/** Largest |x| for which boundedProductRow's multiply stays inside int32 (requantize.ts's WIDE_FORM bound). */
const INLINE_PRODUCT_LIMIT = 1 << 29;

export const tflmMulKernel: Kernel = {
  name: "MUL",
  accepts: acceptsTflmInteger,
  prepare: prepareMul,
};

/**
 * Derives MUL's multiplier as CalculateOpDataMul does: QuantizeMultiplier
 * of double(sa) * double(sb) / double(so). A multiplier of 2^30 or more
 * throws InvalidModelError (quantizeMultiplier).
 */
export function mulMultiplier(op: OperatorDef, aScale: number, bScale: number, outputScale: number): QuantizedMultiplier {
  return quantizeMultiplier((aScale * bScale) / outputScale, `operator ${op.index} (${op.name}) output multiplier`);
}

function prepareMul(context: PrepareContext, op: OperatorDef): PreparedOp {
  const operands = tflmBinaryOperands(context, op);
  if (operands.type === TensorType.INT16) checkInt16ZeroPoints(op, operands);
  const options = readMulOptions(context.reader, op);
  const [activationMin, activationMax] = activationRange(op, options.activation, operands.output);
  const { multiplierQ31, shift } = mulMultiplier(op, operands.aScale, operands.bScale, operands.outputScale);
  const row: RowParameters = {
    aOffset: -operands.aZeroPoint,
    bOffset: -operands.bZeroPoint,
    multiplierQ31,
    leftShift: shift > 0 ? shift : 0,
    rightShift: shift > 0 ? 0 : -shift,
    zeroPoint: operands.outputZeroPoint,
    min: activationMin,
    max: activationMax,
  };

  // The product of two centered int8 values is at most 255 * 255 in
  // magnitude. While it stays within 2^29 after the left shift, the
  // shorter form of the multiply applies.
  const int8 = operands.type === TensorType.INT8;
  const maxProduct = maxCentered(row.aOffset) * maxCentered(row.bOffset) * 2 ** row.leftShift;
  return broadcastOperator(context, op, operands, true, (views) => {
    if (int8 && maxProduct <= INLINE_PRODUCT_LIMIT) return boundedProductRow(views.int8, row);
    return int8 ? anyProductRow(views.int8, row) : anyProductRow(views.int16, row);
  });
}

interface RowParameters {
  aOffset: number;
  bOffset: number;
  multiplierQ31: number;
  leftShift: number;
  rightShift: number;
  /** Output zero point and the fused activation's clamp range. */
  zeroPoint: number;
  min: number;
  max: number;
}

/**
 * Returns the row for products within 2^29 after the left shift: the
 * multiply is requantize.ts's WIDE_FORM, and the rounding division adds
 * half and a sign correction, which cannot overflow at that size.
 */
function boundedProductRow(views: OperandViews<Int8Array>, row: RowParameters): RowFunction {
  const { aOffset, bOffset, leftShift, rightShift, zeroPoint, min, max } = row;
  const multiplierLow = row.multiplierQ31 & 0xffff;
  const multiplierHigh = row.multiplierQ31 >> 16;
  // For rightShift 0 both terms vanish and the division is the identity.
  const roundingHalf = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  const negativeMask = rightShift > 0 ? -1 : 0;
  const imul = Math.imul;
  return (aIndex, aStep, bIndex, bStep, outputIndex, count) => {
    const aValues = views.a;
    const bValues = views.b;
    const outputValues = views.output;
    const end = outputIndex + count;
    for (let i = outputIndex; i < end; i++) {
      const product = ((aValues[aIndex] + aOffset) * (bValues[bIndex] + bOffset)) << leftShift;
      aIndex += aStep;
      bIndex += bStep;

      // saturatingRoundingDoublingHighMul(product, multiplierQ31) from 16-bit limbs.
      const high = product >> 16;
      const low = product & 0xffff;
      const middle1 = high * multiplierLow + (imul(low, multiplierLow) >>> 16);
      const middle2 = low * multiplierHigh + (middle1 & 0xffff);
      const scaled = ((high * multiplierHigh + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
      // roundingDivideByPOT(scaled, rightShift): ties away from zero.
      let value = ((scaled + roundingHalf + ((scaled >> 31) & negativeMask)) >> rightShift) + zeroPoint;

      if (value < min) value = min;
      if (value > max) value = max;
      outputValues[i] = value;
    }
  };
}

/**
 * Returns the row for any int32 product: runtime/fixedpoint.ts's
 * multiplyByQuantizedMultiplier inlined. TFLM's left shift wraps in int32,
 * as `<<` does, and the rounding division compares the remainder with its
 * threshold instead of adding, so nothing leaves int32.
 */
function anyProductRow(views: OperandViews<Int8Array> | OperandViews<Int16Array>, row: RowParameters): RowFunction {
  const { aOffset, bOffset, leftShift, rightShift, zeroPoint, min, max } = row;
  const multiplierLow = row.multiplierQ31 & 0xffff;
  const multiplierHigh = row.multiplierQ31 >> 16;
  const mask = ~(-1 << rightShift);
  const imul = Math.imul;
  return (aIndex, aStep, bIndex, bStep, outputIndex, count) => {
    const aValues = views.a;
    const bValues = views.b;
    const outputValues = views.output;
    const end = outputIndex + count;
    for (let i = outputIndex; i < end; i++) {
      // Below 2^31 in magnitude: 255 * 255 for int8, 2^30 for int16 with zero points of 0.
      const product = ((aValues[aIndex] + aOffset) * (bValues[bIndex] + bOffset)) << leftShift;
      aIndex += aStep;
      bIndex += bStep;

      // saturatingRoundingDoublingHighMul(product, multiplierQ31). The
      // multiplier is not negative, so the saturating case cannot occur.
      const high = product >> 16;
      const low = product & 0xffff;
      const middle1 = high * multiplierLow + (imul(low, multiplierLow) >>> 16);
      const middle2 = low * multiplierHigh + (middle1 & 0xffff);
      const scaled = (((high * multiplierHigh + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15)) | 0;
      // roundingDivideByPOT: the threshold grows by one for a negative value.
      const divided = (scaled >> rightShift) + ((scaled & mask) > (mask >> 1) - (scaled >> 31) ? 1 : 0);
      // TFLM adds the zero point in int32, so wrap as it does.
      let value = (divided + zeroPoint) | 0;

      if (value < min) value = min;
      if (value > max) value = max;
      outputValues[i] = value;
    }
  };
}

/** Largest |v + offset| over int8 values v. */
function maxCentered(offset: number): number {
  return Math.max(Math.abs(-128 + offset), Math.abs(127 + offset));
}

/** TFLM's MulPrepare and MulEval reject int16 tensors with a nonzero zero point. */
function checkInt16ZeroPoints(op: OperatorDef, operands: BinaryOperands): void {
  const tensors: Array<[string, number, typeof operands.a]> = [
    ["input", operands.aZeroPoint, operands.a],
    ["input", operands.bZeroPoint, operands.b],
    ["output", operands.outputZeroPoint, operands.output],
  ];
  for (const [role, zeroPoint, tensor] of tensors) {
    if (zeroPoint !== 0) {
      throw new UnsupportedError(
        `operator ${op.index} (MUL): int16 ${role} ${describeTensor(tensor)} has zero point ${zeroPoint}; TFLM's int16 MUL ` +
          `needs symmetric quantization (zero point 0), so requantize the model with symmetric int16 activations`,
      );
    }
  }
}
