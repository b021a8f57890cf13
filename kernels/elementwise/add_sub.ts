// ADD and SUB of int8 or int16 tensors as TFLM's reference kernels compute
// them (tflite-micro 90b983c2: micro/kernels/add_common.cc, sub_common.cc,
// reference/add.h, sub.h and integer_ops/add.h), with broadcasting and a
// fused activation.
//
// Each centered input is shifted left (20 bits for int8, 15 for int16) and
// scaled by a Q31 multiplier of s / (2 * max(sa, sb)). The sum or
// difference of the two is scaled by 2 * max(sa, sb) / (2^leftShift * so),
// each step with MultiplyByQuantizedMultiplierSmallerThanOneExp, and the
// output zero point is added before the clamp. ADD derives the three real
// multipliers in double and SUB in float32, so the two can differ by one
// LSB for the same scales. TFLM's int16 ADD takes this general path for
// every scale and zero point: it passes pot_scale = false to
// reference_ops::Add, and its int16 SUB reads no such flag.

import { UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { QuantizedMultiplier, quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { readSubOptions, readTflmAddOptions } from "../../runtime/schema/options_elementwise.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { activationRange } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { OperandViews, RowFunction, broadcastOperator } from "./broadcast.js";
import { acceptsTflmInteger, tflmBinaryOperands } from "./operands.js";

/** TFLM's left shifts of a centered input c: |c| < 2^8 gives c * 2^20 < 2^28 for int8, |c| < 2^16 gives c * 2^15 < 2^31 for int16. */
const INT8_LEFT_SHIFT = 20;
const INT16_LEFT_SHIFT = 15;

export type AddSubKind = "ADD" | "SUB";

/** Integer parameters of one ADD or SUB. Each multiplier is multiplierQ31 * 2^shift / 2^31 with shift <= 0. */
export interface AddSubParameters {
  leftShift: number;
  aMultiplier: number;
  aShift: number;
  bMultiplier: number;
  bShift: number;
  outputMultiplier: number;
  outputShift: number;
}

export const tflmAddKernel: Kernel = {
  name: "ADD",
  accepts: acceptsTflmInteger,
  prepare: (context, op) => prepareAddSub(context, op, "ADD"),
};

export const tflmSubKernel: Kernel = {
  name: "SUB",
  accepts: acceptsTflmInteger,
  prepare: (context, op) => prepareAddSub(context, op, "SUB"),
};

/**
 * Derives the multipliers as CalculateOpDataAdd (in double) or
 * CalculateOpDataSub (in float32) does. Throws UnsupportedError where TFLM
 * aborts: a real multiplier outside (0, 1) or one that rounds up to 1.
 */
export function addSubParameters(
  op: OperatorDef,
  kind: AddSubKind,
  type: number,
  aScale: number,
  bScale: number,
  outputScale: number,
): AddSubParameters {
  const leftShift = type === TensorType.INT16 ? INT16_LEFT_SHIFT : INT8_LEFT_SHIFT;
  let aReal: number;
  let bReal: number;
  let outputReal: number;
  if (kind === "ADD") {
    const twiceMaxInputScale = 2 * Math.max(aScale, bScale);
    aReal = aScale / twiceMaxInputScale;
    bReal = bScale / twiceMaxInputScale;
    outputReal = twiceMaxInputScale / ((1 << leftShift) * outputScale);
  } else {
    // Each quotient rounds to float32 before it widens to double.
    const twiceMaxInputScale = Math.fround(2 * Math.max(aScale, bScale));
    aReal = Math.fround(aScale / twiceMaxInputScale);
    bReal = Math.fround(bScale / twiceMaxInputScale);
    outputReal = Math.fround(twiceMaxInputScale / Math.fround((1 << leftShift) * outputScale));
  }
  const a = multiplierBelowOne(op, "first input", aReal);
  const b = multiplierBelowOne(op, "second input", bReal);
  const output = multiplierBelowOne(op, "output", outputReal);
  return {
    leftShift,
    aMultiplier: a.multiplierQ31,
    aShift: a.shift,
    bMultiplier: b.multiplierQ31,
    bShift: b.shift,
    outputMultiplier: output.multiplierQ31,
    outputShift: output.shift,
  };
}

/** QuantizeMultiplierSmallerThanOneExp: the real multiplier must lie in (0, 1) and keep a shift of at most 0. */
function multiplierBelowOne(op: OperatorDef, role: string, realMultiplier: number): QuantizedMultiplier {
  const subject = `operator ${op.index} (${op.name}): ${role} multiplier ${realMultiplier}`;
  // The output multiplier grows as the output scale shrinks; the input
  // multipliers are ratios of the input scales and lie in (0, 0.5].
  const fix = realMultiplier > 0 ? "the output scale is too small for the input scales" : "the output scale is too large for the input scales";
  if (!(realMultiplier > 0 && realMultiplier < 1)) {
    throw new UnsupportedError(`${subject} lies outside (0, 1), which TFLM's ${op.name} requires; ${fix}`);
  }
  const quantized = quantizeMultiplier(realMultiplier, subject);
  if (quantized.shift > 0) {
    throw new UnsupportedError(`${subject} rounds up to 1, which TFLM's ${op.name} rejects; ${fix}`);
  }
  return quantized;
}

function prepareAddSub(context: PrepareContext, op: OperatorDef, kind: AddSubKind): PreparedOp {
  const operands = tflmBinaryOperands(context, op);
  const output = operands.output;
  const options = kind === "ADD" ? readTflmAddOptions(context.reader, op) : readSubOptions(context.reader, op);
  const [activationMin, activationMax] = activationRange(op, options.activation, output);
  const parameters = addSubParameters(op, kind, operands.type, operands.aScale, operands.bScale, operands.outputScale);
  const clamp: Clamp = { zeroPoint: operands.outputZeroPoint, min: activationMin, max: activationMax };
  const bSign = kind === "ADD" ? 1 : -1;

  if (operands.type !== TensorType.INT8) {
    return broadcastOperator(context, op, operands, false, (views) =>
      int16Row(views.int16, parameters, -operands.aZeroPoint, -operands.bZeroPoint, bSign, clamp),
    );
  }
  // An int8 input has 256 values, so its scaled value is looked up. SUB
  // stores the second input's negated, which is exact in int32.
  const { leftShift, aMultiplier, aShift, bMultiplier, bShift } = parameters;
  const aScaled = scaledInputTable(-operands.aZeroPoint, leftShift, aMultiplier, aShift, 1);
  const bScaled = scaledInputTable(-operands.bZeroPoint, leftShift, bMultiplier, bShift, bSign);
  context.notePersistentBytes(aScaled.byteLength + bScaled.byteLength);
  return broadcastOperator(context, op, operands, false, (views) =>
    int8Row(views.int8, aScaled, bScaled, parameters.outputMultiplier, parameters.outputShift, clamp),
  );
}

/** Output zero point and the fused activation's clamp range. */
interface Clamp {
  zeroPoint: number;
  min: number;
  max: number;
}

/**
 * Tabulates sign * MultiplyByQuantizedMultiplierSmallerThanOneExp((v + offset) << leftShift)
 * for every int8 value v, indexed by `v & 0xff`.
 */
function scaledInputTable(offset: number, leftShift: number, multiplierQ31: number, shift: number, sign: number): Int32Array {
  const table = new Int32Array(256);
  for (let index = 0; index < 256; index++) {
    const value = (index << 24) >> 24;
    table[index] = sign * multiplyByQuantizedMultiplier((value + offset) << leftShift, multiplierQ31, shift);
  }
  return table;
}

/** Returns the int8 row: two table lookups and the output multiply per element. */
function int8Row(views: OperandViews<Int8Array>, aScaled: Int32Array, bScaled: Int32Array, outputMultiplier: number, outputShift: number, clamp: Clamp): RowFunction {
  // The output multiply is requantize.ts's WIDE_FORM: the centered int8
  // input times 2^20 is below 2^28 in magnitude, each scaled one at most
  // half of that plus 1 (a multiplier of at most 0.5), so |sum| < 2^29.
  const multiplierLow = outputMultiplier & 0xffff;
  const multiplierHigh = outputMultiplier >> 16;
  const rightShift = -outputShift;
  // For rightShift 0 both terms vanish and the division is the identity.
  const roundingHalf = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  const negativeMask = rightShift > 0 ? -1 : 0;
  const { zeroPoint, min, max } = clamp;
  const imul = Math.imul;
  return (aIndex, aStep, bIndex, bStep, outputIndex, count) => {
    const aValues = views.a;
    const bValues = views.b;
    const outputValues = views.output;
    const end = outputIndex + count;
    for (let i = outputIndex; i < end; i++) {
      const sum = aScaled[aValues[aIndex] & 0xff] + bScaled[bValues[bIndex] & 0xff];
      aIndex += aStep;
      bIndex += bStep;

      // saturatingRoundingDoublingHighMul(sum, outputMultiplier) from 16-bit limbs.
      const high = sum >> 16;
      const low = sum & 0xffff;
      const middle1 = high * multiplierLow + (imul(low, multiplierLow) >>> 16);
      const middle2 = low * multiplierHigh + (middle1 & 0xffff);
      const product = ((high * multiplierHigh + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
      // roundingDivideByPOT(product, rightShift): ties away from zero.
      let value = ((product + roundingHalf + ((product >> 31) & negativeMask)) >> rightShift) + zeroPoint;

      if (value < min) value = min;
      if (value > max) value = max;
      outputValues[i] = value;
    }
  };
}

/**
 * Returns the int16 row (left shift 15), with TFLM's three multiplies
 * inlined in int32.
 *
 * Input stage: c = v + offset has |c| < 2^16, and the rounding doubling
 * high multiply of c * 2^15 by M is floor((c * M * 2^15 + 2^30) / 2^31)
 * = floor((c * M + 2^15) / 2^16), because it rounds ties toward +infinity.
 * With M = mHigh * 2^16 + mLow and c = cHigh * 2^8 + cLow (cLow unsigned),
 * that is c * mHigh + floor((cHigh * mLow * 2^8 + cLow * mLow + 2^15) / 2^16),
 * where each product stays below 2^31 in magnitude. c * 2^15 never reaches
 * -2^31, so the saturating case cannot occur.
 */
function int16Row(views: OperandViews<Int16Array>, parameters: AddSubParameters, aOffset: number, bOffset: number, bSign: number, clamp: Clamp): RowFunction {
  const aHigh = parameters.aMultiplier >>> 16;
  const aLow = parameters.aMultiplier & 0xffff;
  const aRightShift = -parameters.aShift;
  const aMask = ~(-1 << aRightShift);
  const bHigh = parameters.bMultiplier >>> 16;
  const bLow = parameters.bMultiplier & 0xffff;
  const bRightShift = -parameters.bShift;
  const bMask = ~(-1 << bRightShift);
  const outputHigh = parameters.outputMultiplier >> 16;
  const outputLow = parameters.outputMultiplier & 0xffff;
  const outputRightShift = -parameters.outputShift;
  const outputMask = ~(-1 << outputRightShift);
  const { zeroPoint, min, max } = clamp;
  const imul = Math.imul;
  return (aIndex, aStep, bIndex, bStep, outputIndex, count) => {
    const aValues = views.a;
    const bValues = views.b;
    const outputValues = views.output;
    const end = outputIndex + count;
    for (let i = outputIndex; i < end; i++) {
      const a = aValues[aIndex] + aOffset;
      const b = bValues[bIndex] + bOffset;
      aIndex += aStep;
      bIndex += bStep;

      const aHighPart = (a >> 8) * aLow;
      const aProduct = a * aHigh + (aHighPart >> 8) + ((((aHighPart & 0xff) << 8) + (a & 0xff) * aLow + 0x8000) >> 16);
      // roundingDivideByPOT: the threshold grows by one for a negative value.
      const aScaled = (aProduct >> aRightShift) + ((aProduct & aMask) > (aMask >> 1) - (aProduct >> 31) ? 1 : 0);
      const bHighPart = (b >> 8) * bLow;
      const bProduct = b * bHigh + (bHighPart >> 8) + ((((bHighPart & 0xff) << 8) + (b & 0xff) * bLow + 0x8000) >> 16);
      const bScaled = (bProduct >> bRightShift) + ((bProduct & bMask) > (bMask >> 1) - (bProduct >> 31) ? 1 : 0);

      // Range: each scaled input is at most half of |c| * 2^15 < 2^31 (a
      // multiplier of at most 0.5) plus 1, so the sum or difference fits int32.
      const raw = aScaled + bSign * bScaled;

      // saturatingRoundingDoublingHighMul(raw, outputMultiplier) as in
      // runtime/fixedpoint.ts. The multiplier is positive, so it never saturates.
      const high = raw >> 16;
      const low = raw & 0xffff;
      const middle1 = high * outputLow + (imul(low, outputLow) >>> 16);
      const middle2 = low * outputHigh + (middle1 & 0xffff);
      const product = (((high * outputHigh + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15)) | 0;
      const scaled = (product >> outputRightShift) + ((product & outputMask) > (outputMask >> 1) - (product >> 31) ? 1 : 0);
      // TFLM adds the zero point in int32, so wrap as it does.
      let value = (scaled + zeroPoint) | 0;

      if (value < min) value = min;
      if (value > max) value = max;
      outputValues[i] = value;
    }
  };
}
