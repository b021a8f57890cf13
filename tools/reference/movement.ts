// Operators that move real values without arithmetic: PAD and PADV2,
// TRANSPOSE, CONCATENATION and STRIDED_SLICE. Padding adds real 0 (PAD) or
// the dequantized constant (PADV2). Concatenation joins real values, so
// inputs with different scales are rescaled only by the output's
// requantization.

import { forEachCoordinate } from "./elementwise.js";
import { activate } from "./quantization.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, elementCount, realValues } from "./tensor.js";

function flatIndex(shape: readonly number[], coordinates: readonly number[]): number {
  let index = 0;
  for (let d = 0; d < shape.length; d++) index = index * shape[d] + coordinates[d];
  return index;
}

/** PAD/PADV2: `paddings` lists [before, after] per dimension, and `padValue` is a real value. */
export function padReference(input: ReferenceTensor, paddings: readonly number[], padValue: number): RealTensor {
  const rank = input.shape.length;
  if (paddings.length !== 2 * rank) {
    throw new FloatReferenceError(`PAD needs 2 paddings per dimension of [${input.shape}], got ${paddings.length}`);
  }
  const shape = input.shape.map((n, d) => n + paddings[2 * d] + paddings[2 * d + 1]);
  const x = realValues(input);
  const values = new Float64Array(elementCount(shape)).fill(padValue);
  forEachCoordinate(input.shape, (coordinates, index) => {
    values[flatIndex(shape, coordinates.map((c, d) => c + paddings[2 * d]))] = x[index];
  });
  return { shape, values };
}

/** TRANSPOSE: output dimension d is input dimension perm[d]. */
export function transposeReference(input: ReferenceTensor, perm: readonly number[]): RealTensor {
  const rank = input.shape.length;
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    throw new FloatReferenceError(`TRANSPOSE permutation [${perm}] does not permute the ${rank} dimensions of [${input.shape}]`);
  }
  const shape = perm.map((p) => input.shape[p]);
  const x = realValues(input);
  const values = new Float64Array(x.length);
  forEachCoordinate(shape, (coordinates, index) => {
    const source = new Array<number>(rank);
    for (let d = 0; d < rank; d++) source[perm[d]] = coordinates[d];
    values[index] = x[flatIndex(input.shape, source)];
  });
  return { shape, values };
}

/** CONCATENATION along `axis` (negative counts from the end), then the fused activation. */
export function concatenationReference(inputs: readonly ReferenceTensor[], axis: number, activation: number): RealTensor {
  if (inputs.length === 0) throw new FloatReferenceError("CONCATENATION needs at least one input");
  const rank = inputs[0].shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new FloatReferenceError(`CONCATENATION axis ${axis} is outside the ${rank} dimensions`);
  const shape = [...inputs[0].shape];
  shape[a] = inputs.reduce((n, t) => n + t.shape[a], 0);
  let outer = 1;
  for (let d = 0; d < a; d++) outer *= shape[d];
  const values = new Float64Array(elementCount(shape));
  const blocks = inputs.map((t) => elementCount(t.shape) / outer);
  const reals = inputs.map(realValues);
  let out = 0;
  for (let o = 0; o < outer; o++) {
    reals.forEach((x, i) => {
      for (let k = 0; k < blocks[i]; k++) values[out++] = activate(x[o * blocks[i] + k], activation);
    });
  }
  return { shape, values };
}

export interface StridedSliceSpec {
  begin: readonly number[];
  end: readonly number[];
  strides: readonly number[];
  beginMask: number;
  endMask: number;
  shrinkAxisMask: number;
  /** True when end[i] counts from begin[i]. */
  offset: boolean;
}

/**
 * Slices as numpy indexes, one slice per dimension. Negative indices count
 * from the end and indices clamp to the dimension. A masked begin or end
 * takes the first or last element in the stride's direction. A shrunk
 * dimension takes begin alone and is dropped. Ellipsis and new axes are not
 * modeled.
 */
export function stridedSliceReference(input: ReferenceTensor, spec: StridedSliceSpec): RealTensor {
  const rank = input.shape.length;
  if (spec.begin.length > rank || spec.end.length !== spec.begin.length || spec.strides.length !== spec.begin.length) {
    throw new FloatReferenceError(`STRIDED_SLICE specs of lengths ${spec.begin.length}, ${spec.end.length}, ${spec.strides.length} do not fit [${input.shape}]`);
  }
  const indices: number[][] = [];
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = input.shape[d];
    if (d >= spec.begin.length) {
      indices.push(Array.from({ length: n }, (_, i) => i));
      shape.push(n);
      continue;
    }
    const stride = spec.strides[d];
    if (stride === 0) throw new FloatReferenceError(`STRIDED_SLICE stride ${d} is 0`);
    const clamp = (i: number) => (stride > 0 ? Math.min(Math.max(i, 0), n) : Math.min(Math.max(i, -1), n - 1));
    const normalize = (i: number) => (i < 0 ? i + n : i);
    const bit = 1 << d;
    // A masked begin or end is the first or last element in the stride's direction.
    const firstIndex = stride > 0 ? 0 : n - 1;
    const pastLastIndex = stride > 0 ? n : -1;
    const begin = spec.beginMask & bit ? firstIndex : clamp(normalize(spec.begin[d]));
    if (spec.shrinkAxisMask & bit) {
      indices.push([begin]);
      continue;
    }
    const rawEnd = spec.offset ? spec.begin[d] + spec.end[d] : spec.end[d];
    const end = spec.endMask & bit ? pastLastIndex : clamp(normalize(rawEnd));
    const selected: number[] = [];
    for (let i = begin; stride > 0 ? i < end : i > end; i += stride) selected.push(i);
    indices.push(selected);
    shape.push(selected.length);
  }

  const x = realValues(input);
  const values: number[] = [];
  const visit = (d: number, base: number) => {
    if (d === rank) {
      values.push(x[base]);
      return;
    }
    for (const i of indices[d]) visit(d + 1, base * input.shape[d] + i);
  };
  visit(0, 0);
  return { shape, values: Float64Array.from(values) };
}
