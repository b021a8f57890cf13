// Readers of the builtin option tables of the activation operators. A
// missing table gives the schema's defaults.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union type value of LeakyReluOptions. */
const LEAKY_RELU_OPTIONS_TYPE = 75;

export interface LeakyReluOptions {
  /** Slope of the negative half, a float32; the schema's default is 0. */
  alpha: number;
}

export function readLeakyReluOptions(reader: FlatBufferReader, op: OperatorDef): LeakyReluOptions {
  if (op.options !== null && op.optionsType !== LEAKY_RELU_OPTIONS_TYPE) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[LEAKY_RELU_OPTIONS_TYPE]}; the file is corrupted`,
    );
  }
  const t = op.options;
  return { alpha: t === null ? 0 : reader.fieldFloat32(t, 0, "alpha", 0) };
}
