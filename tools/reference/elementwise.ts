// ADD, SUB and MUL in double on dequantized values, with TFLite's
// broadcasting (shapes aligned at the last dimension, a dimension of 1
// repeats) and the fused activation.

import { activate } from "./quantization.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, elementCount, realValues } from "./tensor.js";

export type BinaryOperation = "add" | "sub" | "mul";

/** Shape of the broadcast of two shapes; throws when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = a[a.length - rank + d] ?? 1;
    const y = b[b.length - rank + d] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new FloatReferenceError(`shapes [${a}] and [${b}] do not broadcast`);
    shape.push(x === 1 ? y : x);
  }
  return shape;
}

/** Index into a tensor of `shape` for the element at `coordinates` of the broadcast shape. */
function sourceIndex(shape: readonly number[], coordinates: readonly number[]): number {
  const offset = coordinates.length - shape.length;
  let index = 0;
  for (let d = 0; d < shape.length; d++) index = index * shape[d] + (shape[d] === 1 ? 0 : coordinates[offset + d]);
  return index;
}

/** Calls visit(coordinates, flatIndex) for every element of `shape` in row-major order. */
export function forEachCoordinate(shape: readonly number[], visit: (coordinates: number[], index: number) => void): void {
  const count = elementCount(shape);
  const coordinates = new Array<number>(shape.length).fill(0);
  for (let index = 0; index < count; index++) {
    visit(coordinates, index);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coordinates[d] < shape[d]) break;
      coordinates[d] = 0;
    }
  }
}

export function binaryReference(operation: BinaryOperation, a: ReferenceTensor, b: ReferenceTensor, activation: number): RealTensor {
  const shape = broadcastShape(a.shape, b.shape);
  const x = realValues(a);
  const y = realValues(b);
  const values = new Float64Array(elementCount(shape));
  forEachCoordinate(shape, (coordinates, index) => {
    const u = x[sourceIndex(a.shape, coordinates)];
    const v = y[sourceIndex(b.shape, coordinates)];
    let real = u * v;
    if (operation === "add") real = u + v;
    else if (operation === "sub") real = u - v;
    values[index] = activate(real, activation);
  });
  return { shape, values };
}
