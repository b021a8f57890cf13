// Readers of the builtin option tables of the data-movement operators
// STRIDED_SLICE and SQUEEZE. A missing table gives the schema's defaults.
// EXPAND_DIMS has an empty ExpandDimsOptions table, so it needs no reader.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union types of the TFLite schema. */
export const SQUEEZE_OPTIONS_TYPE = 30;
export const STRIDED_SLICE_OPTIONS_TYPE = 32;

export interface StridedSliceOptions {
  /** Bit i set: begin[i] is ignored and the slice starts at the first element in the stride's direction. */
  beginMask: number;
  /** Bit i set: end[i] is ignored and the slice runs to the last element in the stride's direction. */
  endMask: number;
  /** Bit i set: spec entry i stands for as many full dimensions as the other entries leave. */
  ellipsisMask: number;
  /** Bit i set: spec entry i inserts an output dimension of size 1. */
  newAxisMask: number;
  /** Bit i set: spec entry i takes the single index begin[i] and drops the dimension. */
  shrinkAxisMask: number;
  /** True when end[i] counts from begin[i] rather than from 0. */
  offset: boolean;
}

export interface SqueezeOptions {
  /** Dimensions to remove, negative counting from the last; empty removes every dimension of size 1. */
  squeezeDims: number[];
}

function expectOptions(op: OperatorDef, expectedType: number): void {
  if (op.options !== null && op.optionsType !== expectedType) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[expectedType]}; the file is corrupted`,
    );
  }
}

export function readStridedSliceOptions(reader: FlatBufferReader, op: OperatorDef): StridedSliceOptions {
  expectOptions(op, STRIDED_SLICE_OPTIONS_TYPE);
  const t = op.options;
  if (t === null) {
    return { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };
  }
  return {
    beginMask: reader.fieldInt32(t, 0, "begin_mask", 0),
    endMask: reader.fieldInt32(t, 1, "end_mask", 0),
    ellipsisMask: reader.fieldInt32(t, 2, "ellipsis_mask", 0),
    newAxisMask: reader.fieldInt32(t, 3, "new_axis_mask", 0),
    shrinkAxisMask: reader.fieldInt32(t, 4, "shrink_axis_mask", 0),
    offset: reader.fieldBool(t, 5, "offset"),
  };
}

export function readSqueezeOptions(reader: FlatBufferReader, op: OperatorDef): SqueezeOptions {
  expectOptions(op, SQUEEZE_OPTIONS_TYPE);
  const t = op.options;
  if (t === null) return { squeezeDims: [] };
  return { squeezeDims: reader.int32Array(reader.fieldVector(t, 0, "squeeze_dims", 4)) };
}
