// A TensorFlow Lite flatbuffer writer for host tools and tests: builds a
// one-subgraph .tflite model from plain tensor and operator descriptions.
// Table field slots follow the TFLite schema (schema.fbs, tflite-micro commit
// 90b983c2). No generated code is involved, so every slot number below is
// written out next to its schema field name.

import { Builder } from "flatbuffers";
import { BUILTIN_OPERATOR_NAMES, BUILTIN_OPTIONS_NAMES } from "../../runtime/schema/names.js";
import { TensorType, tensorTypeBytes } from "../../runtime/tensor_types.js";

/** Tensor element types the writer accepts, by their runtime names. */
export type TensorTypeName = "int8" | "uint8" | "int16" | "int32" | "float32" | "int64" | "bool";

export interface TensorSpec {
  name: string;
  type: TensorTypeName;
  shape: readonly number[];
  /** Constant data as little-endian bytes, elementCount * elementBytes long. Omit for activations. */
  data?: Uint8Array;
  /** Quantization scales: one per tensor, or one per channel along quantizedDimension. */
  scale?: readonly number[];
  /** Zero points, one per scale. Omitted means all zero. */
  zeroPoint?: readonly number[];
  quantizedDimension?: number;
  isVariable?: boolean;
}

/** A value of one options field: a number, a bool, an enum member name or an int vector. */
export type OptionValue = number | boolean | string | readonly number[];

export interface OptionsSpec {
  /** BuiltinOptions union member, for example "Conv2DOptions". */
  type: string;
  /** Field values by schema field name. An omitted field takes the schema default. */
  fields?: Readonly<Record<string, OptionValue>>;
}

export interface OperatorSpec {
  /** Builtin operator name, for example "CONV_2D", or "CUSTOM" together with customCode. */
  op: string;
  customCode?: string;
  /** Operator version recorded in the OperatorCode table, 1 when omitted. */
  version?: number;
  /** Tensor indices, with -1 for an omitted optional input. */
  inputs: readonly number[];
  outputs: readonly number[];
  intermediates?: readonly number[];
  options?: OptionsSpec;
}

export interface ModelSpec {
  tensors: readonly TensorSpec[];
  operators: readonly OperatorSpec[];
  /** Graph input and output tensor indices. */
  inputs: readonly number[];
  outputs: readonly number[];
  description?: string;
  subgraphName?: string;
  /** Metadata entries (for example "min_runtime_version"), each stored in its own buffer. */
  metadata?: Readonly<Record<string, Uint8Array>>;
}

/** Error for an inconsistent model description. The message names the tensor, operator or field. */
export class ModelSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelSpecError";
  }
}

const TENSOR_TYPE_CODES: Readonly<Record<TensorTypeName, number>> = {
  int8: TensorType.INT8,
  uint8: TensorType.UINT8,
  int16: TensorType.INT16,
  int32: TensorType.INT32,
  float32: TensorType.FLOAT32,
  int64: TensorType.INT64,
  bool: TensorType.BOOL,
};

// Options tables, declared field by field.

/** Scalar and vector types of options fields, named as in the schema. */
type OptionFieldType = "bool" | "byte" | "int" | "float" | "[int]";

interface OptionField {
  /** Field id: the position of the field in its schema table. */
  slot: number;
  type: OptionFieldType;
  /** Schema default. The builder omits a field equal to it, as the TFLite converter does. */
  defaultValue?: number | boolean;
  /** Member names of a byte enum, indexed by value, so that fields accept "SAME" or "RELU6". */
  enumNames?: readonly string[];
}

const PADDING = ["SAME", "VALID"];
const ACTIVATION = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"];
const WEIGHTS_FORMAT = ["DEFAULT", "SHUFFLED4x16INT8"];
const TENSOR_TYPE = [
  "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
  "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16",
];

const padding: OptionField = { slot: 0, type: "byte", enumNames: PADDING };

/**
 * Fields of the BuiltinOptions tables the writer can emit. To support another
 * table, copy its fields from schema.fbs in declaration order: the slot is
 * the field's position, and a field without "= value" defaults to 0.
 */
export const OPTIONS_TABLES: Readonly<Record<string, Readonly<Record<string, OptionField>>>> = {
  Conv2DOptions: {
    padding,
    stride_w: { slot: 1, type: "int" },
    stride_h: { slot: 2, type: "int" },
    fused_activation_function: { slot: 3, type: "byte", enumNames: ACTIVATION },
    dilation_w_factor: { slot: 4, type: "int", defaultValue: 1 },
    dilation_h_factor: { slot: 5, type: "int", defaultValue: 1 },
    quantized_bias_type: { slot: 6, type: "byte", enumNames: TENSOR_TYPE },
  },
  DepthwiseConv2DOptions: {
    padding,
    stride_w: { slot: 1, type: "int" },
    stride_h: { slot: 2, type: "int" },
    depth_multiplier: { slot: 3, type: "int" },
    fused_activation_function: { slot: 4, type: "byte", enumNames: ACTIVATION },
    dilation_w_factor: { slot: 5, type: "int", defaultValue: 1 },
    dilation_h_factor: { slot: 6, type: "int", defaultValue: 1 },
  },
  Pool2DOptions: {
    padding,
    stride_w: { slot: 1, type: "int" },
    stride_h: { slot: 2, type: "int" },
    filter_width: { slot: 3, type: "int" },
    filter_height: { slot: 4, type: "int" },
    fused_activation_function: { slot: 5, type: "byte", enumNames: ACTIVATION },
  },
  FullyConnectedOptions: {
    fused_activation_function: { slot: 0, type: "byte", enumNames: ACTIVATION },
    weights_format: { slot: 1, type: "byte", enumNames: WEIGHTS_FORMAT },
    keep_num_dims: { slot: 2, type: "bool" },
    asymmetric_quantize_inputs: { slot: 3, type: "bool" },
    quantized_bias_type: { slot: 4, type: "byte", enumNames: TENSOR_TYPE },
  },
  SoftmaxOptions: {
    beta: { slot: 0, type: "float" },
  },
  ReshapeOptions: {
    new_shape: { slot: 0, type: "[int]" },
  },
  ConcatenationOptions: {
    axis: { slot: 0, type: "int" },
    fused_activation_function: { slot: 1, type: "byte", enumNames: ACTIVATION },
  },
  AddOptions: {
    fused_activation_function: { slot: 0, type: "byte", enumNames: ACTIVATION },
    pot_scale_int16: { slot: 1, type: "bool", defaultValue: true },
  },
  SubOptions: {
    fused_activation_function: { slot: 0, type: "byte", enumNames: ACTIVATION },
    pot_scale_int16: { slot: 1, type: "bool", defaultValue: true },
  },
  MulOptions: {
    fused_activation_function: { slot: 0, type: "byte", enumNames: ACTIVATION },
  },
  SqueezeOptions: {
    squeeze_dims: { slot: 0, type: "[int]" },
  },
  ReducerOptions: {
    keep_dims: { slot: 0, type: "bool" },
  },
  LeakyReluOptions: {
    alpha: { slot: 0, type: "float" },
  },
  StridedSliceOptions: {
    begin_mask: { slot: 0, type: "int" },
    end_mask: { slot: 1, type: "int" },
    ellipsis_mask: { slot: 2, type: "int" },
    new_axis_mask: { slot: 3, type: "int" },
    shrink_axis_mask: { slot: 4, type: "int" },
    offset: { slot: 5, type: "bool" },
  },
  SVDFOptions: {
    rank: { slot: 0, type: "int" },
    fused_activation_function: { slot: 1, type: "byte", enumNames: ACTIVATION },
    asymmetric_quantize_inputs: { slot: 2, type: "bool" },
  },
  UnidirectionalSequenceLSTMOptions: {
    fused_activation_function: { slot: 0, type: "byte", enumNames: ACTIVATION },
    cell_clip: { slot: 1, type: "float" },
    proj_clip: { slot: 2, type: "float" },
    time_major: { slot: 3, type: "bool" },
    asymmetric_quantize_inputs: { slot: 4, type: "bool" },
    diagonal_recurrent_tensors: { slot: 5, type: "bool" },
  },
  TransposeConvOptions: {
    padding,
    stride_w: { slot: 1, type: "int" },
    stride_h: { slot: 2, type: "int" },
    fused_activation_function: { slot: 3, type: "byte", enumNames: ACTIVATION },
    quantized_bias_type: { slot: 4, type: "byte", enumNames: TENSOR_TYPE },
  },
  ExpandDimsOptions: {},
  QuantizeOptions: {},
  DequantizeOptions: {},
  PadOptions: {},
  PadV2Options: {},
  TransposeOptions: {},
  HardSwishOptions: {},
  BatchMatMulOptions: {
    adj_x: { slot: 0, type: "bool" },
    adj_y: { slot: 1, type: "bool" },
    asymmetric_quantize_inputs: { slot: 2, type: "bool" },
  },
};

// Operator codes of the schema's BuiltinOperator enum that the writer needs by value.
const BUILTIN_CUSTOM = 32;
/** deprecated_builtin_code is an int8, so codes above 127 store this placeholder there. */
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

/** Model.version of every current TFLite file. */
const SCHEMA_VERSION = 3;
/** Alignment of constant data, as the TFLite converter uses (force_align: 16 on Buffer.data). */
const BUFFER_DATA_ALIGNMENT = 16;

/**
 * Serializes a model description to .tflite bytes. Buffer 0 is the empty
 * sentinel, and each constant tensor and each metadata entry gets its own
 * buffer, with its data aligned to 16 bytes in the file. Throws
 * ModelSpecError when the description is inconsistent: unknown names,
 * out-of-range tensor indices or data of the wrong length.
 */
export function writeModel(spec: ModelSpec): Uint8Array {
  validateModel(spec);
  const builder = new Builder(1024);

  // Buffers: the sentinel, then tensor data, then metadata.
  const bufferData: Array<Uint8Array | null> = [null];
  const tensorBuffers = spec.tensors.map((tensor) => {
    if (tensor.data === undefined) return 0;
    bufferData.push(tensor.data);
    return bufferData.length - 1;
  });
  const metadataEntries = Object.entries(spec.metadata ?? {}).map(([name, data]) => {
    bufferData.push(data);
    return { name, buffer: bufferData.length - 1 };
  });
  const buffers = bufferData.map((data) => writeBuffer(builder, data));

  const tensors = spec.tensors.map((tensor, index) => writeTensor(builder, tensor, tensorBuffers[index]));
  const { codes, opcodeIndices } = collectOperatorCodes(spec.operators);
  const operators = spec.operators.map((operator, index) => writeOperator(builder, operator, index, opcodeIndices[index]));
  const subgraph = writeSubgraph(builder, spec, tensors, operators);
  const operatorCodes = codes.map((code) => writeOperatorCode(builder, code));
  const metadata = metadataEntries.map((entry) => writeMetadata(builder, entry.name, entry.buffer));
  const description = spec.description === undefined ? 0 : builder.createString(spec.description);

  const operatorCodesVector = offsetVector(builder, operatorCodes);
  const subgraphsVector = offsetVector(builder, [subgraph]);
  const buffersVector = offsetVector(builder, buffers);
  const metadataVector = metadata.length > 0 ? offsetVector(builder, metadata) : 0;

  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata 6.
  builder.startObject(7);
  builder.addFieldInt32(0, SCHEMA_VERSION, 0);
  builder.addFieldOffset(1, operatorCodesVector, 0);
  builder.addFieldOffset(2, subgraphsVector, 0);
  builder.addFieldOffset(3, description, 0);
  builder.addFieldOffset(4, buffersVector, 0);
  builder.addFieldOffset(6, metadataVector, 0);
  const model = builder.endObject();
  builder.finish(model, "TFL3");
  return builder.asUint8Array();
}

// Validation of the description, before anything is written.

function validateModel(spec: ModelSpec): void {
  const tensorCount = spec.tensors.length;
  spec.tensors.forEach((tensor, index) => validateTensor(tensor, index));
  checkTensorIndices(spec.inputs, tensorCount, "graph inputs", false);
  checkTensorIndices(spec.outputs, tensorCount, "graph outputs", false);
  spec.operators.forEach((operator, index) => {
    const what = `operator ${index} (${operator.op})`;
    operatorCode(operator);
    if (operator.version !== undefined && (!Number.isInteger(operator.version) || operator.version < 1)) {
      throw new ModelSpecError(`${what}: version ${operator.version} is invalid; use an integer of at least 1`);
    }
    checkTensorIndices(operator.inputs, tensorCount, `${what} inputs`, true);
    checkTensorIndices(operator.outputs, tensorCount, `${what} outputs`, false);
    checkTensorIndices(operator.intermediates ?? [], tensorCount, `${what} intermediates`, false);
    if (operator.options !== undefined) validateOptions(operator.options, what);
  });
}

function validateTensor(tensor: TensorSpec, index: number): void {
  const what = `tensor ${index} "${tensor.name}"`;
  const typeCode = TENSOR_TYPE_CODES[tensor.type];
  if (typeCode === undefined) {
    throw new ModelSpecError(`${what} has type "${tensor.type}"; use one of ${Object.keys(TENSOR_TYPE_CODES).join(", ")}`);
  }
  let elementCount = 1;
  for (const dimension of tensor.shape) {
    if (!Number.isInteger(dimension) || dimension < 0) {
      throw new ModelSpecError(`${what} has shape [${tensor.shape}]; every dimension must be a non-negative integer`);
    }
    elementCount *= dimension;
  }
  if (tensor.data !== undefined) {
    const expectedBytes = elementCount * tensorTypeBytes(typeCode);
    if (tensor.data.byteLength !== expectedBytes) {
      throw new ModelSpecError(
        `${what} has ${tensor.data.byteLength} data bytes, but shape [${tensor.shape}] of ${tensor.type} needs ${expectedBytes}`,
      );
    }
  }
  const scaleCount = tensor.scale?.length ?? 0;
  const zeroPointCount = tensor.zeroPoint?.length ?? 0;
  if (zeroPointCount > 0 && zeroPointCount !== scaleCount) {
    throw new ModelSpecError(`${what} has ${scaleCount} scales but ${zeroPointCount} zero points; give one zero point per scale`);
  }
  for (const zeroPoint of tensor.zeroPoint ?? []) {
    if (!Number.isSafeInteger(zeroPoint)) {
      throw new ModelSpecError(`${what} has zero point ${zeroPoint}; zero points must be integers`);
    }
  }
  if (tensor.quantizedDimension !== undefined && !Number.isInteger(tensor.quantizedDimension)) {
    throw new ModelSpecError(`${what} has quantizedDimension ${tensor.quantizedDimension}; it must be an integer`);
  }
}

function checkTensorIndices(indices: readonly number[], tensorCount: number, what: string, allowOmitted: boolean): void {
  indices.forEach((index, i) => {
    const omitted = allowOmitted && index === -1;
    if (!omitted && (!Number.isInteger(index) || index < 0 || index >= tensorCount)) {
      throw new ModelSpecError(
        `${what}[${i}] is tensor ${index}, but the model has ${tensorCount} tensors` +
          (allowOmitted ? "; use -1 only for an omitted optional input" : ""),
      );
    }
  });
}

function validateOptions(options: OptionsSpec, what: string): void {
  const table = optionsTable(options.type, what);
  for (const [name, value] of Object.entries(options.fields ?? {})) {
    const field = table[name];
    if (field === undefined) {
      throw new ModelSpecError(`${what}: ${options.type} has no field "${name}"; known fields: ${Object.keys(table).join(", ")}`);
    }
    optionFieldValue(field, value, `${what} ${options.type}.${name}`);
  }
}

function optionsTable(type: string, what: string): Readonly<Record<string, OptionField>> {
  const table = OPTIONS_TABLES[type];
  if (table === undefined || BUILTIN_OPTIONS_NAMES.indexOf(type) < 0) {
    throw new ModelSpecError(
      `${what}: options type "${type}" is not supported by the writer; add its fields to OPTIONS_TABLES ` +
        `(supported: ${Object.keys(OPTIONS_TABLES).join(", ")})`,
    );
  }
  return table;
}

/** Converts a field value to what the builder writes: a number, or an int array for "[int]". */
function optionFieldValue(field: OptionField, value: OptionValue, what: string): number | readonly number[] {
  if (field.type === "[int]") {
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
      throw new ModelSpecError(`${what} is ${JSON.stringify(value)}; expected an array of integers`);
    }
    return value;
  }
  if (field.type === "bool") {
    if (typeof value !== "boolean") throw new ModelSpecError(`${what} is ${JSON.stringify(value)}; expected true or false`);
    return value ? 1 : 0;
  }
  if (typeof value === "string" && field.enumNames !== undefined) {
    const code = field.enumNames.indexOf(value);
    if (code < 0) throw new ModelSpecError(`${what} is "${value}"; expected one of ${field.enumNames.join(", ")}`);
    return code;
  }
  if (typeof value !== "number") throw new ModelSpecError(`${what} is ${JSON.stringify(value)}; expected a number`);
  if (field.type === "float") return value;
  const [min, max] = field.type === "byte" ? [-128, 127] : [-0x80000000, 0x7fffffff];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ModelSpecError(`${what} is ${value}; expected an integer in [${min}, ${max}]`);
  }
  return value;
}

// Operator codes: one OperatorCode table per distinct (operator, custom code, version).

interface OperatorCode {
  builtinCode: number;
  customCode: string | undefined;
  version: number;
}

function operatorCode(operator: OperatorSpec): OperatorCode {
  const builtinCode = BUILTIN_OPERATOR_NAMES.indexOf(operator.op);
  if (builtinCode < 0) {
    throw new ModelSpecError(`operator "${operator.op}" is not a builtin operator name of the TFLite schema; use the schema name, for example CONV_2D`);
  }
  if ((builtinCode === BUILTIN_CUSTOM) !== (operator.customCode !== undefined)) {
    throw new ModelSpecError(`operator "${operator.op}": customCode must be given for CUSTOM operators, and only for them`);
  }
  return { builtinCode, customCode: operator.customCode, version: operator.version ?? 1 };
}

/** Returns the distinct operator codes and, for each operator, the index of its code. */
function collectOperatorCodes(operators: readonly OperatorSpec[]): { codes: OperatorCode[]; opcodeIndices: number[] } {
  const codes: OperatorCode[] = [];
  const indexByKey = new Map<string, number>();
  const opcodeIndices = operators.map((operator) => {
    const code = operatorCode(operator);
    const key = `${code.builtinCode}/${code.version}/${code.customCode ?? ""}`;
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = codes.length;
      indexByKey.set(key, index);
      codes.push(code);
    }
    return index;
  });
  return { codes, opcodeIndices };
}

// Table writers. Each builds its strings and vectors first, because a
// flatbuffer table must be finished before another object is started.

function writeBuffer(builder: Builder, data: Uint8Array | null): number {
  const dataVector = data === null ? 0 : alignedByteVector(builder, data, BUFFER_DATA_ALIGNMENT);
  // Buffer: data 0.
  builder.startObject(1);
  builder.addFieldOffset(0, dataVector, 0);
  return builder.endObject();
}

function writeTensor(builder: Builder, tensor: TensorSpec, buffer: number): number {
  const shape = int32Vector(builder, tensor.shape);
  const name = builder.createString(tensor.name);
  const quantization = tensor.scale === undefined ? 0 : writeQuantization(builder, tensor);

  // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5.
  builder.startObject(6);
  builder.addFieldOffset(0, shape, 0);
  builder.addFieldInt8(1, TENSOR_TYPE_CODES[tensor.type], 0);
  builder.addFieldInt32(2, buffer, 0);
  builder.addFieldOffset(3, name, 0);
  builder.addFieldOffset(4, quantization, 0);
  builder.addFieldInt8(5, tensor.isVariable === true ? 1 : 0, 0);
  return builder.endObject();
}

function writeQuantization(builder: Builder, tensor: TensorSpec): number {
  const scales = tensor.scale ?? [];
  const zeroPoints = tensor.zeroPoint ?? scales.map(() => 0);
  const scaleVector = float32Vector(builder, scales);
  const zeroPointVector = int64Vector(builder, zeroPoints);

  // QuantizationParameters: scale 2, zero_point 3, quantized_dimension 6.
  builder.startObject(7);
  builder.addFieldOffset(2, scaleVector, 0);
  builder.addFieldOffset(3, zeroPointVector, 0);
  builder.addFieldInt32(6, tensor.quantizedDimension ?? 0, 0);
  return builder.endObject();
}

function writeOperator(builder: Builder, operator: OperatorSpec, index: number, opcodeIndex: number): number {
  const inputs = int32Vector(builder, operator.inputs);
  const outputs = int32Vector(builder, operator.outputs);
  const intermediates = operator.intermediates === undefined ? 0 : int32Vector(builder, operator.intermediates);
  let optionsType = 0;
  let options = 0;
  if (operator.options !== undefined) {
    optionsType = BUILTIN_OPTIONS_NAMES.indexOf(operator.options.type);
    options = writeOptions(builder, operator.options, `operator ${index} (${operator.op})`);
  }

  // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4, intermediates 8.
  builder.startObject(9);
  builder.addFieldInt32(0, opcodeIndex, 0);
  builder.addFieldOffset(1, inputs, 0);
  builder.addFieldOffset(2, outputs, 0);
  builder.addFieldInt8(3, optionsType, 0);
  builder.addFieldOffset(4, options, 0);
  builder.addFieldOffset(8, intermediates, 0);
  return builder.endObject();
}

function writeOptions(builder: Builder, options: OptionsSpec, what: string): number {
  const table = optionsTable(options.type, what);
  const values = Object.entries(options.fields ?? {}).map(([name, value]) => {
    const field = table[name];
    return { field, value: optionFieldValue(field, value, `${what} ${options.type}.${name}`) };
  });
  // Vector fields are written before the table starts.
  const vectors = values.map(({ value }) => (typeof value === "number" ? 0 : int32Vector(builder, value)));

  const slotCount = Math.max(0, ...Object.values(table).map((field) => field.slot + 1));
  builder.startObject(slotCount);
  values.forEach(({ field, value }, i) => {
    const defaultValue = Number(field.defaultValue ?? 0);
    if (typeof value !== "number") builder.addFieldOffset(field.slot, vectors[i], 0);
    else if (field.type === "int") builder.addFieldInt32(field.slot, value, defaultValue);
    else if (field.type === "float") builder.addFieldFloat32(field.slot, value, defaultValue);
    else builder.addFieldInt8(field.slot, value, defaultValue);
  });
  return builder.endObject();
}

function writeSubgraph(builder: Builder, spec: ModelSpec, tensors: number[], operators: number[]): number {
  const tensorsVector = offsetVector(builder, tensors);
  const inputs = int32Vector(builder, spec.inputs);
  const outputs = int32Vector(builder, spec.outputs);
  const operatorsVector = offsetVector(builder, operators);
  const name = spec.subgraphName === undefined ? 0 : builder.createString(spec.subgraphName);

  // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
  builder.startObject(5);
  builder.addFieldOffset(0, tensorsVector, 0);
  builder.addFieldOffset(1, inputs, 0);
  builder.addFieldOffset(2, outputs, 0);
  builder.addFieldOffset(3, operatorsVector, 0);
  builder.addFieldOffset(4, name, 0);
  return builder.endObject();
}

function writeOperatorCode(builder: Builder, code: OperatorCode): number {
  const customCode = code.customCode === undefined ? 0 : builder.createString(code.customCode);

  // OperatorCode: deprecated_builtin_code 0, custom_code 1, version 2, builtin_code 3.
  builder.startObject(4);
  builder.addFieldInt8(0, Math.min(code.builtinCode, PLACEHOLDER_FOR_GREATER_OP_CODES), 0);
  builder.addFieldOffset(1, customCode, 0);
  builder.addFieldInt32(2, code.version, 1);
  builder.addFieldInt32(3, code.builtinCode, 0);
  return builder.endObject();
}

function writeMetadata(builder: Builder, name: string, buffer: number): number {
  const nameString = builder.createString(name);

  // Metadata: name 0, buffer 1.
  builder.startObject(2);
  builder.addFieldOffset(0, nameString, 0);
  builder.addFieldInt32(1, buffer, 0);
  return builder.endObject();
}

// Vectors. The builder writes back to front, so elements go in reverse order.

function int32Vector(builder: Builder, values: readonly number[]): number {
  builder.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) builder.addInt32(values[i]);
  return builder.endVector();
}

function float32Vector(builder: Builder, values: readonly number[]): number {
  builder.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) builder.addFloat32(values[i]);
  return builder.endVector();
}

function int64Vector(builder: Builder, values: readonly number[]): number {
  builder.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) builder.addInt64(BigInt(values[i]));
  return builder.endVector();
}

function offsetVector(builder: Builder, offsets: readonly number[]): number {
  builder.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) builder.addOffset(offsets[i]);
  return builder.endVector();
}

/**
 * Writes a byte vector whose first element sits at a multiple of `alignment`
 * from the start of the file. startVector pads so that the element bytes end
 * aligned, counted from the end of the buffer, and finish() pads the whole
 * buffer to the largest alignment used, so the start is aligned too.
 */
function alignedByteVector(builder: Builder, data: Uint8Array, alignment: number): number {
  builder.startVector(1, data.length, alignment);
  // startVector reserved room for all the bytes, so the unchecked writeInt8 is safe.
  for (let i = data.length - 1; i >= 0; i--) builder.writeInt8(data[i]);
  return builder.endVector();
}
