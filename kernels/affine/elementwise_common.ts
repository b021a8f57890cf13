// Prepare-time helpers of the affine elementwise, pooling and data-movement
// kernels: typed views by element type, lookup tables of one quantized byte,
// shape padding and constant index tensors. Only the views returned by the
// bind helpers are touched inside invoke().

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType, tensorTypeBytes, tensorTypeName } from "../../runtime/tensor_types.js";
import { checkZeroPoint, describeTensor, typeRange } from "../common.js";
import { MemoryContext, PrepareContext } from "../kernel.js";

/** Highest rank of the broadcast, pad and transpose loops. */
export const MAX_LOOP_RANK = 6;

export type QuantizedArray = Int8Array | Uint8Array | Int16Array;

/** A view of any 1-, 2- or 4-byte tensor for operators that move elements without reading them. */
export type ElementArray = Uint8Array | Int16Array | Int32Array;

/** Table from a stored uint8 or int8 value to an output value, indexed by `value & 0xff`. */
export type ByteTable = Int8Array | Uint8Array;

export function describeOperator(op: OperatorDef): string {
  return `operator ${op.index} (${op.name})`;
}

/** Returns the typed view of an int8, uint8 or int16 tensor. */
export function quantizedView(memory: MemoryContext, tensor: TensorDef): QuantizedArray {
  if (tensor.type === TensorType.UINT8) return memory.uint8(tensor.index);
  if (tensor.type === TensorType.INT16) return memory.int16(tensor.index);
  return memory.int8(tensor.index);
}

/**
 * Returns a view with the tensor's element size: Uint8Array for 1-byte types,
 * Int16Array for 2-byte and Int32Array for 4-byte types. Copying through it
 * keeps every bit, float32 NaN payloads included.
 */
export function elementView(memory: MemoryContext, tensor: TensorDef): ElementArray {
  const bytes = tensorTypeBytes(tensor.type);
  if (bytes === 1) return memory.uint8(tensor.index);
  if (bytes === 2) return memory.int16(tensor.index);
  return memory.int32(tensor.index);
}

/** Throws UnsupportedError unless the element type is 1, 2 or 4 bytes long. */
export function checkMovableType(op: OperatorDef, tensor: TensorDef, role: string): void {
  const bytes = tensorTypeBytes(tensor.type);
  if (bytes !== 1 && bytes !== 2 && bytes !== 4) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} is ${tensorTypeName(tensor.type)}; ` +
        `${op.name} supports element types of 1, 2 or 4 bytes here`,
    );
  }
}

/** Throws InvalidModelError unless input and output have the same number of elements. */
export function checkSameElementCount(op: OperatorDef, input: TensorDef, output: TensorDef): void {
  if (input.elementCount !== output.elementCount) {
    throw new InvalidModelError(
      `${describeOperator(op)}: input ${describeTensor(input)} has shape [${input.shape}] but output ` +
        `${describeTensor(output)} has shape [${output.shape}]; the element counts must be equal, so the file is corrupted`,
    );
  }
}

export function zeroPointOf(tensor: TensorDef): number {
  return tensor.zeroPoint.length > 0 ? tensor.zeroPoint[0] : 0;
}

/**
 * Throws UnsupportedError unless two tensors carry the same quantization:
 * equal scales and zero points, or both unquantized. Operators that copy
 * stored integers need this, because a copy does not rescale.
 */
export function checkSameQuantization(op: OperatorDef, input: TensorDef, output: TensorDef, inputRole: string): void {
  const inputScale = input.scale.length > 0 ? input.scale[0] : 0;
  const outputScale = output.scale.length > 0 ? output.scale[0] : 0;
  const inputZeroPoint = zeroPointOf(input);
  const outputZeroPoint = zeroPointOf(output);
  if (input.scale.length > 1 || output.scale.length > 1) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${inputRole} ${describeTensor(input)} or output ${describeTensor(output)} is quantized ` +
        `per channel; ${op.name} copies per-tensor quantized or unquantized values only`,
    );
  }
  if (inputScale !== outputScale || inputZeroPoint !== outputZeroPoint) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${inputRole} ${describeTensor(input)} has scale ${inputScale} and zero point ${inputZeroPoint}, ` +
        `output ${describeTensor(output)} has scale ${outputScale} and zero point ${outputZeroPoint}; ${op.name} copies ` +
        `stored values, so give both tensors the same quantization (or add a QUANTIZE operator to rescale)`,
    );
  }
}

/** Scale and zero point of a per-tensor quantized tensor. */
export interface Quantization {
  scale: number;
  zeroPoint: number;
}

/** Reads a per-tensor scale and zero point, validating both. */
export function perTensorQuantization(op: OperatorDef, tensor: TensorDef, role: string): Quantization {
  if (tensor.scale.length !== 1) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has ${tensor.scale.length} quantization scales; ` +
        `${op.name} needs one per-tensor scale and zero point`,
    );
  }
  const scale = tensor.scale[0];
  if (!(scale > 0)) {
    throw new InvalidModelError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has scale ${scale}, expected a positive scale; the file is corrupted`,
    );
  }
  return { scale, zeroPoint: checkZeroPoint(op, tensor, role) };
}

/** Returns the stored value at table index `index`: the index itself for uint8, its sign extension for int8. */
export function byteValueAt(inputType: number, index: number): number {
  return inputType === TensorType.UINT8 ? index : (index << 24) >> 24;
}

/**
 * Tabulates map(value) for every stored value of a uint8 or int8 input type,
 * clamped to the range of the output type (a NaN result becomes its
 * minimum), in a table of the output type. Records the table as persistent
 * bytes.
 */
export function tabulateByteMap(
  context: PrepareContext,
  inputType: number,
  outputType: number,
  map: (value: number) => number,
): ByteTable {
  const table: ByteTable = outputType === TensorType.UINT8 ? new Uint8Array(256) : new Int8Array(256);
  const [min, max] = typeRange(outputType);
  for (let index = 0; index < 256; index++) {
    let value = map(byteValueAt(inputType, index));
    if (!(value >= min)) value = min;
    if (value > max) value = max;
    table[index] = value;
  }
  context.notePersistentBytes(table.byteLength);
  return table;
}

/** Tabulates the scheme's rescale of stored values from the input's per-tensor quantization to the output's. */
export function rescaleTable(
  context: PrepareContext,
  input: TensorDef,
  inputQuantization: Quantization,
  output: TensorDef,
  outputQuantization: Quantization,
): ByteTable {
  const rescale = context.scheme.rescale({
    inputScale: inputQuantization.scale,
    inputZeroPoint: inputQuantization.zeroPoint,
    outputScale: outputQuantization.scale,
    outputZeroPoint: outputQuantization.zeroPoint,
  });
  return tabulateByteMap(context, input.type, output.type, rescale);
}

/** Returns the [min, max] range of the tensor's type, for clamping. */
export function outputRange(tensor: TensorDef): [number, number] {
  return typeRange(tensor.type);
}

/** Returns the shape with leading 1s up to MAX_LOOP_RANK dimensions. */
export function padShape(shape: readonly number[]): number[] {
  const padded: number[] = [];
  for (let i = shape.length; i < MAX_LOOP_RANK; i++) padded.push(1);
  for (const dim of shape) padded.push(dim);
  return padded;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

export function checkMaxRank(op: OperatorDef, tensor: TensorDef, role: string): void {
  if (tensor.shape.length > MAX_LOOP_RANK) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has ${tensor.shape.length} dimensions; ` +
        `${op.name} supports at most ${MAX_LOOP_RANK} here`,
    );
  }
}

/**
 * Reads a constant int32 or int64 tensor (paddings, permutations) as
 * numbers. An int64 value outside the int32 range is rejected.
 */
export function readConstantIndices(context: PrepareContext, op: OperatorDef, tensorIndex: number, role: string): number[] {
  const tensor = context.tensor(tensorIndex);
  if (tensor.type !== TensorType.INT32 && tensor.type !== TensorType.INT64) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} is ${tensorTypeName(tensor.type)}; ${op.name} needs int32 or int64`,
    );
  }
  if (!context.isConstant(tensorIndex)) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} is computed at run time; ${op.name} needs it as a constant in the model`,
    );
  }
  const bytes = context.constantBytes(tensorIndex);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: number[] = [];
  for (let i = 0; i < tensor.elementCount; i++) {
    if (tensor.type === TensorType.INT32) {
      values.push(view.getInt32(4 * i, true));
      continue;
    }
    const low = view.getInt32(8 * i, true);
    const high = view.getInt32(8 * i + 4, true);
    if (high !== low >> 31) {
      throw new InvalidModelError(
        `${describeOperator(op)}: ${role} ${describeTensor(tensor)} element ${i} lies outside the int32 range; the file is corrupted`,
      );
    }
    values.push(low);
  }
  return values;
}

/** Rounds to the nearest integer, ties to the even integer (IEEE 754 roundTiesToEven). */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
