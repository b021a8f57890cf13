// Reader of UnidirectionalSequenceLSTMOptions, the builtin options table of
// the UNIDIRECTIONAL_SEQUENCE_LSTM operator.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union type value of UnidirectionalSequenceLSTMOptions. */
const UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS_TYPE = 71;

export interface UnidirectionalSequenceLstmOptions {
  /** Activation of the cell gate (ActivationFunctionType); the other gates always use sigmoid. */
  activation: number;
  /** Bound of the cell state in real units; 0 or less means no clipping. */
  cellClip: number;
  /** Bound of the projection output in real units; 0 or less means no clipping. */
  projClip: number;
  /** True when the input is [time, batch, features], false for [batch, time, features]. */
  timeMajor: boolean;
  /** Hybrid (float activations, int8 weights) kernels only: quantize inputs with a zero point. */
  asymmetricQuantizeInputs: boolean;
  /** True when the recurrent weights are diagonal matrices stored as vectors. */
  diagonalRecurrentTensors: boolean;
}

/**
 * Reads the operator's UnidirectionalSequenceLSTMOptions. An absent table
 * gives the schema defaults, as TFLM's parser leaves its zeroed parameters:
 * activation NONE, no clipping and batch-major input.
 */
export function readUnidirectionalSequenceLstmOptions(reader: FlatBufferReader, op: OperatorDef): UnidirectionalSequenceLstmOptions {
  if (op.options !== null && op.optionsType !== UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS_TYPE) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected UnidirectionalSequenceLSTMOptions; the file is corrupted`,
    );
  }
  const t = op.options;
  if (t === null) {
    return {
      activation: 0,
      cellClip: 0,
      projClip: 0,
      timeMajor: false,
      asymmetricQuantizeInputs: false,
      diagonalRecurrentTensors: false,
    };
  }
  return {
    activation: reader.fieldInt8(t, 0, "fused_activation_function", 0),
    cellClip: reader.fieldFloat32(t, 1, "cell_clip", 0),
    projClip: reader.fieldFloat32(t, 2, "proj_clip", 0),
    timeMajor: reader.fieldBool(t, 3, "time_major"),
    asymmetricQuantizeInputs: reader.fieldBool(t, 4, "asymmetric_quantize_inputs"),
    diagonalRecurrentTensors: reader.fieldBool(t, 5, "diagonal_recurrent_tensors"),
  };
}
