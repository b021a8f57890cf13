// Prepare-time checks and the int8 table loop shared by the activation
// kernels of the "tflm" scheme. An int8 activation depends on nothing but the
// input value, so those kernels run TFLM's per-element arithmetic once for
// each of the 256 values at prepare and look the results up in invoke().

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkType,
  checkZeroPoint,
  describeTensor,
} from "../common.js";
import { MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";

/** Quantization of an activation's input or output: one scale and zero point. */
export interface ActivationTensor {
  readonly tensor: TensorDef;
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * Returns an `accepts` for the registry: scheme "tflm" and an input of one
 * of the given types. An operator without a readable input is accepted, so
 * that prepare reports what is wrong with it.
 */
export function acceptsTflmInput(types: readonly number[]): (context: PrepareContext, op: OperatorDef) => boolean {
  return (context, op) => {
    if (context.scheme.name !== "tflm") return false;
    const inputIndex = op.inputs[0];
    if (inputIndex === undefined || inputIndex < 0) return true;
    let type: number;
    try {
      type = context.tensor(inputIndex).type;
    } catch {
      return true;
    }
    return types.includes(type);
  };
}

/**
 * Checks what every activation kernel needs: scheme "tflm", one input and one
 * output of the same type among `types`, the same element count, and
 * per-tensor quantization on both. Returns both tensors with their scale and
 * zero point.
 */
export function prepareActivationTensors(
  context: PrepareContext,
  op: OperatorDef,
  types: readonly number[],
): [ActivationTensor, ActivationTensor] {
  checkInputCount(op, 1, 1);
  checkOutputCount(op, 1);
  const input = context.tensor(op.inputs[0]);
  const output = context.tensor(op.outputs[0]);
  if (context.scheme.name !== "tflm") {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) is implemented for the "tflm" requantization scheme only, and this model uses ` +
        `"${context.scheme.name}"; convert the model with the TFLite converter or choose the "tflm" scheme`,
    );
  }
  checkType(op, input, "input", types);
  if (output.type !== input.type) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): output ${describeTensor(output)} is ${tensorTypeName(output.type)} but input ` +
        `${describeTensor(input)} is ${tensorTypeName(input.type)}; TFLM's ${op.name} needs both of one type`,
    );
  }
  if (input.elementCount !== output.elementCount) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): input ${describeTensor(input)} has shape [${input.shape}] but output ` +
        `${describeTensor(output)} has shape [${output.shape}]; an elementwise operator keeps the element count, so the file is corrupted`,
    );
  }
  checkPerTensorQuantization(op, input, "input");
  checkPerTensorQuantization(op, output, "output");
  return [
    { tensor: input, scale: input.scale[0], zeroPoint: checkZeroPoint(op, input, "input") },
    { tensor: output, scale: output.scale[0], zeroPoint: checkZeroPoint(op, output, "output") },
  ];
}

/** Throws UnsupportedError unless the tensor's zero point is 0, as TFLM's int16 activations require. */
export function checkZeroZeroPoint(op: OperatorDef, quantization: ActivationTensor, role: string): void {
  if (quantization.zeroPoint !== 0) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(quantization.tensor)} has zero point ${quantization.zeroPoint}; ` +
        `TFLM's int16 ${op.name} needs zero point 0 (symmetric int16 quantization)`,
    );
  }
}

/** Tabulates an int8 function for every stored value v, at index v & 0xff. */
export function tabulateInt8(apply: (value: number) => number): Int8Array {
  const table = new Int8Array(256);
  for (let value = -128; value <= 127; value++) table[value & 0xff] = apply(value);
  return table;
}

/** Builds the operator out[i] = table[in[i] & 0xff] on int8 tensors. */
export function int8TableLookup(inputIndex: number, outputIndex: number, table: Int8Array): PreparedOp {
  let inputData: Int8Array = new Int8Array(0);
  let outputData: Int8Array = new Int8Array(0);
  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = memory.int8(inputIndex);
      outputData = memory.int8(outputIndex);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const lookup = table;
      const n = input.length;
      for (let i = 0; i < n; i++) out[i] = lookup[input[i] & 0xff];
    },
  };
}

/**
 * Builds the operator that runs `apply(input, output)` once per invoke over
 * the whole int16 input and output tensors; `apply` contains the loop.
 */
export function int16Operator(
  input: ActivationTensor,
  output: ActivationTensor,
  macs: number,
  apply: (input: Int16Array, output: Int16Array) => void,
): PreparedOp {
  const inputIndex = input.tensor.index;
  const outputIndex = output.tensor.index;
  let inputData: Int16Array = new Int16Array(0);
  let outputData: Int16Array = new Int16Array(0);
  return {
    macs,
    bind(memory: MemoryContext): void {
      inputData = memory.int16(inputIndex);
      outputData = memory.int16(outputIndex);
    },
    invoke(): void {
      apply(inputData, outputData);
    },
  };
}

/** Returns value limited to [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  if (value < min) return min;
  if (value > max) return max;
  return value;
}

/** True for TensorType.INT8. */
export function isInt8(quantization: ActivationTensor): boolean {
  return quantization.tensor.type === TensorType.INT8;
}
