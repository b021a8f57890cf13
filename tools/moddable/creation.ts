// The `creation` block of a Moddable manifest that a model needs (microq inspect --moddable).
//
// XS on a device takes its memory from two heaps and a stack, sized by the manifest's
// `creation` (Moddable's documentation/tools/manifest.md). With "static": 0 each is
// allocated once, and with incremental 0 it never grows:
// - chunk.initial, in bytes: variable-sized data (ArrayBuffers, strings, array storage);
// - heap.initial, in slots (16 bytes each on a 32-bit device): objects, closures, properties;
// - stack, in slots.
//
// What microq needs, and how each figure was obtained (tools/moddable/heap_cost.ts and
// stack_probe.ts measure them again on microq-xs-host):
// - chunk: the model's arena (arenaBytes) and persistent parameters (persistentBytes), plus
//   the parsed model that the interpreter keeps. That is 16 bytes per element of each
//   tensor's shape array and of each operator's input and output lists, 4 bytes per
//   element of each tensor's scale (Float32Array) and zero point (Int32Array) plus
//   TYPED_ARRAY_CHUNK_BYTES for each non-empty one, and each tensor name as a string.
//   RUNTIME_CHUNK_BYTES is added for the bundle's own tables
//   and APP_CHUNK_BYTES for the app. The weights are not counted: they stay in the model
//   buffer, which a Resource keeps in flash. The chunk figures measured on the host cannot
//   be used as they are: the host's XS copies every function's bytecode into the chunk
//   heap when the function is created (xsRun.c, XS_CODE_CODE), which a device build,
//   whose code is linked into flash, does not do. Loading the bundle on the host keeps
//   8,660 slots and 324,544 chunk bytes alive (5,740 and 217,336 before the recurrent,
//   elementwise and 16x8 kernels). For an earlier bundle that kept 217,024
//   chunk bytes, a copy wrapped in one function, which copies the whole bytecode once and
//   runs nothing, kept 202,936, so nearly all of the chunk figure is bytecode.
// - heap: BUNDLE_SLOTS measured after loading the bundle on microq-xs-host (live slots
//   after a full collection), plus SLOTS_BASE + SLOTS_PER_TENSOR per tensor +
//   SLOTS_PER_OPERATOR per operator for the interpreter, a bound fitted to the slots that
//   `new Interpreter` and the first invoke keep alive on the host (hello_world_int8 859,
//   micro_speech_quantized 897, person_detect 6,468; the bound gives 1,130, 1,240 and
//   7,370), plus APP_SLOTS. A quantized tensor's scale and zero point typed arrays take
//   about 10 of its slots. Slot counts are the same on a 32-bit device.
// - stack: the deepest need measured by stack_probe.ts, creating person_detect's
//   interpreter (900 slots below the caller; one invoke 550 to 660), plus 636 slots for
//   the frames above it (the app's, the timer's, Moddable's startup).
import type { InspectReport } from "../commands/inspect.js";

export const BUNDLE_SLOTS = 8660;
export const SLOTS_BASE = 400;
export const SLOTS_PER_TENSOR = 40;
export const SLOTS_PER_OPERATOR = 110;
export const APP_SLOTS = 1024;
/** Bytes of one array element on a 32-bit device: an XS slot. */
export const DEVICE_SLOT_BYTES = 16;
/** Bytes of one float32 scale or int32 zero point in a typed array. */
export const TYPED_ELEMENT_BYTES = 4;
/**
 * Chunk bytes that each non-empty typed array's buffer adds to its elements, a bound for
 * the chunk header (XS's txChunk: a size and a pointer, 8 bytes on a 32-bit device and 16
 * on the 64-bit host) and alignment padding (the host rounds the data up to 8 bytes).
 */
export const TYPED_ARRAY_CHUNK_BYTES = 16;
/** The bundle's module-level tables (operator names, kernel maps) and small per-layer arrays. */
export const RUNTIME_CHUNK_BYTES = 16 * 1024;
export const APP_CHUNK_BYTES = 8 * 1024;
/** Deepest stack use measured: creating person_detect's interpreter needs 900 slots. */
export const MEASURED_STACK_SLOTS = 900;
export const STACK_SLOTS = 1536;

export interface ModdableCreation {
  static: number;
  chunk: { initial: number; incremental: number };
  heap: { initial: number; incremental: number };
  stack: number;
}

export interface CreationEstimate {
  creation: ModdableCreation;
  /** The terms of the chunk figure, in bytes. */
  chunkTerms: { arena: number; persistent: number; model: number; runtime: number; app: number };
  /** The terms of the heap figure, in slots. */
  slotTerms: { bundle: number; interpreter: number; app: number };
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

/** Chunk bytes of a typed array of 4-byte elements. Empty ones cost nothing because the parser shares one. */
function typedArrayBytes(length: number): number {
  return length === 0 ? 0 : length * TYPED_ELEMENT_BYTES + TYPED_ARRAY_CHUNK_BYTES;
}

/** Computes the creation block for a model that microq can prepare. */
export function moddableCreation(report: InspectReport): CreationEstimate {
  if (report.arenaBytes === null || report.persistentBytes === null) {
    throw new Error("the model cannot be prepared, so it has no creation block: remove its unsupported operators first");
  }
  let elements = 0;
  let typedBytes = 0;
  let nameBytes = 0;
  for (const tensor of report.tensors) {
    elements += tensor.shape.length;
    typedBytes += typedArrayBytes(tensor.scale.length) + typedArrayBytes(tensor.zeroPoint.length);
    nameBytes += tensor.name.length + DEVICE_SLOT_BYTES;
  }
  for (const op of report.operators) elements += op.inputs.length + op.outputs.length;
  const chunkTerms = {
    arena: report.arenaBytes,
    persistent: report.persistentBytes,
    model: elements * DEVICE_SLOT_BYTES + typedBytes + nameBytes,
    runtime: RUNTIME_CHUNK_BYTES,
    app: APP_CHUNK_BYTES,
  };
  const slotTerms = {
    bundle: BUNDLE_SLOTS,
    interpreter: SLOTS_BASE + SLOTS_PER_TENSOR * report.tensors.length + SLOTS_PER_OPERATOR * report.operators.length,
    app: APP_SLOTS,
  };
  const chunk = Object.values(chunkTerms).reduce((sum, value) => sum + value, 0);
  const slots = Object.values(slotTerms).reduce((sum, value) => sum + value, 0);
  return {
    creation: {
      static: 0,
      chunk: { initial: roundUp(chunk, 1024), incremental: 0 },
      heap: { initial: roundUp(slots, 64), incremental: 0 },
      stack: STACK_SLOTS,
    },
    chunkTerms,
    slotTerms,
  };
}

/** Formats the output of `microq inspect --moddable`: comment lines on each term, then the creation block as JSON. */
export function formatModdableCreation(estimate: CreationEstimate): string {
  const c = estimate.chunkTerms;
  const s = estimate.slotTerms;
  const heapBytes = estimate.creation.heap.initial * DEVICE_SLOT_BYTES;
  const stackBytes = estimate.creation.stack * DEVICE_SLOT_BYTES;
  const total = estimate.creation.chunk.initial + heapBytes + stackBytes;
  return [
    `// chunk ${estimate.creation.chunk.initial} bytes = arena ${c.arena} + persistent ${c.persistent} + parsed model ${c.model} + runtime ${c.runtime} + app ${c.app}, rounded up to 1 KB.`,
    `// heap ${estimate.creation.heap.initial} slots (${heapBytes} bytes) = bundle ${s.bundle} + interpreter ${s.interpreter} + app ${s.app}; stack ${estimate.creation.stack} slots (${stackBytes} bytes) for the ${MEASURED_STACK_SLOTS} that loading a model needs.`,
    `// about ${Math.round(total / 1024)} KB of RAM for XS in all; the weights stay in flash. Add your app's own needs to the app terms.`,
    JSON.stringify({ creation: estimate.creation }, null, "\t"),
  ].join("\n");
}
