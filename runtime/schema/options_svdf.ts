// Reader of SVDFOptions, the builtin options table of the SVDF operator.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union type value of SVDFOptions. */
const SVDF_OPTIONS_TYPE = 6;

export interface SvdfOptions {
  /** Number of filters summed into each output unit. */
  rank: number;
  activation: number;
  /** Asymmetric input quantization of a float SVDF with int8 weights. The integer kernel ignores it. */
  asymmetricQuantizeInputs: boolean;
}

/** Reads the operator's SVDFOptions. An absent table gives the schema defaults, so rank 0. */
export function readSvdfOptions(reader: FlatBufferReader, op: OperatorDef): SvdfOptions {
  if (op.options !== null && op.optionsType !== SVDF_OPTIONS_TYPE) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected SVDFOptions; the file is corrupted`,
    );
  }
  const t = op.options;
  if (t === null) return { rank: 0, activation: 0, asymmetricQuantizeInputs: false };
  return {
    rank: reader.fieldInt32(t, 0, "rank", 0),
    activation: reader.fieldInt8(t, 1, "fused_activation_function", 0),
    asymmetricQuantizeInputs: reader.fieldBool(t, 2, "asymmetric_quantize_inputs"),
  };
}
