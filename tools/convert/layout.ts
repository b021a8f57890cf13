// ONNX lays out images NCHW and TFLite NHWC. The converter stores every
// rank-4 ONNX value as NHWC in the .tflite file and keeps every other rank
// in ONNX order. These helpers map shapes, axes and constant data between
// the two for rank 4 and leave other ranks unchanged.

/** TFLite axis of each ONNX axis of a rank-4 value: C moves last. */
const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2];
/** ONNX axis held by each TFLite axis of a rank-4 value. */
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

/** Shape of a value in the .tflite file, from its ONNX shape. */
export function tfliteShape(onnxShape: readonly number[]): number[] {
  if (onnxShape.length !== 4) return [...onnxShape];
  return NHWC_TO_NCHW_AXIS.map((axis) => onnxShape[axis]);
}

/** TFLite axis of ONNX axis `axis` (already non-negative) of a value of rank `rank`. */
export function tfliteAxis(axis: number, rank: number): number {
  return rank === 4 ? NCHW_TO_NHWC_AXIS[axis] : axis;
}

/** Resolves a negative ONNX axis; throws RangeError when it is outside [-rank, rank). */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new RangeError(`axis ${axis} is outside [${-rank}, ${rank - 1}]`);
  return axis < 0 ? axis + rank : axis;
}

/**
 * Returns `values` (row-major in `shape`) reordered by the axis permutation
 * `perm`: output axis i is input axis perm[i], as ONNX Transpose defines it.
 */
export function transposeValues<T extends { length: number; [index: number]: number }>(
  values: T,
  shape: readonly number[],
  perm: readonly number[],
  output: T,
): T {
  const rank = shape.length;
  const inputStrides = stridesOf(shape);
  const outputShape = perm.map((axis) => shape[axis]);
  const index = new Array<number>(rank).fill(0);
  for (let outputOffset = 0; outputOffset < values.length; outputOffset++) {
    let inputOffset = 0;
    for (let i = 0; i < rank; i++) inputOffset += index[i] * inputStrides[perm[i]];
    output[outputOffset] = values[inputOffset];
    // Advance the output index, last axis fastest.
    for (let i = rank - 1; i >= 0; i--) {
      index[i]++;
      if (index[i] < outputShape[i]) break;
      index[i] = 0;
    }
  }
  return output;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Reorders rank-4 NCHW data to NHWC; other ranks are returned as they are. */
export function toTfliteOrder<T extends { length: number; [index: number]: number; slice(): T }>(values: T, onnxShape: readonly number[]): T {
  if (onnxShape.length !== 4) return values;
  return transposeValues(values, onnxShape, NHWC_TO_NCHW_AXIS, values.slice());
}

/**
 * For a value flattened from NHWC storage: the ONNX (NCHW) flat feature
 * index of each stored position. Stored position (h*W + w)*C + c contains ONNX
 * feature c*H*W + h*W + w.
 */
export function nhwcFeatureOrder(channels: number, height: number, width: number): Int32Array {
  const order = new Int32Array(channels * height * width);
  let position = 0;
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      for (let c = 0; c < channels; c++) order[position++] = (c * height + h) * width + w;
    }
  }
  return order;
}

/** TFLite TRANSPOSE permutation, in stored axes, of ONNX Transpose `perm` between values of the given ranks. */
export function tflitePermutation(perm: readonly number[]): number[] {
  const rank = perm.length;
  const result: number[] = [];
  for (let j = 0; j < rank; j++) {
    const onnxOutputAxis = rank === 4 ? NHWC_TO_NCHW_AXIS[j] : j;
    result.push(tfliteAxis(perm[onnxOutputAxis], rank));
  }
  return result;
}

/** Permutation that turns stored NHWC data into NCHW order. */
export const NHWC_TO_NCHW_PERMUTATION: readonly number[] = [0, 3, 1, 2];
/** Permutation that turns NCHW data into stored NHWC order. */
export const NCHW_TO_NHWC_PERMUTATION: readonly number[] = NHWC_TO_NCHW_AXIS;
