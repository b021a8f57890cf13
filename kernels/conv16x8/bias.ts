// Prepare-time reading of the bias of the 16x8 kernels (int16 activations,
// int8 weights) into int64 words, and the per-channel parameters of TFLM's
// int64 MultiplyByQuantizedMultiplier.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { reduceMultiplierToQ15 } from "../../runtime/fixedpoint64.js";
import { OperatorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkType, describeTensor } from "../common.js";
import { PrepareContext } from "../kernel.js";

/** A per-channel int64 bias as words: value = high[c] * 2^32 + (low[c] >>> 0). */
export interface Int64Bias {
  high: Int32Array;
  low: Int32Array;
}

/**
 * Reads a constant bias of one of the allowed types (INT16, INT32 or
 * INT64) as int64 words, sign-extending the narrower types; returns zeros
 * when the bias is omitted (tensorIndex < 0).
 */
export function readInt64Bias(
  context: PrepareContext,
  op: OperatorDef,
  tensorIndex: number,
  channels: number,
  allowed: readonly number[],
): Int64Bias {
  const high = new Int32Array(channels);
  const low = new Int32Array(channels);
  context.notePersistentBytes(high.byteLength + low.byteLength);
  if (tensorIndex < 0) return { high, low };

  const bias = context.tensor(tensorIndex);
  checkType(op, bias, "bias", allowed);
  if (bias.elementCount !== channels) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): bias ${describeTensor(bias)} has ${bias.elementCount} elements, ` +
        `expected ${channels} (one per output channel); the file is corrupted`,
    );
  }
  if (!context.isConstant(tensorIndex)) {
    throw new UnsupportedError(`bias ${describeTensor(bias)} is computed at run time; ${op.name} needs a constant bias here`);
  }
  const bytes = context.constantBytes(tensorIndex);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let c = 0; c < channels; c++) {
    if (bias.type === TensorType.INT64) {
      low[c] = view.getInt32(8 * c, true);
      high[c] = view.getInt32(8 * c + 4, true);
    } else {
      low[c] = bias.type === TensorType.INT16 ? view.getInt16(2 * c, true) : view.getInt32(4 * c, true);
      high[c] = low[c] < 0 ? -1 : 0;
    }
  }
  return { high, low };
}

/** Per-channel parameters of multiplyInt64ByQ15: the Q15 multiplier and the total right shift. */
export interface Int64Requantization {
  multipliersQ15: Int32Array;
  totalShifts: Int32Array;
}

/**
 * Derives the Q15 multipliers and total right shifts of TFLM's int64
 * MultiplyByQuantizedMultiplier. That function requires shift < 8 (a rescale
 * factor below 2^7); TFLM only asserts it, so a larger factor is rejected here.
 */
export function prepareInt64Requantization(
  context: PrepareContext,
  op: OperatorDef,
  multipliers: Int32Array,
  shifts: Int32Array,
): Int64Requantization {
  const channels = multipliers.length;
  const multipliersQ15 = new Int32Array(channels);
  const totalShifts = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    if (shifts[c] >= 8) {
      throw new UnsupportedError(
        `operator ${op.index} (${op.name}) channel ${c}: rescale factor input_scale * weight_scale / output_scale ` +
          `is 2^${shifts[c] - 1} or more, beyond the 2^7 that TFLM's int64 requantization supports; check the quantization scales`,
      );
    }
    multipliersQ15[c] = reduceMultiplierToQ15(multipliers[c]);
    totalShifts[c] = 15 - shifts[c];
  }
  context.notePersistentBytes(multipliersQ15.byteLength + totalShifts.byteLength);
  return { multipliersQ15, totalShifts };
}
