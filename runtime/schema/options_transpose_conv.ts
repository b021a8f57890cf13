// Readers of the options of TRANSPOSE_CONV and of the quantized_bias_type
// field of CONV_2D, which the 16x8 kernels need. Field ids and defaults are
// those of schema.fbs at tflite-micro commit 90b983c2; a missing table gives
// the schema's defaults.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { TensorType } from "../tensor_types.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

/** BuiltinOptions union type values of the tables read here. */
const CONV_2D_OPTIONS = 1;
const TRANSPOSE_CONV_OPTIONS = 49;

export interface TransposeConvOptions {
  /** Padding enum of the schema: 0 SAME, 1 VALID. */
  padding: number;
  strideWidth: number;
  strideHeight: number;
  activation: number;
  /** TensorType of bias and accumulator the converter chose; FLOAT32 (0) when unset. */
  quantizedBiasType: number;
}

function expectOptions(op: OperatorDef, expectedType: number): void {
  if (op.options !== null && op.optionsType !== expectedType) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[expectedType]}; the file is corrupted`,
    );
  }
}

export function readTransposeConvOptions(reader: FlatBufferReader, op: OperatorDef): TransposeConvOptions {
  expectOptions(op, TRANSPOSE_CONV_OPTIONS);
  const t = op.options;
  if (t === null) return { padding: 0, strideWidth: 0, strideHeight: 0, activation: 0, quantizedBiasType: TensorType.FLOAT32 };
  return {
    padding: reader.fieldInt8(t, 0, "padding", 0),
    strideWidth: reader.fieldInt32(t, 1, "stride_w", 0),
    strideHeight: reader.fieldInt32(t, 2, "stride_h", 0),
    activation: reader.fieldInt8(t, 3, "fused_activation_function", 0),
    quantizedBiasType: reader.fieldInt8(t, 4, "quantized_bias_type", TensorType.FLOAT32),
  };
}

/**
 * Reads Conv2DOptions.quantized_bias_type (field 6): the TensorType of bias
 * and accumulator, FLOAT32 (0) when unset. TFLM's int16 CONV_2D without a
 * bias tensor uses an int32 accumulator only when this is INT32.
 */
export function readConv2DQuantizedBiasType(reader: FlatBufferReader, op: OperatorDef): number {
  expectOptions(op, CONV_2D_OPTIONS);
  const t = op.options;
  return t === null ? TensorType.FLOAT32 : reader.fieldInt8(t, 6, "quantized_bias_type", TensorType.FLOAT32);
}
