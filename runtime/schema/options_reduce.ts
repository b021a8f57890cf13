// Reader of ReducerOptions, the options table of the reduction operators
// (MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD, REDUCE_ANY, REDUCE_ALL).

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union type of ReducerOptions in the TFLite schema. */
export const REDUCER_OPTIONS_TYPE = 27;

export interface ReducerOptions {
  /** True when the output keeps each reduced dimension with size 1. */
  keepDims: boolean;
}

/** Reads the operator's ReducerOptions. An absent table gives the schema default, keep_dims false. */
export function readReducerOptions(reader: FlatBufferReader, op: OperatorDef): ReducerOptions {
  if (op.options !== null && op.optionsType !== REDUCER_OPTIONS_TYPE) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[REDUCER_OPTIONS_TYPE]}; the file is corrupted`,
    );
  }
  const table = op.options;
  if (table === null) return { keepDims: false };
  return { keepDims: reader.fieldBool(table, 0, "keep_dims") };
}
