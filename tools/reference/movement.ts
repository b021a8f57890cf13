// Operators that move real values without arithmetic: PAD and PADV2,
// TRANSPOSE and CONCATENATION. Padding adds real 0 (PAD) or the dequantized
// constant (PADV2); concatenation joins real values, so inputs with
// different scales are rescaled only by the output's requantization.

import { forEachCoordinate } from "./elementwise.js";
import { activate } from "./quantization.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, elementCount, realValues } from "./tensor.js";

function flatIndex(shape: readonly number[], coordinates: readonly number[]): number {
  let index = 0;
  for (let d = 0; d < shape.length; d++) index = index * shape[d] + coordinates[d];
  return index;
}

/** PAD/PADV2: `paddings` holds [before, after] per dimension; `padValue` is real. */
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
