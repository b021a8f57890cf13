// Readers of the builtin option tables that the kernels use. Each returns a
// plain object; a missing table gives the schema's defaults.

import { InvalidModelError } from "../errors.js";
import { FlatBufferReader } from "../flatbuffer.js";
import { OperatorDef } from "../model.js";
import { BUILTIN_OPTIONS_NAMES } from "./names.js";

export const Padding = { SAME: 0, VALID: 1 } as const;

export const Activation = {
  NONE: 0,
  RELU: 1,
  RELU_N1_TO_1: 2,
  RELU6: 3,
  TANH: 4,
  SIGN_BIT: 5,
} as const;

export const ACTIVATION_NAMES = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"];

/** BuiltinOptions union type values used here. */
export const OptionsType = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ReshapeOptions: 17,
} as const;

export interface Conv2DOptions {
  padding: number;
  strideWidth: number;
  strideHeight: number;
  activation: number;
  dilationWidth: number;
  dilationHeight: number;
}

export interface DepthwiseConv2DOptions extends Conv2DOptions {
  depthMultiplier: number;
}

export interface Pool2DOptions {
  padding: number;
  strideWidth: number;
  strideHeight: number;
  filterWidth: number;
  filterHeight: number;
  activation: number;
}

export interface FullyConnectedOptions {
  activation: number;
  weightsFormat: number;
  keepNumDims: boolean;
}

export interface SoftmaxOptions {
  beta: number;
}

export interface ReshapeOptions {
  /** The new shape, or null when the operator takes it from its second input. */
  newShape: number[] | null;
}

/** Throws unless the operator's options table is of the expected union type (or absent). */
function expectOptions(op: OperatorDef, expectedType: number): void {
  if (op.options !== null && op.optionsType !== expectedType) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) carries ${BUILTIN_OPTIONS_NAMES[op.optionsType] ?? `options type ${op.optionsType}`}, ` +
        `expected ${BUILTIN_OPTIONS_NAMES[expectedType]}; the file is corrupted`,
    );
  }
}

export function readConv2DOptions(reader: FlatBufferReader, op: OperatorDef): Conv2DOptions {
  expectOptions(op, OptionsType.Conv2DOptions);
  const t = op.options;
  if (t === null) {
    return { padding: 0, strideWidth: 0, strideHeight: 0, activation: 0, dilationWidth: 1, dilationHeight: 1 };
  }
  return {
    padding: reader.fieldInt8(t, 0, "padding", 0),
    strideWidth: reader.fieldInt32(t, 1, "stride_w", 0),
    strideHeight: reader.fieldInt32(t, 2, "stride_h", 0),
    activation: reader.fieldInt8(t, 3, "fused_activation_function", 0),
    dilationWidth: reader.fieldInt32(t, 4, "dilation_w_factor", 1),
    dilationHeight: reader.fieldInt32(t, 5, "dilation_h_factor", 1),
  };
}

export function readDepthwiseConv2DOptions(reader: FlatBufferReader, op: OperatorDef): DepthwiseConv2DOptions {
  expectOptions(op, OptionsType.DepthwiseConv2DOptions);
  const t = op.options;
  if (t === null) {
    return { padding: 0, strideWidth: 0, strideHeight: 0, depthMultiplier: 0, activation: 0, dilationWidth: 1, dilationHeight: 1 };
  }
  return {
    padding: reader.fieldInt8(t, 0, "padding", 0),
    strideWidth: reader.fieldInt32(t, 1, "stride_w", 0),
    strideHeight: reader.fieldInt32(t, 2, "stride_h", 0),
    depthMultiplier: reader.fieldInt32(t, 3, "depth_multiplier", 0),
    activation: reader.fieldInt8(t, 4, "fused_activation_function", 0),
    dilationWidth: reader.fieldInt32(t, 5, "dilation_w_factor", 1),
    dilationHeight: reader.fieldInt32(t, 6, "dilation_h_factor", 1),
  };
}

export function readPool2DOptions(reader: FlatBufferReader, op: OperatorDef): Pool2DOptions {
  expectOptions(op, OptionsType.Pool2DOptions);
  const t = op.options;
  if (t === null) {
    return { padding: 0, strideWidth: 0, strideHeight: 0, filterWidth: 0, filterHeight: 0, activation: 0 };
  }
  return {
    padding: reader.fieldInt8(t, 0, "padding", 0),
    strideWidth: reader.fieldInt32(t, 1, "stride_w", 0),
    strideHeight: reader.fieldInt32(t, 2, "stride_h", 0),
    filterWidth: reader.fieldInt32(t, 3, "filter_width", 0),
    filterHeight: reader.fieldInt32(t, 4, "filter_height", 0),
    activation: reader.fieldInt8(t, 5, "fused_activation_function", 0),
  };
}

export function readFullyConnectedOptions(reader: FlatBufferReader, op: OperatorDef): FullyConnectedOptions {
  expectOptions(op, OptionsType.FullyConnectedOptions);
  const t = op.options;
  if (t === null) return { activation: 0, weightsFormat: 0, keepNumDims: false };
  return {
    activation: reader.fieldInt8(t, 0, "fused_activation_function", 0),
    weightsFormat: reader.fieldInt8(t, 1, "weights_format", 0),
    keepNumDims: reader.fieldBool(t, 2, "keep_num_dims"),
  };
}

export function readSoftmaxOptions(reader: FlatBufferReader, op: OperatorDef): SoftmaxOptions {
  expectOptions(op, OptionsType.SoftmaxOptions);
  const t = op.options;
  return { beta: t === null ? 0 : reader.fieldFloat32(t, 0, "beta", 0) };
}

export function readReshapeOptions(reader: FlatBufferReader, op: OperatorDef): ReshapeOptions {
  expectOptions(op, OptionsType.ReshapeOptions);
  const t = op.options;
  if (t === null) return { newShape: null };
  const vector = reader.fieldVector(t, 0, "new_shape", 4);
  return { newShape: vector === null ? null : reader.int32Array(vector) };
}

// Options of the elementwise and data-movement operators of the affine
// kernels. Union type values are those of the schema's BuiltinOptions.

const CONCATENATION_OPTIONS = 10;
const ADD_OPTIONS = 11;

export interface ConcatenationOptions {
  /** Axis to join along; negative counts from the last dimension. */
  axis: number;
  activation: number;
}

export interface AddOptions {
  activation: number;
}

export function readConcatenationOptions(reader: FlatBufferReader, op: OperatorDef): ConcatenationOptions {
  expectOptions(op, CONCATENATION_OPTIONS);
  const t = op.options;
  if (t === null) return { axis: 0, activation: 0 };
  return {
    axis: reader.fieldInt32(t, 0, "axis", 0),
    activation: reader.fieldInt8(t, 1, "fused_activation_function", 0),
  };
}

export function readAddOptions(reader: FlatBufferReader, op: OperatorDef): AddOptions {
  expectOptions(op, ADD_OPTIONS);
  const t = op.options;
  return { activation: t === null ? 0 : reader.fieldInt8(t, 0, "fused_activation_function", 0) };
}

/** BuiltinOptions union type value of BatchMatMulOptions. */
const BATCH_MATMUL_OPTIONS_TYPE = 101;

export interface BatchMatMulOptions {
  /** True when the left operand is stored transposed, [..., K, M]. */
  adjX: boolean;
  /** True when the right operand is stored transposed, [..., N, K]. */
  adjY: boolean;
}

export function readBatchMatMulOptions(reader: FlatBufferReader, op: OperatorDef): BatchMatMulOptions {
  expectOptions(op, BATCH_MATMUL_OPTIONS_TYPE);
  const t = op.options;
  if (t === null) return { adjX: false, adjY: false };
  return {
    adjX: reader.fieldBool(t, 0, "adj_x"),
    adjY: reader.fieldBool(t, 1, "adj_y"),
  };
}
