// Parsing of a .tflite model into plain descriptions of tensors and
// operators. Constant tensor data stays in the model buffer: a tensor only
// records where its bytes are.

import { InvalidModelError, UnsupportedError } from "./errors.js";
import { FlatBufferReader, TableRef, VectorRef } from "./flatbuffer.js";
import { BUILTIN_OPERATOR_NAMES, BUILTIN_OPTIONS_NAMES } from "./schema/names.js";
import { tensorTypeBytes, tensorTypeName } from "./tensor_types.js";

/** Largest element count accepted for one tensor, so that every flat index stays well inside int32. */
export const MAX_TENSOR_ELEMENTS = 0x4000000;

/**
 * Largest tensor and operator counts accepted. Real microcontroller models
 * have a few hundred; the caps keep the quadratic memory planner fast on a
 * corrupted file.
 */
export const MAX_TENSORS = 8192;
export const MAX_OPERATORS = 2048;

/** Largest tensor rank accepted; TFLM kernels handle at most 6 dimensions. */
export const MAX_RANK = 8;

export interface TensorDef {
  readonly index: number;
  readonly name: string;
  /** TensorType enum value. */
  readonly type: number;
  readonly shape: readonly number[];
  readonly elementCount: number;
  readonly byteLength: number;
  /** Byte offset of constant data in the model buffer, or -1 for a tensor without data. */
  readonly dataOffset: number;
  readonly isVariable: boolean;
  /**
   * Per-tensor or per-channel scales, as stored in the file. A typed array
   * costs 4 bytes an element where an XS array costs a 16-byte slot.
   */
  readonly scale: Float32Array;
  /** Zero points, one per scale. The file stores int64 values, and the parser rejects any outside int32. */
  readonly zeroPoint: Int32Array;
  readonly quantizedDimension: number;
}

export interface OperatorDef {
  readonly index: number;
  /** BuiltinOperator code, or -1 for a custom operator. */
  readonly builtinCode: number;
  /** Operator name: the builtin name or the custom code. */
  readonly name: string;
  readonly version: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly intermediates: readonly number[];
  /** BuiltinOptions union type and table, or 0 and null. */
  readonly optionsType: number;
  readonly options: TableRef | null;
}

export interface ModelDef {
  readonly reader: FlatBufferReader;
  readonly version: number;
  readonly description: string;
  readonly tensors: readonly TensorDef[];
  readonly operators: readonly OperatorDef[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Metadata entries by name, as byte ranges of the model buffer. */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
}

const BUILTIN_CUSTOM = 32;
const BUILTIN_PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

/** Parses and structurally validates a TFLite flatbuffer. */
export function parseModel(bytes: Uint8Array): ModelDef {
  const reader = new FlatBufferReader(bytes);
  if (bytes.byteLength >= 8) {
    const identifier = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
    if (identifier !== "TFL3") {
      throw new InvalidModelError(
        `model file identifier is "${printable(identifier)}", expected "TFL3"; ` +
          `pass a TensorFlow Lite flatbuffer (.tflite)`,
      );
    }
  }
  const model = reader.root("Model");

  const version = reader.fieldUint32(model, 0, "version", 0);
  if (version !== 3) {
    throw new UnsupportedError(`Model.version is ${version}, expected 3; convert the model with a current TensorFlow Lite converter`);
  }

  const buffers = reader.fieldVector(model, 4, "buffers", 4);
  const bufferRanges = parseBuffers(reader, buffers);

  const subgraphs = reader.fieldVector(model, 2, "subgraphs", 4);
  if (subgraphs === null || subgraphs.length === 0) {
    throw new InvalidModelError("Model.subgraphs is empty; the file contains no graph to run");
  }
  const subgraph = reader.vectorTable(subgraphs, 0, "SubGraph 0");

  const tensors = parseTensors(reader, subgraph, bufferRanges);
  const operatorCodes = parseOperatorCodes(reader, model);
  const operators = parseOperators(reader, subgraph, operatorCodes, tensors.length);
  const inputs = parseTensorList(reader, subgraph, 1, "SubGraph 0.inputs", tensors.length);
  const outputs = parseTensorList(reader, subgraph, 2, "SubGraph 0.outputs", tensors.length);

  return {
    reader,
    version,
    description: reader.fieldString(model, 3, "description"),
    tensors,
    operators,
    inputs,
    outputs,
    metadata: parseMetadata(reader, model, bufferRanges),
  };
}

/** Byte range [start, start + length) of a buffer's data; length 0 for an empty buffer. */
interface BufferRange {
  start: number;
  length: number;
}

function parseBuffers(reader: FlatBufferReader, buffers: VectorRef | null): BufferRange[] {
  const ranges: BufferRange[] = [];
  if (buffers === null) return ranges;
  for (let i = 0; i < buffers.length; i++) {
    const buffer = reader.vectorTable(buffers, i, `Buffer ${i}`);
    const data = reader.fieldVector(buffer, 0, "data", 1);
    // Models over 2 GB keep data after the flatbuffer, addressed by offset
    // and size; an offset of 1 or less means "not used".
    const offset = reader.fieldInt64(buffer, 1, "offset", 0);
    const size = reader.fieldInt64(buffer, 2, "size", 0);
    if (data !== null && data.length > 0) {
      ranges.push({ start: data.start, length: data.length });
    } else if (offset > 1) {
      reader.checkRange(offset, size, `Buffer ${i} external data`);
      ranges.push({ start: offset, length: size });
    } else {
      ranges.push({ start: 0, length: 0 });
    }
  }
  return ranges;
}

function parseTensors(reader: FlatBufferReader, subgraph: TableRef, buffers: BufferRange[]): TensorDef[] {
  const vector = reader.fieldVector(subgraph, 0, "tensors", 4);
  const tensors: TensorDef[] = [];
  if (vector === null) return tensors;
  if (vector.length > MAX_TENSORS) {
    throw new UnsupportedError(`SubGraph 0 has ${vector.length} tensors, more than the ${MAX_TENSORS} microq accepts; the file is corrupted or not a microcontroller model`);
  }

  for (let index = 0; index < vector.length; index++) {
    const label = `Tensor ${index}`;
    const table = reader.vectorTable(vector, index, label);
    const name = reader.fieldString(table, 3, "name");
    const subject = `tensor ${index} "${name}"`;
    const shape = reader.int32Array(reader.fieldVector(table, 0, "shape", 4));
    const type = reader.fieldInt8(table, 1, "type", 0);
    const bufferIndex = reader.fieldUint32(table, 2, "buffer", 0);
    const isVariable = reader.fieldBool(table, 5, "is_variable");

    if (shape.length > MAX_RANK) {
      throw new InvalidModelError(
        `${subject} has ${shape.length} dimensions, more than the ${MAX_RANK} microq accepts; the file is corrupted`,
      );
    }
    // The extent (product of the non-zero dimensions) is bounded too: kernels
    // size per-row tables from single dimensions, even of an empty tensor.
    let elementCount = 1;
    let extent = 1;
    for (let d = 0; d < shape.length; d++) {
      const dim = shape[d];
      if (dim < 0) {
        throw new UnsupportedError(
          `${subject} has dynamic dimension ${dim} in shape [${shape}]; ` +
            `export the model with fixed input shapes`,
        );
      }
      elementCount *= dim;
      if (dim > 0) extent *= dim;
      if (extent > MAX_TENSOR_ELEMENTS) {
        throw new InvalidModelError(
          `${subject} shape [${shape}] spans more than ${MAX_TENSOR_ELEMENTS} elements; ` +
            `the model is corrupted or far too large for a microcontroller`,
        );
      }
    }
    const elementBytes = tensorTypeBytes(type);
    const byteLength = elementCount * elementBytes;

    if (bufferIndex >= buffers.length && bufferIndex !== 0) {
      throw new InvalidModelError(
        `${subject} refers to buffer ${bufferIndex}, but the model has ${buffers.length} buffers; the file is corrupted`,
      );
    }
    const buffer = bufferIndex < buffers.length ? buffers[bufferIndex] : { start: 0, length: 0 };
    let dataOffset = -1;
    if (buffer.length > 0) {
      if (elementBytes === 0) {
        throw new UnsupportedError(`${subject} is a constant of type ${tensorTypeName(type)}, which this runtime cannot hold`);
      }
      if (buffer.length !== byteLength) {
        throw new InvalidModelError(
          `${subject}: buffer ${bufferIndex} has ${buffer.length} bytes, but shape [${shape}] of ` +
            `${tensorTypeName(type)} needs ${byteLength}; the file is corrupted`,
        );
      }
      dataOffset = buffer.start;
    }

    const quantization = parseQuantization(reader, table, subject, shape);
    tensors.push({
      index,
      name,
      type,
      shape,
      elementCount,
      byteLength,
      dataOffset,
      isVariable,
      scale: quantization.scale,
      zeroPoint: quantization.zeroPoint,
      quantizedDimension: quantization.quantizedDimension,
    });
  }
  return tensors;
}

// Shared by every tensor without quantization, which saves two typed arrays
// per tensor. Sharing is safe because an empty typed array cannot be changed.
const NO_SCALES = new Float32Array(0);
const NO_ZERO_POINTS = new Int32Array(0);

function parseQuantization(
  reader: FlatBufferReader,
  tensor: TableRef,
  subject: string,
  shape: readonly number[],
): { scale: Float32Array; zeroPoint: Int32Array; quantizedDimension: number } {
  const table = reader.fieldTable(tensor, 4, "quantization", `${tensor.label}.quantization`);
  if (table === null) return { scale: NO_SCALES, zeroPoint: NO_ZERO_POINTS, quantizedDimension: 0 };

  const scaleVector = reader.fieldVector(table, 2, "scale", 4);
  const zeroPointVector = reader.fieldVector(table, 3, "zero_point", 8);
  const quantizedDimension = reader.fieldInt32(table, 6, "quantized_dimension", 0);
  const scaleStart = scaleVector === null ? 0 : scaleVector.start;
  const scaleCount = scaleVector === null ? 0 : scaleVector.length;
  const zeroPointStart = zeroPointVector === null ? 0 : zeroPointVector.start;
  const zeroPointCount = zeroPointVector === null ? 0 : zeroPointVector.length;
  if (scaleCount !== zeroPointCount && !(scaleCount > 0 && zeroPointCount === 0)) {
    throw new InvalidModelError(
      `${subject} has ${scaleCount} scales but ${zeroPointCount} zero points; the file is corrupted`,
    );
  }
  // Converters copy the weights' quantized_dimension onto 1-D bias tensors,
  // where it can be out of range, so only an in-range dimension is checked
  // against the scale count. Kernels check the dimension they rely on.
  if (scaleCount > 1) {
    const inRange = quantizedDimension >= 0 && quantizedDimension < shape.length;
    let channels = -1;
    if (inRange) channels = shape[quantizedDimension];
    else if (shape.length === 1) channels = shape[0];
    if (channels !== scaleCount) {
      throw new InvalidModelError(
        `${subject} has ${scaleCount} per-channel scales, but dimension ${quantizedDimension} of ` +
          `shape [${shape}] does not have that many channels; the file is corrupted`,
      );
    }
  }

  if (scaleCount === 0) return { scale: NO_SCALES, zeroPoint: NO_ZERO_POINTS, quantizedDimension };

  const scale = new Float32Array(scaleCount);
  for (let i = 0; i < scaleCount; i++) {
    const s = reader.view.getFloat32(scaleStart + 4 * i, true);
    if (!(s >= 0) || !Number.isFinite(s)) {
      throw new InvalidModelError(`${subject} scale[${i}] is ${s}, not a finite non-negative number; the file is corrupted`);
    }
    scale[i] = s;
  }
  // A missing zero_point vector means zero points of 0, which Int32Array
  // starts with.
  const zeroPoint = new Int32Array(scaleCount);
  for (let i = 0; i < zeroPointCount; i++) {
    const label = `${subject} zero_point[${i}]`;
    const z = reader.int64(zeroPointStart + 8 * i, label);
    if (z < -0x80000000 || z > 0x7fffffff) {
      throw new InvalidModelError(
        `${label} is ${z}, outside the int32 range; the file is corrupted or was not written for a microcontroller`,
      );
    }
    zeroPoint[i] = z;
  }
  return { scale, zeroPoint, quantizedDimension };
}

interface OperatorCodeDef {
  builtinCode: number;
  name: string;
  version: number;
}

function parseOperatorCodes(reader: FlatBufferReader, model: TableRef): OperatorCodeDef[] {
  const vector = reader.fieldVector(model, 1, "operator_codes", 4);
  const codes: OperatorCodeDef[] = [];
  if (vector === null) return codes;
  for (let i = 0; i < vector.length; i++) {
    const table = reader.vectorTable(vector, i, `OperatorCode ${i}`);
    const deprecatedCode = reader.fieldInt8(table, 0, "deprecated_builtin_code", 0);
    const customCode = reader.fieldString(table, 1, "custom_code");
    const version = reader.fieldInt32(table, 2, "version", 1);
    const extendedCode = reader.fieldInt32(table, 3, "builtin_code", 0);
    // Files written before builtin_code existed store only the byte field;
    // newer ones put 127 there for codes above it. The larger one is right.
    const builtinCode = Math.max(deprecatedCode, extendedCode);
    if (builtinCode === BUILTIN_CUSTOM) {
      codes.push({ builtinCode: -1, name: customCode === "" ? "CUSTOM" : customCode, version });
    } else if (builtinCode >= 0 && builtinCode < BUILTIN_OPERATOR_NAMES.length && builtinCode !== BUILTIN_PLACEHOLDER_FOR_GREATER_OP_CODES) {
      codes.push({ builtinCode, name: BUILTIN_OPERATOR_NAMES[builtinCode], version });
    } else {
      codes.push({ builtinCode, name: `builtin operator ${builtinCode}`, version });
    }
  }
  return codes;
}

function parseOperators(
  reader: FlatBufferReader,
  subgraph: TableRef,
  codes: OperatorCodeDef[],
  tensorCount: number,
): OperatorDef[] {
  const vector = reader.fieldVector(subgraph, 3, "operators", 4);
  const operators: OperatorDef[] = [];
  if (vector === null) return operators;
  if (vector.length > MAX_OPERATORS) {
    throw new UnsupportedError(`SubGraph 0 has ${vector.length} operators, more than the ${MAX_OPERATORS} microq accepts; the file is corrupted or not a microcontroller model`);
  }
  for (let index = 0; index < vector.length; index++) {
    const label = `Operator ${index}`;
    const table = reader.vectorTable(vector, index, label);
    const opcodeIndex = reader.fieldUint32(table, 0, "opcode_index", 0);
    if (opcodeIndex >= codes.length) {
      throw new InvalidModelError(
        `${label}: opcode_index ${opcodeIndex} is out of range, the model has ${codes.length} operator codes; the file is corrupted`,
      );
    }
    const code = codes[opcodeIndex];
    const inputs = parseTensorList(reader, table, 1, `${label} (${code.name}).inputs`, tensorCount);
    const outputs = parseTensorList(reader, table, 2, `${label} (${code.name}).outputs`, tensorCount);
    const intermediates = parseTensorList(reader, table, 8, `${label} (${code.name}).intermediates`, tensorCount);
    const optionsType = reader.fieldUint8(table, 3, "builtin_options_type", 0);
    const options = reader.fieldTable(table, 4, "builtin_options", `${label} (${code.name}) ${BUILTIN_OPTIONS_NAMES[optionsType] ?? "options"}`);
    operators.push({
      index,
      builtinCode: code.builtinCode,
      name: code.name,
      version: code.version,
      inputs,
      outputs,
      intermediates,
      optionsType,
      options,
    });
  }
  return operators;
}

/** Reads a vector of tensor indices, each in [0, tensorCount) or -1 for "omitted". */
function parseTensorList(reader: FlatBufferReader, table: TableRef, id: number, subject: string, tensorCount: number): number[] {
  const indices = reader.int32Array(reader.fieldVector(table, id, subject, 4));
  for (let i = 0; i < indices.length; i++) {
    const t = indices[i];
    if (t < -1 || t >= tensorCount) {
      throw new InvalidModelError(`${subject}[${i}] is tensor ${t}, but the graph has ${tensorCount} tensors; the file is corrupted`);
    }
  }
  return indices;
}

function parseMetadata(reader: FlatBufferReader, model: TableRef, buffers: BufferRange[]): Map<string, Uint8Array> {
  const result = new Map<string, Uint8Array>();
  const vector = reader.fieldVector(model, 6, "metadata", 4);
  if (vector === null) return result;
  for (let i = 0; i < vector.length; i++) {
    const table = reader.vectorTable(vector, i, `Metadata ${i}`);
    const name = reader.fieldString(table, 0, "name");
    const bufferIndex = reader.fieldUint32(table, 1, "buffer", 0);
    if (bufferIndex >= buffers.length) {
      throw new InvalidModelError(`Metadata "${name}" refers to buffer ${bufferIndex} of ${buffers.length}; the file is corrupted`);
    }
    const range = buffers[bufferIndex];
    result.set(name, reader.bytes.subarray(range.start, range.start + range.length));
  }
  return result;
}

function printable(text: string): string {
  let result = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    result += c >= 0x20 && c < 0x7f ? text[i] : "?";
  }
  return result;
}
