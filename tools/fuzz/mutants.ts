// Seeded mutants of real .tflite models. Mutant `index` of a campaign with
// `seed` is a pure function of (seed, index, model bytes), so any failure can
// be rebuilt from those numbers alone.
//
// Plain mutators (bit flips, byte and word overwrites, truncation) hit any
// byte. Structural mutators corrupt the offsets of vtable entries, vector
// length words, tensor shapes, tensor index vectors, quantization vectors and
// operator option fields, found by walking the flatbuffer with the runtime's
// own FlatBufferReader. They exist because a random byte of a 300 KB model is
// almost always weight data, which a kernel reads but never validates.

import { FlatBufferReader, type TableRef, type VectorRef } from "../../runtime/flatbuffer.js";
import { parseModel } from "../../runtime/model.js";

/** A byte range of the model that a structural mutator targets. */
interface Target {
  readonly offset: number;
  readonly bytes: 1 | 2 | 4;
}

/** Offsets of the model's flatbuffer structure, grouped by what they encode. */
export interface StructureMap {
  /** Table vtable-offset words and vtable uint16 entries. */
  readonly vtables: Target[];
  /** Length words of every vector the walk visits. */
  readonly vectorLengths: Target[];
  /** Elements of tensor shape vectors. */
  readonly shapes: Target[];
  /** Elements of operator and subgraph tensor index vectors. */
  readonly tensorIndexVectors: VectorRef[];
  /** Elements of quantization scale, zero point vectors and the quantized_dimension field. */
  readonly quantization: Target[];
  /** Fields of operator option tables, opcode indices, tensor types and buffer indices. */
  readonly fields: Target[];
}

/** A fixture model with its structure map. */
export interface FuzzModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly structure: StructureMap;
}

export interface Mutant {
  readonly model: string;
  /** Mutator names applied, for example "bit-flip" or "shape-extreme". */
  readonly kind: string;
  readonly bytes: Uint8Array;
}

/** 32-bit values that often sit on a boundary of a check: zero, one, minus one, extremes and small sizes. */
const INTERESTING_WORDS = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x40000000];

/** Tensor dimensions that stress element counts, loop bounds and products. */
const EXTREME_DIMENSIONS = [0, -1, 1, 65535, 65536, 1 << 20, 1 << 24, 0x7fffffff, -0x80000000, 46341];

/** float32 bit patterns: 0, -1, NaN, +Infinity, 1e-30, 1e30, the smallest subnormal. */
const INTERESTING_FLOAT_BITS = [0x00000000, 0xbf800000, 0x7fc00000, 0x7f800000, 0x0da24260, 0x7149f2ca, 0x00000001];

/** xorshift32: a small, fast generator whose stream depends only on the seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

/** Lists the structural offsets of a model by walking it with the runtime's reader. */
export function mapStructure(bytes: Uint8Array): StructureMap {
  const model = parseModel(bytes);
  const reader = new FlatBufferReader(bytes);
  const map: StructureMap = { vtables: [], vectorLengths: [], shapes: [], tensorIndexVectors: [], quantization: [], fields: [] };

  const addTable = (table: TableRef): void => {
    map.vtables.push({ offset: table.position, bytes: 4 });
    for (let slot = 0; slot < table.fieldCount + 2; slot++) {
      map.vtables.push({ offset: table.vtablePosition + 2 * slot, bytes: 2 });
    }
  };
  const addVector = (vector: VectorRef | null, elementBytes: 1 | 2 | 4, into: Target[] | null): void => {
    if (vector === null) return;
    map.vectorLengths.push({ offset: vector.start - 4, bytes: 4 });
    if (into === null) return;
    for (let i = 0; i < vector.length; i++) into.push({ offset: vector.start + elementBytes * i, bytes: elementBytes });
  };
  const addField = (table: TableRef, id: number, fieldBytes: 1 | 2 | 4, into: Target[]): void => {
    const position = reader.fieldPosition(table, id);
    if (position !== 0) into.push({ offset: position, bytes: fieldBytes });
  };

  const root = reader.root("Model");
  addTable(root);
  const subgraphs = reader.fieldVector(root, 2, "subgraphs", 4);
  addVector(subgraphs, 4, null);
  addVector(reader.fieldVector(root, 4, "buffers", 4), 4, null);
  const operatorCodes = reader.fieldVector(root, 1, "operator_codes", 4);
  addVector(operatorCodes, 4, null);
  for (let i = 0; operatorCodes !== null && i < operatorCodes.length; i++) {
    const code = reader.vectorTable(operatorCodes, i, `OperatorCode ${i}`);
    addTable(code);
    addField(code, 0, 1, map.fields);
    addField(code, 2, 4, map.fields);
    addField(code, 3, 4, map.fields);
  }

  const subgraph = reader.vectorTable(subgraphs as VectorRef, 0, "SubGraph 0");
  addTable(subgraph);
  const tensors = reader.fieldVector(subgraph, 0, "tensors", 4);
  addVector(tensors, 4, null);
  for (const name of ["inputs", "outputs"]) {
    const vector = reader.fieldVector(subgraph, name === "inputs" ? 1 : 2, name, 4);
    addVector(vector, 4, null);
    if (vector !== null) map.tensorIndexVectors.push(vector);
  }

  for (let i = 0; tensors !== null && i < tensors.length; i++) {
    const tensor = reader.vectorTable(tensors, i, `Tensor ${i}`);
    addTable(tensor);
    addVector(reader.fieldVector(tensor, 0, "shape", 4), 4, map.shapes);
    addField(tensor, 1, 1, map.fields);
    addField(tensor, 2, 4, map.fields);
    const quantization = reader.fieldTable(tensor, 4, "quantization", `Tensor ${i} quantization`);
    if (quantization === null) continue;
    addTable(quantization);
    addVector(reader.fieldVector(quantization, 2, "scale", 4), 4, map.quantization);
    // zero_point is int64: target the low word of each element.
    const zeroPoints = reader.fieldVector(quantization, 3, "zero_point", 8);
    if (zeroPoints !== null) {
      map.vectorLengths.push({ offset: zeroPoints.start - 4, bytes: 4 });
      for (let z = 0; z < zeroPoints.length; z++) map.quantization.push({ offset: zeroPoints.start + 8 * z, bytes: 4 });
    }
    addField(quantization, 6, 4, map.quantization);
  }

  for (const operator of model.operators) {
    const table = reader.vectorTable(reader.fieldVector(subgraph, 3, "operators", 4) as VectorRef, operator.index, `Operator ${operator.index}`);
    addTable(table);
    addField(table, 0, 4, map.fields);
    addField(table, 3, 1, map.fields);
    for (const id of [1, 2]) {
      const vector = reader.fieldVector(table, id, id === 1 ? "inputs" : "outputs", 4);
      addVector(vector, 4, null);
      if (vector !== null) map.tensorIndexVectors.push(vector);
    }
    if (operator.options !== null) {
      addTable(operator.options);
      // Option fields are 1 byte (enums, bools) or 4 bytes (ints, floats);
      // the vtable does not say which, so both widths are tried.
      for (let id = 0; id < operator.options.fieldCount; id++) {
        addField(operator.options, id, 1, map.fields);
        addField(operator.options, id, 4, map.fields);
      }
    }
  }
  return map;
}

export function loadFuzzModel(name: string, bytes: Uint8Array): FuzzModel {
  return { name, bytes, structure: mapStructure(bytes) };
}

/** A random element, or undefined when items is empty. */
function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

/** Reads a target as unsigned, or 0 when an earlier truncation cut it off. */
function readTarget(view: DataView, target: Target | undefined): number {
  // A target is undefined when the model has no field of that kind, for
  // example no quantization in a float-only model.
  if (target === undefined || target.offset + target.bytes > view.byteLength) return 0;
  if (target.bytes === 1) return view.getUint8(target.offset);
  if (target.bytes === 2) return view.getUint16(target.offset, true);
  return view.getUint32(target.offset, true);
}

function writeTarget(view: DataView, target: Target | undefined, value: number): void {
  if (target === undefined || target.offset + target.bytes > view.byteLength) return;
  if (target.bytes === 1) view.setUint8(target.offset, value & 0xff);
  else if (target.bytes === 2) view.setUint16(target.offset, value & 0xffff, true);
  else view.setUint32(target.offset, value >>> 0, true);
}

type Mutator = (bytes: Uint8Array, view: DataView, model: FuzzModel, random: () => number) => Uint8Array;

const MUTATORS: Record<string, Mutator> = {
  "bit-flip": (bytes, _view, _model, random) => {
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
    return bytes;
  },
  "byte-overwrite": (bytes, _view, _model, random) => {
    const writes = 1 + Math.floor(random() * 8);
    for (let i = 0; i < writes; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    return bytes;
  },
  truncate: (bytes, _view, _model, random) => bytes.slice(0, Math.floor(random() * bytes.length)),
  "word-interesting": (bytes, view, _model, random) => {
    if (bytes.length < 4) return bytes;
    const offset = Math.floor(random() * (bytes.length - 4)) & ~3;
    view.setUint32(offset, pick(INTERESTING_WORDS, random), true);
    return bytes;
  },
  vtable: (bytes, view, model, random) => {
    const target = pick(model.structure.vtables, random);
    writeTarget(view, target, random() < 0.5 ? pick(INTERESTING_WORDS, random) : readTarget(view, target) + 2 * Math.floor(random() * 9 - 4));
    return bytes;
  },
  "vector-length": (bytes, view, model, random) => {
    const target = pick(model.structure.vectorLengths, random);
    const length = readTarget(view, target);
    writeTarget(view, target, random() < 0.5 ? pick(INTERESTING_WORDS, random) : length + Math.floor(random() * 9) - 4);
    return bytes;
  },
  "shape-extreme": (bytes, view, model, random) => {
    const edits = 1 + Math.floor(random() * 2);
    for (let i = 0; i < edits; i++) writeTarget(view, pick(model.structure.shapes, random), pick(EXTREME_DIMENSIONS, random));
    return bytes;
  },
  "shape-small": (bytes, view, model, random) => {
    const target = pick(model.structure.shapes, random);
    writeTarget(view, target, Math.max(0, (readTarget(view, target) | 0) + Math.floor(random() * 5) - 2));
    return bytes;
  },
  "tensor-index": (bytes, view, model, random) => {
    const vector = pick(model.structure.tensorIndexVectors, random);
    if (vector.length === 0) return bytes;
    const at = vector.start + 4 * Math.floor(random() * vector.length);
    if (vector.start + 4 * vector.length > bytes.length) return bytes;
    const choice = random();
    if (choice < 0.4 && vector.length > 1) {
      // Swap two entries of the same vector.
      const other = vector.start + 4 * Math.floor(random() * vector.length);
      const saved = view.getInt32(at, true);
      view.setInt32(at, view.getInt32(other, true), true);
      view.setInt32(other, saved, true);
    } else if (choice < 0.8) {
      // Point at another tensor of the model, the valid range plus one past it.
      const tensorCount = parseTensorCount(model);
      view.setInt32(at, Math.floor(random() * (tensorCount + 1)), true);
    } else {
      view.setInt32(at, pick([-1, -2, 0x7fffffff, 0x80000000 | 0, 8192], random), true);
    }
    return bytes;
  },
  quantization: (bytes, view, model, random) => {
    const target = pick(model.structure.quantization, random);
    writeTarget(view, target, random() < 0.5 ? pick(INTERESTING_FLOAT_BITS, random) : pick(INTERESTING_WORDS, random));
    return bytes;
  },
  field: (bytes, view, model, random) => {
    const target = pick(model.structure.fields, random);
    writeTarget(view, target, random() < 0.5 ? Math.floor(random() * 256) : pick(INTERESTING_WORDS, random));
    return bytes;
  },
};

export const MUTATOR_NAMES = Object.keys(MUTATORS);

const tensorCounts = new WeakMap<FuzzModel, number>();

function parseTensorCount(model: FuzzModel): number {
  let count = tensorCounts.get(model);
  if (count === undefined) {
    count = parseModel(model.bytes).tensors.length;
    tensorCounts.set(model, count);
  }
  return count;
}

/** Builds mutant `index` of the campaign `seed`: one model, one to three mutators. */
export function createMutant(models: readonly FuzzModel[], seed: number, index: number): Mutant {
  // Mix seed and index so neighboring indices start unrelated streams.
  const random = createRandom(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  random();
  const model = pick(models, random);
  let bytes: Uint8Array = model.bytes.slice();
  const kinds: string[] = [];
  const mutatorCount = random() < 0.7 ? 1 : 2 + Math.floor(random() * 2);
  for (let i = 0; i < mutatorCount; i++) {
    const kind = pick(MUTATOR_NAMES, random);
    kinds.push(kind);
    bytes = MUTATORS[kind](bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), model, random);
  }
  return { model: model.name, kind: kinds.join("+"), bytes };
}
