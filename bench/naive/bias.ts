// The optional bias input of the naive kernels. When the input is omitted,
// TFLM passes a null bias pointer and tests it once per output, so the naive
// kernels keep that null instead of substituting zeros.

import { OperatorDef } from "../../runtime/model.js";
import { PrepareContext } from "../../kernels/kernel.js";
import { readBias } from "../../kernels/common.js";

/** Returns the int32 bias at input `inputIndex`, or null when the operator omits it. */
export function readOptionalBias(context: PrepareContext, op: OperatorDef, inputIndex: number, channels: number): Int32Array | null {
  const hasBias = op.inputs.length > inputIndex && op.inputs[inputIndex] >= 0;
  return hasBias ? readBias(context, op, inputIndex, channels) : null;
}
