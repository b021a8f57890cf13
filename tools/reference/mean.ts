// MEAN in double over a set of axes, with or without the reduced
// dimensions kept as 1.

import { forEachCoordinate } from "./elementwise.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, elementCount, realValues } from "./tensor.js";

export function meanReference(input: ReferenceTensor, axes: readonly number[], keepDims: boolean): RealTensor {
  const rank = input.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const axis of axes) {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new FloatReferenceError(`MEAN axis ${axis} is outside the ${rank} dimensions of [${input.shape}]`);
    reduced[a] = true;
  }
  const keptShape = input.shape.map((n, d) => (reduced[d] ? 1 : n));
  const x = realValues(input);
  const sums = new Float64Array(elementCount(keptShape));
  forEachCoordinate(input.shape, (coordinates, index) => {
    let target = 0;
    for (let d = 0; d < rank; d++) target = target * keptShape[d] + (reduced[d] ? 0 : coordinates[d]);
    sums[target] += x[index];
  });
  const count = x.length / Math.max(sums.length, 1);
  const values = sums.map((s) => s / count);
  const shape = keepDims ? keptShape : input.shape.filter((_, d) => !reduced[d]);
  return { shape, values };
}
