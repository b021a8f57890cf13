// The contract between the interpreter and each operator kernel, after
// TFLM's prepare/eval split:
//   prepare(context, op)  validates types and shapes, derives multipliers
//                         and requests scratch memory; may allocate.
//   bind(memory)          takes typed array views once the arena exists.
//   invoke()              runs the operator; must allocate nothing.

import { FlatBufferReader } from "../runtime/flatbuffer.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { MemoryFormat, RequantizationScheme } from "../runtime/requantization/scheme.js";

export interface PrepareContext {
  readonly reader: FlatBufferReader;
  /** Requantization scheme of the model: its metadata, or the Interpreter's `requantization` option. */
  readonly scheme: RequantizationScheme;
  /** PyTorch memory format the model's reference ran in (metadata "microq_memory_format"). */
  readonly memoryFormat: MemoryFormat;
  /** The tensor at index; throws InvalidModelError for an omitted (-1) index. */
  tensor(index: number): TensorDef;
  /** True when the tensor's data is stored in the model file. */
  isConstant(index: number): boolean;
  /** Zero-copy view of a constant tensor's bytes in the model buffer. */
  constantBytes(index: number): Uint8Array;
  /** Reads a constant int32 tensor into a new array owned by the kernel. */
  constantInt32(index: number): Int32Array;
  /** Reserves scratch bytes live only during this operator; returns a handle for bind(). */
  requestScratch(bytes: number): number;
  /** Records bytes a kernel keeps for its whole life (derived parameters, repacked weights). */
  notePersistentBytes(bytes: number): void;
}

export interface MemoryContext {
  int8(tensorIndex: number): Int8Array;
  uint8(tensorIndex: number): Uint8Array;
  int16(tensorIndex: number): Int16Array;
  int32(tensorIndex: number): Int32Array;
  float32(tensorIndex: number): Float32Array;
  scratchInt32(handle: number, length: number): Int32Array;
}

export interface PreparedOp {
  /** Multiply-accumulate count of one invoke, for inspect and benchmarks. */
  readonly macs: number;
  bind(memory: MemoryContext): void;
  invoke(): void;
}

export interface Kernel {
  /** Builtin operator name, as in the TFLite schema, or the custom code of a custom operator. */
  readonly name: string;
  /**
   * True when this kernel handles the operator's types and scheme. The
   * registry offers an operator to several kernels in turn, and the first
   * that accepts it (or has no `accepts`) prepares it.
   */
  accepts?(context: PrepareContext, op: OperatorDef): boolean;
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp;
}
