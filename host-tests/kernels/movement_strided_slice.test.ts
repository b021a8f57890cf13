// STRIDED_SLICE against a reference written here from NumPy's indexing
// rules, which tf.strided_slice follows. Each slice spec becomes a NumPy
// index: a slice, an integer for a shrunk axis, np.newaxis or Ellipsis. A
// slice enumerates its indices as Python's slice.indices() does, and the
// output is the Cartesian product of the per-axis index lists. The kernel
// computes counts and steps from TFLM's clamping formulas instead, so the two
// meet only where both are right. Where TFLM departs from NumPy (begin_mask
// on a shrunk axis), the expected values come from reading TFLM's
// strided_slice_logic.h (tflite-micro 90b983c2).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { stridedSliceKernel } from "../../kernels/movement/strided_slice.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { OperatorSetup, bytesOf, handOperator, prepareLayer, runLayer, tensorDef } from "./layer_harness.js";

const STRIDED_SLICE = 45;
const STRIDED_SLICE_OPTIONS = 32;

interface SliceCase {
  name: string;
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  beginMask?: number;
  endMask?: number;
  ellipsisMask?: number;
  newAxisMask?: number;
  shrinkAxisMask?: number;
  offset?: boolean;
}

// ---------------------------------------------------------------------------
// Reference: NumPy basic indexing.

/** One NumPy index: a slice with optional bounds, an integer, np.newaxis or Ellipsis. */
type NumpyIndex =
  | { kind: "slice"; start: number | null; stop: number | null; step: number }
  | { kind: "integer"; index: number }
  | { kind: "newaxis" }
  | { kind: "ellipsis" };

/** Translates the slice specs into the NumPy index tuple they encode. */
function numpyIndices(c: SliceCase): NumpyIndex[] {
  const bit = (mask: number | undefined, i: number): boolean => (((mask ?? 0) >> i) & 1) === 1;
  return c.begin.map((begin, i): NumpyIndex => {
    if (bit(c.ellipsisMask, i)) return { kind: "ellipsis" };
    if (bit(c.newAxisMask, i)) return { kind: "newaxis" };
    if (bit(c.shrinkAxisMask, i)) return { kind: "integer", index: begin };
    const start = bit(c.beginMask, i) ? null : begin;
    let stop: number | null = bit(c.endMask, i) ? null : c.end[i];
    if (c.offset === true && stop !== null) stop += begin;
    return { kind: "slice", start, stop, step: c.strides[i] };
  });
}

/** Python's slice(start, stop, step).indices(length), enumerated. */
function sliceIndices(start: number | null, stop: number | null, step: number, length: number): number[] {
  const bound = (value: number | null, whenNull: number): number => {
    if (value === null) return whenNull;
    if (value < 0) return Math.max(value + length, step < 0 ? -1 : 0);
    return Math.min(value, step < 0 ? length - 1 : length);
  };
  const first = bound(start, step < 0 ? length - 1 : 0);
  const last = bound(stop, step < 0 ? -1 : length);
  const indices: number[] = [];
  for (let i = first; step > 0 ? i < last : i > last; i += step) indices.push(i);
  return indices;
}

/** x[indices] for a row-major tensor x: the output shape and the flat input positions in output order. */
function numpySlice(shape: readonly number[], indices: readonly NumpyIndex[]): { shape: number[]; positions: number[] } {
  // Expand the Ellipsis (or an implicit one at the end) into whole slices.
  const consuming = indices.filter((index) => index.kind === "slice" || index.kind === "integer").length;
  const whole: NumpyIndex = { kind: "slice", start: null, stop: null, step: 1 };
  const expanded: NumpyIndex[] = [];
  let sawEllipsis = false;
  for (const index of indices) {
    if (index.kind === "ellipsis") {
      sawEllipsis = true;
      for (let k = 0; k < shape.length - consuming; k++) expanded.push(whole);
    } else {
      expanded.push(index);
    }
  }
  if (!sawEllipsis) for (let k = 0; k < shape.length - consuming; k++) expanded.push(whole);

  // Per input axis, the list of indices taken; per output axis, its size.
  const axisIndices: number[][] = [];
  const outputShape: number[] = [];
  for (const index of expanded) {
    if (index.kind === "newaxis") {
      outputShape.push(1);
      continue;
    }
    const length = shape[axisIndices.length];
    if (index.kind === "integer") {
      const wrapped = index.index < 0 ? index.index + length : index.index;
      if (wrapped < 0 || wrapped >= length) throw new Error(`reference: index ${index.index} out of range`);
      axisIndices.push([wrapped]);
    } else if (index.kind === "slice") {
      const list = sliceIndices(index.start, index.stop, index.step, length);
      axisIndices.push(list);
      outputShape.push(list.length);
    }
  }

  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, n) => p * n, 1));
  let positions = [0];
  axisIndices.forEach((list, d) => {
    positions = positions.flatMap((base) => list.map((i) => base + i * strides[d]));
  });
  return { shape: outputShape, positions };
}

// ---------------------------------------------------------------------------
// Operators built by hand: constant begin, end and strides, options as a table.

/** Describes a constant int32 vector tensor stored at byte `dataOffset` of the constant bytes. */
function constantVector(index: number, values: readonly number[], dataOffset: number): TensorDef {
  return { ...tensorDef(index, TensorType.INT32, [values.length]), dataOffset };
}

function sliceSetup(c: SliceCase, type: number, outputShape: readonly number[], constantSpec = true): OperatorSetup {
  const n = c.begin.length;
  const constantBytes = bytesOf(Int32Array.from([...c.begin, ...c.end, ...c.strides]));
  const scale = type === TensorType.FLOAT32 || type === TensorType.INT32 ? [] : [0.25];
  const input = tensorDef(0, type, c.shape, scale, scale.length > 0 ? [0] : []);
  const begin = constantSpec ? constantVector(1, c.begin, 0) : tensorDef(1, TensorType.INT32, [n]);
  const end = constantVector(2, c.end, 4 * n);
  const strides = constantVector(3, c.strides, 8 * n);
  const output = tensorDef(4, type, outputShape, scale, scale.length > 0 ? [0] : []);
  const fields: Array<["int32", number]> = [
    ["int32", c.beginMask ?? 0],
    ["int32", c.endMask ?? 0],
    ["int32", c.ellipsisMask ?? 0],
    ["int32", c.newAxisMask ?? 0],
    ["int32", c.shrinkAxisMask ?? 0],
    ["int32", c.offset === true ? 1 : 0],
  ];
  const setup = handOperator("STRIDED_SLICE", STRIDED_SLICE, [input, begin, end, strides, output], {
    optionsType: STRIDED_SLICE_OPTIONS,
    fields,
  });
  return { ...setup, constantBytes };
}

/** Distinct input values 1, 2, 3, ... (negated at odd positions) so that every misplaced element shows. */
function inputValues(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? i + 1 : -(i + 1)));
}

function typedValues(type: number, values: readonly number[]): ArrayBufferView {
  switch (type) {
    case TensorType.INT8:
      return Int8Array.from(values);
    case TensorType.UINT8:
      return Uint8Array.from(values, (v) => v & 0xff);
    case TensorType.INT16:
      return Int16Array.from(values, (v) => v * 97);
    case TensorType.INT32:
      return Int32Array.from(values, (v) => v * 65537);
    default:
      return Float32Array.from(values, (v) => v / 8);
  }
}

/** Runs the kernel and returns the output bytes with the reference's expected bytes. */
function runSlice(c: SliceCase, type: number): { actual: number[]; expected: number[]; shape: number[] } {
  const reference = numpySlice(c.shape, numpyIndices(c));
  const count = c.shape.reduce((p, n) => p * n, 1);
  const input = typedValues(type, inputValues(count));
  const setup = sliceSetup(c, type, reference.shape);
  const actualBytes = runLayer(stridedSliceKernel, setup, new Map([[0, bytesOf(input)]])).get(4)!;

  // Compare element bit patterns, so that float32 values compare exactly too.
  const elementBytes = input.byteLength / count;
  const inputBytes = bytesOf(input);
  const expected: number[] = [];
  for (const position of reference.positions) {
    for (let b = 0; b < elementBytes; b++) expected.push(inputBytes[position * elementBytes + b]);
  }
  return { actual: Array.from(actualBytes), expected, shape: reference.shape };
}

// ---------------------------------------------------------------------------
// Cases.

const CASES: SliceCase[] = [
  // seanet's crop of the last 6 of 8 rows: begin_mask 13, end_mask 15.
  { name: "seanet row crop", shape: [1, 8, 6, 2], begin: [0, -6, 0, 0], end: [0, 0, 0, 2], strides: [1, 1, 1, 1], beginMask: 13, endMask: 15 },
  { name: "negative indices, both bounds", shape: [1, 1, 12, 3], begin: [0, 0, 1, 0], end: [0, 0, -1, 0], strides: [1, 1, 1, 1], beginMask: 9, endMask: 11 },
  { name: "reverse to before the first", shape: [5], begin: [-1], end: [0], strides: [-1] },
  { name: "reverse with end_mask", shape: [5], begin: [4], end: [0], strides: [-1], endMask: 1 },
  { name: "reverse with both masks", shape: [3, 5], begin: [0, 0], end: [0, 0], strides: [1, -2], beginMask: 2, endMask: 2 },
  { name: "bounds clamped, positive strides", shape: [7, 5], begin: [-10, 1], end: [100, 5], strides: [3, 2] },
  { name: "bounds clamped, negative strides", shape: [6, 4], begin: [10, -1], end: [-10, 0], strides: [-2, -3] },
  { name: "empty range", shape: [4, 3], begin: [3, 0], end: [1, 3], strides: [1, 1] },
  { name: "empty reverse range", shape: [4], begin: [1], end: [3], strides: [-1] },
  { name: "stride past the end", shape: [3, 4], begin: [0, 1], end: [3, 4], strides: [5, 7] },
  { name: "shrink a middle axis", shape: [3, 4, 5], begin: [0, -2, 1], end: [3, 0, 4], strides: [1, 1, 1], shrinkAxisMask: 2 },
  { name: "shrink to a scalar", shape: [3, 4], begin: [2, -1], end: [0, 0], strides: [1, 1], shrinkAxisMask: 3 },
  { name: "shrink ignores end and end_mask", shape: [4, 2], begin: [1, -1], end: [3, 0], strides: [1, 1], shrinkAxisMask: 2, endMask: 2 },
  { name: "spec shorter than the input", shape: [2, 3, 4], begin: [1], end: [2], strides: [1] },
  { name: "ellipsis first", shape: [2, 3, 4, 5], begin: [0, 1], end: [0, 3], strides: [1, 1], ellipsisMask: 1 },
  { name: "ellipsis last", shape: [2, 3, 4, 5], begin: [1, 0], end: [0, 0], strides: [-1, 1], ellipsisMask: 2, endMask: 1 },
  { name: "ellipsis covering nothing", shape: [3, 4], begin: [1, 0, 0], end: [3, 0, -1], strides: [1, 1, 1], ellipsisMask: 2 },
  {
    name: "shrink, new axis, ellipsis, reverse",
    shape: [2, 3, 4, 5],
    begin: [1, 0, 0, 0],
    end: [2, 0, 0, 0],
    strides: [1, 1, 1, -2],
    shrinkAxisMask: 1,
    newAxisMask: 2,
    ellipsisMask: 4,
    beginMask: 8,
    endMask: 8,
  },
  { name: "new axes without ellipsis", shape: [3, 4], begin: [0, 1, 0], end: [0, 3, 0], strides: [1, 1, 1], newAxisMask: 5 },
  { name: "new axis after ellipsis", shape: [2, 3], begin: [0, 0, 1], end: [0, 0, 3], strides: [1, 1, 1], ellipsisMask: 1, newAxisMask: 2 },
  { name: "offset end", shape: [6, 5], begin: [1, 2], end: [3, 2], strides: [1, 1], offset: true },
  { name: "offset end with stride 2", shape: [9], begin: [2], end: [5], strides: [2], offset: true },
  { name: "five dimensions, mixed strides", shape: [2, 3, 2, 4, 3], begin: [-1, 0, 1, 3, 0], end: [-3, 3, 2, 0, 3], strides: [-1, 2, 1, -2, 1] },
  { name: "six dimensions", shape: [2, 1, 3, 2, 2, 5], begin: [0, 0, 2, 1, 0, 4], end: [2, 1, 0, 0, 2, 0], strides: [1, 1, -1, -1, 1, -2] },
];

const TYPES: ReadonlyArray<[string, number]> = [
  ["int8", TensorType.INT8],
  ["int16", TensorType.INT16],
  ["int32", TensorType.INT32],
  ["uint8", TensorType.UINT8],
  ["float32", TensorType.FLOAT32],
];

for (const c of CASES) {
  test(`STRIDED_SLICE ${c.name}`, () => {
    for (const [typeName, type] of TYPES) {
      const { actual, expected } = runSlice(c, type);
      assert.equal(actual, expected, `${typeName} output`);
    }
  });
}

test("STRIDED_SLICE reference checks itself", () => {
  // Hand-checked NumPy results: x = arange(20).reshape(4, 5).
  assert.equal(numpySlice([4, 5], [{ kind: "slice", start: null, stop: null, step: -2 }, { kind: "integer", index: -1 }]), {
    shape: [2],
    positions: [19, 9],
  });
  assert.equal(numpySlice([4, 5], [{ kind: "newaxis" }, { kind: "slice", start: 1, stop: 100, step: 2 }, { kind: "ellipsis" }]).shape, [1, 2, 5]);
  assert.equal(sliceIndices(-100, 100, 3, 7), [0, 3, 6]);
  assert.equal(sliceIndices(100, -100, -3, 7), [6, 3, 0]);
  assert.equal(sliceIndices(null, null, -1, 3), [2, 1, 0]);
});

test("STRIDED_SLICE shrunk axis with begin_mask starts at 0", () => {
  // TFLM's StridedSliceStartForAxis applies begin_mask before the shrink, so
  // x[begin_mask][shrink] of [10, 20, 30, 40] at begin 2 is element 0, where
  // NumPy's x[2] would give 30.
  const c: SliceCase = { name: "", shape: [4], begin: [2], end: [3], strides: [1], beginMask: 1, shrinkAxisMask: 1 };
  const input = Int16Array.from([10, 20, 30, 40]);
  const output = runLayer(stridedSliceKernel, sliceSetup(c, TensorType.INT16, []), new Map([[0, bytesOf(input)]])).get(4)!;
  assert.equal(Array.from(new Int16Array(output.buffer)), [10]);
});

test("STRIDED_SLICE shrunk index below the start clamps to 0", () => {
  // TFLM clamps the start before the shrink, so index -5 of a 2-element axis
  // takes element 0 (tensorflow's tf.strided_slice would reject it).
  const c: SliceCase = { name: "", shape: [2, 2], begin: [0, -5], end: [2, 0], strides: [1, 1], shrinkAxisMask: 2 };
  const input = Int16Array.from([1, 2, 3, 4]);
  const output = runLayer(stridedSliceKernel, sliceSetup(c, TensorType.INT16, [2]), new Map([[0, bytesOf(input)]])).get(4)!;
  assert.equal(Array.from(new Int16Array(output.buffer)), [1, 3]);
});

test("STRIDED_SLICE copies float32 bits", () => {
  const bits = Uint32Array.from([0x7fc00001, 0xff800000, 0x80000000, 0x00000001]);
  const c: SliceCase = { name: "", shape: [4], begin: [0], end: [4], strides: [-1], beginMask: 1, endMask: 1 };
  const output = runLayer(stridedSliceKernel, sliceSetup(c, TensorType.FLOAT32, [4]), new Map([[0, bytesOf(bits)]])).get(4)!;
  assert.equal(Array.from(new Uint32Array(output.buffer)), [0x00000001, 0x80000000, 0xff800000, 0x7fc00001]);
});

// ---------------------------------------------------------------------------
// Prepare-time errors.

function prepareError(setup: OperatorSetup): unknown {
  try {
    prepareLayer(stridedSliceKernel, setup);
  } catch (error) {
    return error;
  }
  return undefined;
}

const BASE: SliceCase = { name: "", shape: [4, 6], begin: [1, 0], end: [3, 6], strides: [1, 2] };

test("STRIDED_SLICE rejects a run-time begin", () => {
  const error = prepareError(sliceSetup(BASE, TensorType.INT8, [2, 3], false));
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "begin tensor 1 \"t1\" is computed at run time");
});

test("STRIDED_SLICE rejects a wrong output shape", () => {
  const error = prepareError(sliceSetup(BASE, TensorType.INT8, [2, 2]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "has shape [2,2], expected [2,3]");
});

test("STRIDED_SLICE rejects a zero stride", () => {
  const error = prepareError(sliceSetup({ ...BASE, strides: [1, 0] }, TensorType.INT8, [2, 6]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "stride 0 in slice spec 1");
});

test("STRIDED_SLICE rejects two ellipses", () => {
  const error = prepareError(sliceSetup({ ...BASE, ellipsisMask: 3 }, TensorType.INT8, [4, 6]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "more than one bit set");
});

test("STRIDED_SLICE rejects more specs than dimensions", () => {
  const c: SliceCase = { name: "", shape: [4], begin: [0, 0], end: [1, 1], strides: [1, 1] };
  const error = prepareError(sliceSetup(c, TensorType.INT8, [1, 1]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "indexes 2 dimensions");
});

test("STRIDED_SLICE rejects a shrunk index past the end", () => {
  const error = prepareError(sliceSetup({ ...BASE, begin: [4, 0], shrinkAxisMask: 1 }, TensorType.INT8, [3]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "shrinks slice spec 0 at begin 4");
});

test("STRIDED_SLICE rejects a shrunk axis with a negative stride", () => {
  const error = prepareError(sliceSetup({ ...BASE, strides: [-1, 2], shrinkAxisMask: 1 }, TensorType.INT8, [3]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "with stride -1");
});

test("STRIDED_SLICE rejects begin, end and strides of different lengths", () => {
  const c: SliceCase = { name: "", shape: [4, 6], begin: [1, 0], end: [3, 6], strides: [1] };
  const error = prepareError(sliceSetup(c, TensorType.INT8, [2, 6]));
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "have 2, 2 and 1 entries");
});

test("STRIDED_SLICE rejects a change of type", () => {
  const setup = sliceSetup(BASE, TensorType.INT8, [2, 3]);
  const tensors = setup.tensors.slice();
  tensors[4] = tensorDef(4, TensorType.INT16, [2, 3], [0.25], [0]);
  const error = prepareError({ ...setup, tensors });
  assert.instance(error, InvalidModelError);
  assert.match(String(error), "keeps the element type");
});

test.run();
