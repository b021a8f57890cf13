// Runs one kernel outside the interpreter: every tensor gets its own buffer,
// so a layer of a real model can be fed a tensor from TFLM's dump and its
// output compared with the next dumped tensor. Also builds small operators
// by hand, with options tables written as minimal FlatBuffers.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { FlatBufferReader } from "../../runtime/flatbuffer.js";
import { ModelDef, OperatorDef, TensorDef, parseModel } from "../../runtime/model.js";
import { tensorTypeBytes } from "../../runtime/tensor_types.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { TFLM_FIXTURES, readFixture } from "../fixtures.js";

/** Byte written over outputs before invoke, so that unwritten elements show up. */
const UNWRITTEN_BYTE = 0xa5;

/** One operator with the tensors and options reader it refers to. */
export interface OperatorSetup {
  readonly reader: FlatBufferReader;
  readonly tensors: readonly TensorDef[];
  readonly op: OperatorDef;
  /** Bytes that constant tensors' dataOffset refers to. */
  readonly constantBytes: Uint8Array;
}

/** A prepared and bound operator with the buffers of its tensors. */
export interface PreparedLayer {
  readonly prepared: PreparedOp;
  readonly persistentBytes: number;
  /** Tensor index to its buffer. */
  readonly buffers: Map<number, ArrayBuffer>;
}

/** Prepares the operator, gives each of its tensors a buffer and binds them. */
export function prepareLayer(kernel: Kernel, setup: OperatorSetup, schemeName = "tflm"): PreparedLayer {
  const { tensors, op, constantBytes } = setup;
  const tensorAt = (index: number): TensorDef => {
    const tensor = tensors[index];
    if (tensor === undefined) throw new Error(`harness: tensor ${index} does not exist`);
    return tensor;
  };
  const constantView = (index: number): Uint8Array => {
    const tensor = tensorAt(index);
    if (tensor.dataOffset < 0) throw new Error(`harness: tensor ${index} is not a constant`);
    return constantBytes.subarray(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
  };

  let persistentBytes = 0;
  const scratch: ArrayBuffer[] = [];
  const context: PrepareContext = {
    reader: setup.reader,
    scheme: schemeByName(schemeName),
    memoryFormat: "contiguous",
    tensor: tensorAt,
    isConstant: (index) => tensorAt(index).dataOffset >= 0,
    constantBytes: constantView,
    constantInt32: (index) => {
      const bytes = constantView(index).slice();
      const values = new Int32Array(bytes.buffer, 0, bytes.byteLength >> 2);
      persistentBytes += values.byteLength;
      return values;
    },
    requestScratch: (bytes) => {
      scratch.push(new ArrayBuffer(bytes));
      return scratch.length - 1;
    },
    notePersistentBytes: (bytes) => {
      persistentBytes += bytes;
    },
  };
  const prepared = kernel.prepare(context, op);

  const buffers = new Map<number, ArrayBuffer>();
  for (const index of [...op.inputs, ...op.outputs]) {
    if (index < 0 || buffers.has(index)) continue;
    const tensor = tensorAt(index);
    const buffer = new ArrayBuffer(tensor.byteLength);
    if (tensor.dataOffset >= 0) new Uint8Array(buffer).set(constantView(index));
    buffers.set(index, buffer);
  }
  const bufferOf = (index: number, elementBytes: number): ArrayBuffer => {
    const buffer = buffers.get(index);
    if (buffer === undefined) throw new Error(`harness: tensor ${index} is not an input or output of operator ${op.index}`);
    if (tensorTypeBytes(tensorAt(index).type) !== elementBytes) {
      throw new Error(`harness: tensor ${index} read with ${8 * elementBytes}-bit elements`);
    }
    return buffer;
  };
  const memory: MemoryContext = {
    int8: (index) => new Int8Array(bufferOf(index, 1)),
    uint8: (index) => new Uint8Array(bufferOf(index, 1)),
    int16: (index) => new Int16Array(bufferOf(index, 2)),
    int32: (index) => new Int32Array(bufferOf(index, 4)),
    float32: (index) => new Float32Array(bufferOf(index, 4)),
    scratchInt32: (handle, length) => new Int32Array(scratch[handle], 0, length),
  };
  prepared.bind(memory);
  return { prepared, persistentBytes, buffers };
}

/**
 * Runs the operator once on the given input bytes (tensor index to raw
 * bytes) and returns the raw bytes of each output tensor.
 */
export function runLayer(kernel: Kernel, setup: OperatorSetup, inputs: ReadonlyMap<number, Uint8Array>): Map<number, Uint8Array> {
  const layer = prepareLayer(kernel, setup);
  for (const [index, bytes] of inputs) {
    const buffer = layer.buffers.get(index);
    if (buffer === undefined) throw new Error(`harness: tensor ${index} is not an input of operator ${setup.op.index}`);
    if (bytes.byteLength !== buffer.byteLength) {
      throw new Error(`harness: tensor ${index} needs ${buffer.byteLength} bytes, got ${bytes.byteLength}`);
    }
    new Uint8Array(buffer).set(bytes);
  }
  for (const index of setup.op.outputs) new Uint8Array(layer.buffers.get(index)!).fill(UNWRITTEN_BYTE);
  layer.prepared.invoke();
  const outputs = new Map<number, Uint8Array>();
  for (const index of setup.op.outputs) outputs.set(index, new Uint8Array(layer.buffers.get(index)!.slice(0)));
  return outputs;
}

// ---------------------------------------------------------------------------
// TFLM fixtures: models and the per-tensor dumps of case rand0.

/** One entry of a dump's index.json. */
export interface DumpTensor {
  index: number;
  file: string;
  name: string;
  type: string;
  shape: number[];
  scale: number[];
  zero_point: number[];
  producer_op_index: number | null;
  producer_op: string | null;
}

export function loadTflmModel(name: string): ModelDef {
  return parseModel(readFixture(`models/${name}.tflite`));
}

export function readDumpIndex(model: string): DumpTensor[] {
  const path = resolve(TFLM_FIXTURES, "dumps", model, "rand0", "index.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { tensors: DumpTensor[] }).tensors;
}

export function readDumpTensor(model: string, tensorIndex: number): Uint8Array {
  return readFixture(`dumps/${model}/rand0/${tensorIndex}.bin`);
}

/** Returns the setup of operator opIndex of a parsed model. */
export function modelOperator(model: ModelDef, opIndex: number): OperatorSetup {
  const op = model.operators[opIndex];
  if (op === undefined) throw new Error(`harness: the model has no operator ${opIndex}`);
  return { reader: model.reader, tensors: model.tensors, op, constantBytes: model.reader.bytes };
}

/**
 * Runs operator opIndex of a TFLM model on its input tensors from the rand0
 * dump and returns [actual, expected] bytes of its first output.
 */
export function runDumpedLayer(kernel: Kernel, modelName: string, opIndex: number): [Uint8Array, Uint8Array] {
  const model = loadTflmModel(modelName);
  const setup = modelOperator(model, opIndex);
  const inputs = new Map<number, Uint8Array>();
  for (const index of setup.op.inputs) {
    if (index >= 0 && model.tensors[index].dataOffset < 0) inputs.set(index, readDumpTensor(modelName, index));
  }
  const outputIndex = setup.op.outputs[0];
  const actual = runLayer(kernel, setup, inputs).get(outputIndex)!;
  return [actual, readDumpTensor(modelName, outputIndex)];
}

// ---------------------------------------------------------------------------
// Hand-built operators.

/** A scalar table field: its FlatBuffers type and value. */
export type ScalarField = ["int32" | "float32", number];

/**
 * Writes a FlatBuffers table whose fields are all 4-byte scalars, field id i
 * holding fields[i], and returns a reader over it and the table. An int8
 * field may be written as int32, because the reader takes its low byte.
 */
export function scalarTable(fields: readonly ScalarField[], label: string): { reader: FlatBufferReader; table: ReturnType<FlatBufferReader["table"]> } {
  const vtableBytes = 4 + 2 * fields.length;
  const vtableSize = (vtableBytes + 3) & ~3;
  const tableBytes = 4 + 4 * fields.length;
  const bytes = new Uint8Array(vtableSize + tableBytes);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, vtableBytes, true);
  view.setUint16(2, tableBytes, true);
  const tablePosition = vtableSize;
  view.setInt32(tablePosition, tablePosition, true);
  fields.forEach(([type, value], id) => {
    const fieldOffset = 4 + 4 * id;
    view.setUint16(4 + 2 * id, fieldOffset, true);
    if (type === "float32") view.setFloat32(tablePosition + fieldOffset, value, true);
    else view.setInt32(tablePosition + fieldOffset, value, true);
  });
  const reader = new FlatBufferReader(bytes);
  return { reader, table: reader.table(tablePosition, label) };
}

/** Describes an activation tensor without constant data. */
export function tensorDef(
  index: number,
  type: number,
  shape: readonly number[],
  scale: readonly number[] = [],
  zeroPoint: readonly number[] = [],
): TensorDef {
  const elementCount = shape.reduce((product, dim) => product * dim, 1);
  return {
    index,
    name: `t${index}`,
    type,
    shape,
    elementCount,
    byteLength: elementCount * tensorTypeBytes(type),
    dataOffset: -1,
    isVariable: false,
    scale: Float32Array.from(scale),
    zeroPoint: Int32Array.from(zeroPoint),
    quantizedDimension: 0,
  };
}

/** Builds an operator that reads all tensors but the last and writes the last. */
export function handOperator(
  name: string,
  builtinCode: number,
  tensors: readonly TensorDef[],
  options: { optionsType: number; fields: readonly ScalarField[] } | null,
): OperatorSetup {
  const built = options === null ? null : scalarTable(options.fields, `${name} options`);
  const inputs = tensors.slice(0, -1).map((t) => t.index);
  const op: OperatorDef = {
    index: 0,
    builtinCode,
    name,
    version: 1,
    inputs,
    outputs: [tensors[tensors.length - 1].index],
    intermediates: [],
    optionsType: options === null ? 0 : options.optionsType,
    options: built === null ? null : built.table,
  };
  const reader = built === null ? new FlatBufferReader(new Uint8Array(8)) : built.reader;
  return { reader, tensors, op, constantBytes: new Uint8Array(0) };
}

/** Raw bytes of a typed array, for runLayer inputs. */
export function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
