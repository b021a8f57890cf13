// The interpreter: load (parse and validate), plan, prepare once, then
// invoke any number of times without allocating.

import { ArenaTooSmallError, InvalidModelError, MicroqError, UnsupportedError } from "./errors.js";
import { ModelDef, OperatorDef, TensorDef, parseModel } from "./model.js";
import { ARENA_ALIGNMENT, PlanRequest, planMemory } from "./planner.js";
import { isSupportedTensorType, tensorTypeBytes, tensorTypeName } from "./tensor_types.js";
import { TensorView, createTensorView } from "./tensor_view.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernels/kernel.js";
import { findKernel } from "../kernels/registry.js";

/** Model bytes: an ArrayBuffer, a typed array over one, or a Moddable Resource (a read-only host buffer). */
export type ModelSource = ArrayBuffer | ArrayBufferView | ArrayBufferLike;

export interface InterpreterOptions {
  /** Caller-owned arena; must hold at least `arenaBytes`. By default the interpreter allocates one. */
  arena?: ArrayBuffer;
  /** Largest arena the interpreter agrees to plan, in bytes. Default 64 MiB. */
  maxArenaBytes?: number;
  /**
   * Kernel lookup by builtin operator code, like TFLM's op resolver. The
   * default resolves every kernel microq ships; return undefined for an
   * operator the resolver does not provide.
   */
  resolveKernel?: (builtinCode: number) => Kernel | undefined;
}

/**
 * Default arena limit: far above what a microcontroller model needs, so a
 * plan beyond it comes from a corrupted shape rather than a real model.
 */
const DEFAULT_MAX_ARENA_BYTES = 64 * 1024 * 1024;

/** One operator as seen by inspect and benchmarks. */
export interface OperatorSummary {
  readonly index: number;
  readonly name: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly macs: number;
}

export class Interpreter {
  /** The parsed model. */
  readonly model: ModelDef;
  readonly inputs: readonly TensorView[];
  readonly outputs: readonly TensorView[];
  /** Bytes of the arena: activations and scratch, planned by tensor lifetimes. */
  readonly arenaBytes: number;
  /** Bytes kernels keep besides the arena (derived multipliers, bias copies). */
  readonly persistentBytes: number;
  /** Multiply-accumulates of one invoke. */
  readonly macs: number;
  readonly operators: readonly OperatorSummary[];

  private readonly preparedOps: PreparedOp[];
  private readonly arena: ArrayBuffer;
  /** Arena byte offset of each tensor that lives in the arena. */
  private readonly tensorOffsets: Map<number, number>;

  constructor(source: ModelSource, options: InterpreterOptions = {}) {
    const bytes = toBytes(source);
    const resolveKernel = options.resolveKernel ?? findKernel;
    const model = parseModel(bytes);
    this.model = model;
    validateGraph(model);

    // Prepare every operator, collecting all unsupported ones for one error.
    const scratchRequests: PlanRequest[] = [];
    let persistentBytes = 0;
    const prepared: PreparedOp[] = [];
    const problems: string[] = [];
    for (const op of model.operators) {
      const kernel: Kernel | undefined = op.builtinCode >= 0 ? resolveKernel(op.builtinCode) : undefined;
      if (kernel === undefined) {
        problems.push(`operator ${op.index} ${op.name} (not implemented)`);
        continue;
      }
      const context: PrepareContext = {
        reader: model.reader,
        tensor: (index) => tensorAt(model, op, index),
        isConstant: (index) => tensorAt(model, op, index).dataOffset >= 0,
        constantBytes: (index) => constantBytes(bytes, tensorAt(model, op, index), op),
        constantInt32: (index) => {
          const tensor = tensorAt(model, op, index);
          const data = constantBytes(bytes, tensor, op);
          const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
          const result = new Int32Array(tensor.elementCount);
          for (let i = 0; i < result.length; i++) result[i] = view.getInt32(4 * i, true);
          persistentBytes += result.byteLength;
          return result;
        },
        requestScratch: (scratchBytes) => {
          scratchRequests.push({ bytes: scratchBytes, firstUse: op.index, lastUse: op.index });
          return scratchRequests.length - 1;
        },
        notePersistentBytes: (n) => {
          persistentBytes += n;
        },
      };
      try {
        prepared.push(kernel.prepare(context, op));
      } catch (error) {
        if (error instanceof UnsupportedError) problems.push(`operator ${op.index} ${op.name}: ${error.message}`);
        else throw error;
      }
    }
    if (problems.length > 0) {
      throw new UnsupportedError(
        `model uses ${problems.length} unsupported operator${problems.length === 1 ? "" : "s"}: ` +
          `${problems.join("; ")}. Use only operators and types microq supports (see microq inspect)`,
        problems,
      );
    }

    // Plan: every non-constant tensor the graph touches, then the scratch buffers.
    const lifetimes = tensorLifetimes(model);
    const arenaTensors: number[] = [];
    const requests: PlanRequest[] = [];
    lifetimes.forEach((lifetime, index) => {
      arenaTensors.push(index);
      requests.push({ bytes: model.tensors[index].byteLength, firstUse: lifetime[0], lastUse: lifetime[1] });
    });
    const scratchBase = requests.length;
    for (const request of scratchRequests) requests.push(request);
    const plan = planMemory(requests);
    const maxArenaBytes = options.maxArenaBytes ?? DEFAULT_MAX_ARENA_BYTES;
    if (plan.arenaBytes > maxArenaBytes) {
      throw new UnsupportedError(
        `model needs an arena of ${plan.arenaBytes} bytes, more than the limit of ${maxArenaBytes}; ` +
          `check the tensor shapes with microq inspect, or raise the maxArenaBytes option to run it anyway`,
      );
    }
    this.arenaBytes = plan.arenaBytes;
    this.persistentBytes = persistentBytes;

    let arena: ArrayBuffer;
    if (options.arena !== undefined) {
      if (options.arena.byteLength < plan.arenaBytes) {
        throw new ArenaTooSmallError(
          `arena has ${options.arena.byteLength} bytes, the model needs ${plan.arenaBytes}; ` +
            `pass an ArrayBuffer of at least ${plan.arenaBytes} bytes or omit the arena option`,
        );
      }
      arena = options.arena;
    } else {
      arena = new ArrayBuffer(Math.max(plan.arenaBytes, ARENA_ALIGNMENT));
    }
    this.arena = arena;

    const tensorOffsets = new Map<number, number>();
    arenaTensors.forEach((tensorIndex, i) => tensorOffsets.set(tensorIndex, plan.offsets[i]));
    this.tensorOffsets = tensorOffsets;
    const memory = createMemoryContext(model, bytes, arena, tensorOffsets, plan.offsets, scratchBase, (n) => {
      persistentBytes += n;
    });
    for (const op of prepared) op.bind(memory);
    this.persistentBytes = persistentBytes;
    this.preparedOps = prepared;

    this.inputs = model.inputs.map((index) => graphTensorView(model, bytes, arena, tensorOffsets, index, "input"));
    this.outputs = model.outputs.map((index) => graphTensorView(model, bytes, arena, tensorOffsets, index, "output"));

    let macs = 0;
    const summaries: OperatorSummary[] = [];
    model.operators.forEach((op, i) => {
      macs += prepared[i].macs;
      summaries.push({ index: op.index, name: op.name, inputs: op.inputs, outputs: op.outputs, macs: prepared[i].macs });
    });
    this.macs = macs;
    this.operators = summaries;
  }

  /** Runs the graph once on the current input data. Allocates nothing. */
  invoke(): void {
    const ops = this.preparedOps;
    for (let i = 0; i < ops.length; i++) ops[i].invoke();
  }

  /** Runs the operator at index alone, on whatever its inputs hold; for per-operator profiling. */
  invokeOperator(index: number): void {
    this.preparedOps[index].invoke();
  }

  /** Runs operators [0, count) only; used to read intermediate tensors layer by layer. */
  invokeUntil(count: number): void {
    const ops = this.preparedOps;
    const end = count < ops.length ? count : ops.length;
    for (let i = 0; i < end; i++) ops[i].invoke();
  }

  /**
   * Returns a new byte view of any tensor: the arena for activations, the
   * model buffer for constants. For tools that read intermediate tensors; it
   * allocates, so it does not belong in an inference loop. An arena tensor's
   * bytes are only meaningful until a later operator reuses its memory.
   */
  tensorBytes(index: number): Uint8Array {
    const tensor = this.model.tensors[index];
    if (tensor === undefined) {
      throw new InvalidModelError(`tensor ${index} does not exist; the model has ${this.model.tensors.length} tensors`);
    }
    const offset = this.tensorOffsets.get(index);
    if (offset !== undefined) return new Uint8Array(this.arena, offset, tensor.byteLength);
    if (tensor.dataOffset >= 0) {
      return this.model.reader.bytes.subarray(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
    }
    throw new InvalidModelError(`tensor ${index} "${tensor.name}" is not used by any operator, so it has no memory`);
  }
}

function toBytes(source: ModelSource): Uint8Array {
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  if (source === null || typeof source !== "object") {
    throw new InvalidModelError(`model must be an ArrayBuffer, a typed array or a Resource, got ${source === null ? "null" : typeof source}`);
  }
  return new Uint8Array(source as ArrayBuffer);
}

function tensorAt(model: ModelDef, op: OperatorDef, index: number): TensorDef {
  const tensor = index >= 0 ? model.tensors[index] : undefined;
  if (tensor === undefined) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) needs tensor ${index}, which the model does not define; the file is corrupted`,
    );
  }
  return tensor;
}

function constantBytes(bytes: Uint8Array, tensor: TensorDef, op: OperatorDef): Uint8Array {
  if (tensor.dataOffset < 0) {
    throw new UnsupportedError(
      `tensor ${tensor.index} "${tensor.name}" must be a constant in the model for ${op.name}, but it is computed at run time`,
    );
  }
  return bytes.subarray(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
}

/** Checks tensor types and that every operator input exists before the operator runs. */
function validateGraph(model: ModelDef): void {
  const available = new Uint8Array(model.tensors.length);
  for (const tensor of model.tensors) {
    if (tensor.dataOffset >= 0 || tensor.isVariable) available[tensor.index] = 1;
  }
  for (const index of model.inputs) {
    if (index < 0) throw new InvalidModelError(`graph input list contains ${index}; the file is corrupted`);
    available[index] = 1;
  }
  for (const op of model.operators) {
    for (const index of op.inputs) {
      if (index >= 0 && available[index] === 0) {
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}) reads tensor ${index} "${model.tensors[index].name}" before any ` +
            `operator writes it; the graph is out of order or cyclic, so the file is corrupted`,
        );
      }
    }
    for (const index of op.outputs) {
      if (index < 0) throw new InvalidModelError(`operator ${op.index} (${op.name}) has output ${index}; the file is corrupted`);
      const tensor = model.tensors[index];
      if (tensor.dataOffset >= 0) {
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}) writes tensor ${index} "${tensor.name}", which is a constant; the file is corrupted`,
        );
      }
      available[index] = 1;
    }
  }
  for (const index of model.outputs) {
    if (index < 0 || available[index] === 0) {
      throw new InvalidModelError(`graph output tensor ${index} is never written by any operator; the file is corrupted`);
    }
  }
  const seen = new Set<number>();
  const check = (index: number, role: string) => {
    if (index < 0 || seen.has(index)) return;
    seen.add(index);
    const tensor = model.tensors[index];
    if (tensor.dataOffset < 0 && !isSupportedTensorType(tensor.type)) {
      throw new UnsupportedError(
        `${role} tensor ${index} "${tensor.name}" has type ${tensorTypeName(tensor.type)}, which microq does not support; ` +
          `quantize the model to int8 or uint8`,
      );
    }
  };
  for (const index of model.inputs) check(index, "input");
  for (const op of model.operators) {
    for (const index of op.outputs) check(index, `operator ${op.index} (${op.name}) output`);
  }
}

/** [first, last] operator index using each non-constant tensor that needs arena memory. */
function tensorLifetimes(model: ModelDef): Map<number, [number, number]> {
  const lastOp = Math.max(model.operators.length - 1, 0);
  const lifetimes = new Map<number, [number, number]>();
  const touch = (index: number, at: number) => {
    if (index < 0) return;
    const tensor = model.tensors[index];
    if (tensor.dataOffset >= 0) return;
    const lifetime = lifetimes.get(index);
    if (lifetime === undefined) lifetimes.set(index, [at, at]);
    else {
      if (at < lifetime[0]) lifetime[0] = at;
      if (at > lifetime[1]) lifetime[1] = at;
    }
  };
  for (const index of model.inputs) touch(index, 0);
  for (const op of model.operators) {
    for (const index of op.inputs) touch(index, op.index);
    for (const index of op.outputs) touch(index, op.index);
  }
  for (const index of model.outputs) touch(index, lastOp);
  // Variable tensors keep their state across invokes, so they live throughout.
  for (const tensor of model.tensors) {
    if (tensor.isVariable && lifetimes.has(tensor.index)) lifetimes.set(tensor.index, [0, lastOp]);
  }
  return lifetimes;
}

function createMemoryContext(
  model: ModelDef,
  bytes: Uint8Array,
  arena: ArrayBuffer,
  tensorOffsets: Map<number, number>,
  planOffsets: number[],
  scratchBase: number,
  notePersistentBytes: (n: number) => void,
): MemoryContext {
  // Returns [buffer, byteOffset] of a tensor, copying a misaligned constant.
  const locate = (index: number, elementBytes: number): [ArrayBufferLike, number] => {
    const tensor = model.tensors[index];
    if (tensor === undefined) throw new InvalidModelError(`tensor ${index} does not exist; the file is corrupted`);
    if (tensorTypeBytes(tensor.type) !== elementBytes) {
      throw new InvalidModelError(
        `tensor ${index} "${tensor.name}" is ${tensorTypeName(tensor.type)}, read as a ${8 * elementBytes}-bit type; this is a kernel bug`,
      );
    }
    if (tensor.dataOffset >= 0) {
      const absolute = bytes.byteOffset + tensor.dataOffset;
      if (absolute % elementBytes === 0) return [bytes.buffer, absolute];
      const copy = bytes.slice(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
      notePersistentBytes(copy.byteLength);
      return [copy.buffer, 0];
    }
    const offset = tensorOffsets.get(index);
    if (offset === undefined) {
      throw new InvalidModelError(`tensor ${index} "${tensor.name}" has no arena memory; this is a planner bug`);
    }
    return [arena, offset];
  };
  return {
    int8: (index) => {
      const [buffer, offset] = locate(index, 1);
      return new Int8Array(buffer, offset, model.tensors[index].elementCount);
    },
    uint8: (index) => {
      const [buffer, offset] = locate(index, 1);
      return new Uint8Array(buffer, offset, model.tensors[index].elementCount);
    },
    int16: (index) => {
      const [buffer, offset] = locate(index, 2);
      return new Int16Array(buffer, offset, model.tensors[index].elementCount);
    },
    int32: (index) => {
      const [buffer, offset] = locate(index, 4);
      return new Int32Array(buffer, offset, model.tensors[index].elementCount);
    },
    float32: (index) => {
      const [buffer, offset] = locate(index, 4);
      return new Float32Array(buffer, offset, model.tensors[index].elementCount);
    },
    scratchInt32: (handle, length) => new Int32Array(arena, planOffsets[scratchBase + handle], length),
  };
}

function graphTensorView(
  model: ModelDef,
  bytes: Uint8Array,
  arena: ArrayBuffer,
  tensorOffsets: Map<number, number>,
  index: number,
  role: string,
): TensorView {
  const tensor = model.tensors[index];
  const offset = tensorOffsets.get(index);
  if (offset !== undefined) return createTensorView(tensor, arena, offset);
  if (tensor.dataOffset >= 0) {
    // A constant graph output: copy it so the caller's view is aligned and writable.
    const copy = bytes.slice(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
    return createTensorView(tensor, copy.buffer, 0);
  }
  throw new MicroqError("INVALID_MODEL", `graph ${role} tensor ${index} "${tensor.name}" has no memory; the file is corrupted`);
}

