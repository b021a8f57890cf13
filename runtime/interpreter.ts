// The interpreter: parse (model.ts), validate (validate_graph.ts), prepare
// each kernel, plan the arena (lifetimes.ts, planner.ts), bind views
// (memory_context.ts), then invoke any number of times without allocating.

import { ArenaTooSmallError, InvalidInputError, InvalidModelError, MicroqError, UnsupportedError } from "./errors.js";
import { tensorLifetimes } from "./lifetimes.js";
import { createMemoryContext } from "./memory_context.js";
import { ModelDef, OperatorDef, TensorDef, parseModel } from "./model.js";
import { ARENA_ALIGNMENT, PlanRequest, planMemory } from "./planner.js";
import { TensorView, createTensorView } from "./tensor_view.js";
import { validateGraph } from "./validate_graph.js";
import { TensorType } from "./tensor_types.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernels/kernel.js";
import { findCustomKernel, findKernel } from "../kernels/registry.js";
import { MemoryFormat, RequantizationScheme, SchemeName } from "./requantization/scheme.js";
import { SCHEME_NAMES, schemeByName } from "./requantization/registry.js";

/** Model bytes: an ArrayBuffer, a typed array over one, or a Moddable Resource (a read-only host buffer). */
export type ModelSource = ArrayBuffer | ArrayBufferView | ArrayBufferLike;

export interface InterpreterOptions {
  /** Caller-owned arena; must hold at least `arenaBytes`. By default the interpreter allocates one. */
  arena?: ArrayBuffer;
  /** Largest arena the interpreter agrees to plan, in bytes. Default 64 MiB. */
  maxArenaBytes?: number;
  /** Largest multiply-accumulate count of one invoke. Default 2^31. */
  maxMacs?: number;
  /**
   * Kernel lookup by builtin operator code, like TFLM's op resolver. The
   * default resolves every kernel microq ships; return undefined for an
   * operator the resolver does not provide.
   */
  resolveKernel?: (builtinCode: number) => Kernel | undefined;
  /**
   * Requantization scheme, overriding the model's "microq_requantization"
   * metadata. Models without that metadata use "tflm".
   */
  requantization?: SchemeName;
  /** PyTorch memory format, overriding the model's "microq_memory_format" metadata (default "contiguous"). */
  memoryFormat?: MemoryFormat;
}

/** Metadata names microq reads from a model file. */
export const REQUANTIZATION_METADATA = "microq_requantization";
export const MEMORY_FORMAT_METADATA = "microq_memory_format";
const MEMORY_FORMATS: readonly MemoryFormat[] = ["contiguous", "channels_last"];

/**
 * Default arena limit: far above what a microcontroller model needs, so a
 * plan beyond it comes from a corrupted shape rather than a real model.
 */
const DEFAULT_MAX_ARENA_BYTES = 64 * 1024 * 1024;

/**
 * Default work limit of one invoke. MobileNet v2 at 224x224 needs about 0.3
 * billion MACs; a corrupted shape can ask for thousands of times more, which
 * would look like a hang.
 */
const DEFAULT_MAX_MACS = 0x80000000;

/** The most unsupported operators spelled out one by one in an error message. */
const DETAILED_PROBLEMS = 3;

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
  /** Name of the requantization scheme the kernels use. */
  readonly requantization: SchemeName;
  /** PyTorch memory format the average pooling arithmetic follows. */
  readonly memoryFormat: MemoryFormat;

  private readonly preparedOps: PreparedOp[];
  private readonly arena: ArrayBuffer;
  /** Arena byte offset of each tensor that lives in the arena. */
  private readonly tensorOffsets: Map<number, number>;
  /** The whole arena as bytes, for resetState(). */
  private readonly arenaView: Uint8Array;
  /** Variable tensors (recurrent state): arena start, end and the byte value each resets to. */
  private readonly stateStarts: Int32Array;
  private readonly stateEnds: Int32Array;
  private readonly stateFills: Int32Array;

  constructor(source: ModelSource, options: InterpreterOptions | null = {}) {
    options = checkOptions(options);
    const bytes = toBytes(source);
    const resolveKernel = options.resolveKernel ?? findKernel;
    const model = parseModel(bytes);
    this.model = model;
    validateGraph(model);
    const scheme = chooseScheme(model, options.requantization);
    const memoryFormat = chooseMemoryFormat(model, options.memoryFormat);
    this.requantization = scheme.name;
    this.memoryFormat = memoryFormat;

    // Prepare every operator, collecting all unsupported ones for one error.
    const scratchRequests: PlanRequest[] = [];
    let persistentBytes = 0;
    const prepared: PreparedOp[] = [];
    const problems: string[] = [];
    const missingKernels = new Map<string, number>();
    for (const op of model.operators) {
      const kernel: Kernel | undefined =
        op.builtinCode >= 0 ? resolveKernel(op.builtinCode) : findCustomKernel(op.name);
      if (kernel === undefined) {
        problems.push(`operator ${op.index} ${op.name} (not implemented)`);
        missingKernels.set(op.name, (missingKernels.get(op.name) ?? 0) + 1);
        continue;
      }
      const context: PrepareContext = {
        reader: model.reader,
        scheme,
        memoryFormat,
        tensor: (index) => tensorAt(model, op, index),
        isConstant: (index) => {
          const tensor = tensorAt(model, op, index);
          return tensor.dataOffset >= 0 && !tensor.isVariable;
        },
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
        else if (error instanceof InvalidModelError && !error.message.startsWith(`operator ${op.index} `)) {
          // Scheme and helper messages name the value but not the operator.
          throw new InvalidModelError(`operator ${op.index} (${op.name}): ${error.message}`);
        } else throw error;
      }
    }
    if (problems.length > 0) {
      throw new UnsupportedError(summarizeProblems(problems, missingKernels), problems);
    }

    const maxMacs = options.maxMacs ?? DEFAULT_MAX_MACS;
    let totalMacs = 0;
    for (const op of prepared) totalMacs += op.macs;
    if (totalMacs > maxMacs) {
      throw new UnsupportedError(
        `model needs ${totalMacs} multiply-accumulates per invoke, more than the limit of ${maxMacs}; ` +
          `check the tensor shapes with microq inspect, or raise the maxMacs option to run it anyway`,
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

    this.arenaView = new Uint8Array(arena);
    const stateTensors = model.tensors.filter((t) => t.isVariable && tensorOffsets.has(t.index));
    this.stateStarts = Int32Array.from(stateTensors, (t) => tensorOffsets.get(t.index) as number);
    this.stateEnds = Int32Array.from(stateTensors, (t) => (tensorOffsets.get(t.index) as number) + t.byteLength);
    this.stateFills = Int32Array.from(stateTensors, stateResetByte);
    this.resetState();

    this.inputs = model.inputs.map((index) => graphTensorView(model, bytes, arena, tensorOffsets, index, "input"));
    this.outputs = model.outputs.map((index) => graphTensorView(model, bytes, arena, tensorOffsets, index, "output"));

    this.macs = totalMacs;
    this.operators = model.operators.map((op, i) => ({
      index: op.index,
      name: op.name,
      inputs: op.inputs,
      outputs: op.outputs,
      macs: prepared[i].macs,
    }));
  }

  /**
   * Copies data into input tensor `index` after checking it: either a typed
   * array of the tensor's element type with exactly its element count, or a
   * Uint8Array of its raw little-endian bytes. Throws InvalidInputError
   * otherwise, before anything is written. Checks cost nothing per element,
   * and nothing is allocated.
   */
  setInput(index: number, data: ArrayBufferView): void {
    const tensor = this.inputs[index];
    if (tensor === undefined) {
      throw new InvalidInputError(
        `input index ${index} is out of range; the model has ${this.inputs.length} input tensor${this.inputs.length === 1 ? "" : "s"}`,
      );
    }
    const expected = tensor.data;
    const sameType = data !== null && typeof data === "object" && data.constructor === expected.constructor;
    if (sameType && (data as typeof expected).length === expected.length) {
      expected.set(data as never);
      return;
    }
    if (data instanceof Uint8Array && data.byteLength === tensor.bytes.byteLength) {
      tensor.bytes.set(data);
      return;
    }
    const given = data !== null && typeof data === "object" && ArrayBuffer.isView(data)
      ? `${data.constructor.name} of ${data.byteLength} bytes`
      : typeof data;
    const typeName = expected.constructor.name;
    const article = /^[AEIOU]/.test(typeName) ? "an" : "a";
    throw new InvalidInputError(
      `input ${index} "${tensor.name}" is ${tensor.type} [${tensor.shape}] (${expected.length} elements, ` +
        `${tensor.bytes.byteLength} bytes), got ${given}; pass ${article} ${typeName} of ` +
        `${expected.length} elements or a Uint8Array of ${tensor.bytes.byteLength} bytes`,
    );
  }

  /**
   * Resets every variable tensor (the state of SVDF and LSTM operators) to
   * its initial value, as TFLM's ResetVariableTensors does: the zero point
   * for int8 tensors, zero for other types. The constructor does this once;
   * call it again between independent input sequences. Allocates nothing.
   */
  resetState(): void {
    const starts = this.stateStarts;
    for (let i = 0; i < starts.length; i++) this.arenaView.fill(this.stateFills[i], starts[i], this.stateEnds[i]);
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

/** Returns the byte a variable tensor is filled with on reset: an int8 tensor's zero point, otherwise 0. */
function stateResetByte(tensor: TensorDef): number {
  if (tensor.type === TensorType.INT8 && tensor.zeroPoint.length > 0) return tensor.zeroPoint[0] & 0xff;
  return 0;
}

function checkOptions(options: InterpreterOptions | null): InterpreterOptions {
  if (options === null || options === undefined) return {};
  if (typeof options !== "object") {
    throw new InvalidInputError(`options must be an object, got ${typeof options}`);
  }
  const arena = options.arena;
  if (arena !== undefined && !(arena instanceof ArrayBuffer)) {
    const kind = arena === null ? "null" : ArrayBuffer.isView(arena) ? "a typed array" : typeof arena;
    throw new InvalidInputError(`options.arena must be an ArrayBuffer, got ${kind}; pass new ArrayBuffer(arenaBytes)`);
  }
  for (const name of ["maxArenaBytes", "maxMacs"] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === "number" && value >= 0)) {
      throw new InvalidInputError(`options.${name} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (options.resolveKernel !== undefined && typeof options.resolveKernel !== "function") {
    throw new InvalidInputError(`options.resolveKernel must be a function, got ${typeof options.resolveKernel}`);
  }
  if (options.requantization !== undefined) schemeByName(options.requantization);
  if (options.memoryFormat !== undefined && !MEMORY_FORMATS.includes(options.memoryFormat)) {
    throw new InvalidInputError(
      `options.memoryFormat must be one of ${MEMORY_FORMATS.join(", ")}, got ${String(options.memoryFormat)}`,
    );
  }
  return options;
}

/** Reads a metadata entry as printable ASCII, or returns undefined when the model has none. */
function metadataText(model: ModelDef, name: string): string | undefined {
  const bytes = model.metadata.get(name);
  if (bytes === undefined) return undefined;
  if (bytes.length > 64) {
    throw new InvalidModelError(`metadata "${name}" is ${bytes.length} bytes long, expected a short ASCII name`);
  }
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0 && i === bytes.length - 1) break; // a trailing NUL, as C writers leave it
    if (byte < 0x20 || byte > 0x7e) {
      throw new InvalidModelError(
        `metadata "${name}" contains byte ${byte} at offset ${i}; it must be an ASCII name, so the file is corrupted`,
      );
    }
    text += String.fromCharCode(byte);
  }
  return text;
}

function chooseScheme(model: ModelDef, override: SchemeName | undefined): RequantizationScheme {
  if (override !== undefined) return schemeByName(override);
  const stored = metadataText(model, REQUANTIZATION_METADATA);
  if (stored === undefined) return schemeByName("tflm");
  if (!(SCHEME_NAMES as readonly string[]).includes(stored)) {
    throw new UnsupportedError(
      `metadata "${REQUANTIZATION_METADATA}" names the scheme "${stored}", which this microq does not know ` +
        `(known: ${SCHEME_NAMES.join(", ")}); pass the requantization option to choose one`,
    );
  }
  return schemeByName(stored);
}

function chooseMemoryFormat(model: ModelDef, override: MemoryFormat | undefined): MemoryFormat {
  if (override !== undefined) return override;
  const stored = metadataText(model, MEMORY_FORMAT_METADATA);
  if (stored === undefined) return "contiguous";
  if (!(MEMORY_FORMATS as readonly string[]).includes(stored)) {
    throw new InvalidModelError(
      `metadata "${MEMORY_FORMAT_METADATA}" is "${stored}", expected ${MEMORY_FORMATS.join(" or ")}; ` +
        `pass the memoryFormat option to override it`,
    );
  }
  return stored as MemoryFormat;
}

/**
 * Builds one message for all unsupported operators: operators without a
 * kernel are counted by name, and the first few other problems are given
 * in full.
 */
function summarizeProblems(problems: readonly string[], missingKernels: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  if (missingKernels.size > 0) {
    const names: string[] = [];
    missingKernels.forEach((count, name) => names.push(count === 1 ? name : `${name} x${count}`));
    parts.push(`not implemented: ${names.join(", ")}`);
  }
  const detailed = problems.filter((problem) => !problem.endsWith("(not implemented)"));
  for (const problem of detailed.slice(0, DETAILED_PROBLEMS)) parts.push(problem);
  if (detailed.length > DETAILED_PROBLEMS) parts.push(`and ${detailed.length - DETAILED_PROBLEMS} more`);
  const count = problems.length;
  return (
    `model uses ${count} unsupported operator${count === 1 ? "" : "s"}: ${parts.join("; ")}. ` +
    `Use only operators and types microq supports (microq inspect lists each one)`
  );
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

