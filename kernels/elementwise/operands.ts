// Prepare-time checks shared by the TFLM ADD, SUB and MUL kernels: the
// scheme, the operand types and their per-tensor quantization.

import { UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkPerTensorQuantization, checkType, checkZeroPoint } from "../common.js";
import { PrepareContext } from "../kernel.js";

/** The two inputs and the output of a binary operator, with their quantization. */
export interface BinaryOperands {
  readonly a: TensorDef;
  readonly b: TensorDef;
  readonly output: TensorDef;
  /** INT8 or INT16, the type of all three tensors. */
  readonly type: number;
  readonly aScale: number;
  readonly bScale: number;
  readonly outputScale: number;
  readonly aZeroPoint: number;
  readonly bZeroPoint: number;
  readonly outputZeroPoint: number;
}

/**
 * True for an operator under the "tflm" scheme whose first input is int8 or
 * int16. A malformed first input index counts as accepted, so that the
 * kernel's own checks report it.
 */
export function acceptsTflmInteger(context: PrepareContext, op: OperatorDef): boolean {
  if (context.scheme.name !== "tflm") return false;
  let type: number;
  try {
    type = context.tensor(op.inputs[0]).type;
  } catch {
    return true;
  }
  return type === TensorType.INT8 || type === TensorType.INT16;
}

/**
 * Checks the operand counts, types and quantization of a binary operator as
 * TFLM runs it: the "tflm" scheme, int8 or int16 for all three tensors, one
 * scale and zero point each. Throws UnsupportedError or InvalidModelError.
 */
export function tflmBinaryOperands(context: PrepareContext, op: OperatorDef): BinaryOperands {
  if (context.scheme.name !== "tflm") {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) runs with TFLM's integer arithmetic only, but the model's requantization ` +
        `scheme is "${context.scheme.name}"; run the model with the scheme "tflm"`,
    );
  }
  checkInputCount(op, 2, 2);
  checkOutputCount(op, 1);
  const a = context.tensor(op.inputs[0]);
  const b = context.tensor(op.inputs[1]);
  const output = context.tensor(op.outputs[0]);
  checkType(op, a, "input", [TensorType.INT8, TensorType.INT16]);
  checkType(op, b, "input", [a.type]);
  checkType(op, output, "output", [a.type]);

  checkPerTensorQuantization(op, a, "input");
  checkPerTensorQuantization(op, b, "input");
  checkPerTensorQuantization(op, output, "output");
  return {
    a,
    b,
    output,
    type: a.type,
    aScale: a.scale[0],
    bScale: b.scale[0],
    outputScale: output.scale[0],
    aZeroPoint: checkZeroPoint(op, a, "input"),
    bZeroPoint: checkZeroPoint(op, b, "input"),
    outputZeroPoint: checkZeroPoint(op, output, "output"),
  };
}
