// Readers of AddOptions, SubOptions and MulOptions, the options tables of
// the binary arithmetic operators. The kernels need only the fused
// activation. AddOptions and SubOptions also carry pot_scale_int16, which
// is not read: TFLM's ADD and SUB (tflite-micro 90b983c2) ignore it and
// always rescale int16 operands through the general path.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union types of the TFLite schema. */
export const ADD_OPTIONS_TYPE = 11;
export const MUL_OPTIONS_TYPE = 21;
export const SUB_OPTIONS_TYPE = 28;

export interface ArithmeticOptions {
  /** ActivationFunctionType of the fused activation (Activation in options.ts). */
  activation: number;
}

/** Reads the operator's AddOptions; an absent table gives the schema default, no activation. */
export function readTflmAddOptions(reader: FlatBufferReader, op: OperatorDef): ArithmeticOptions {
  return readActivationOptions(reader, op, ADD_OPTIONS_TYPE);
}

/** Reads the operator's SubOptions; an absent table gives the schema default, no activation. */
export function readSubOptions(reader: FlatBufferReader, op: OperatorDef): ArithmeticOptions {
  return readActivationOptions(reader, op, SUB_OPTIONS_TYPE);
}

/** Reads the operator's MulOptions; an absent table gives the schema default, no activation. */
export function readMulOptions(reader: FlatBufferReader, op: OperatorDef): ArithmeticOptions {
  return readActivationOptions(reader, op, MUL_OPTIONS_TYPE);
}

/** Reads field 0, fused_activation_function, of an options table of the expected union type. */
function readActivationOptions(reader: FlatBufferReader, op: OperatorDef, expectedType: number): ArithmeticOptions {
  if (op.options !== null && op.optionsType !== expectedType) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[expectedType]}; the file is corrupted`,
    );
  }
  const table = op.options;
  if (table === null) return { activation: 0 };
  return { activation: reader.fieldInt8(table, 0, "fused_activation_function", 0) };
}
