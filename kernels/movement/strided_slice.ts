// STRIDED_SLICE of a tensor of up to six dimensions with an element type of
// 1, 2 or 4 bytes (int8, uint8, int16, int32, float32, bool). begin, end and
// strides are constant int32 (or int64) vectors, one entry per slice spec.
//
// Per input axis the start and stop follow TFLM's StridedSliceStartForAxis
// and StridedSliceEndForAxis (tflite-micro 90b983c2,
// kernels/internal/strided_slice_logic.h). A negative index counts from the
// end. Bounds are clamped to [0, size] for a positive stride and to
// [-1, size - 1] for a negative one. begin_mask and end_mask select the whole
// range in the stride's direction, also on a shrunk axis, and a shrunk axis
// takes the single element at start.
//
// ellipsis_mask, new_axis_mask and offset follow TensorFlow's
// tf.strided_slice: the ellipsis expands to the input dimensions that the
// other entries leave, a new axis adds an output dimension of size 1 and
// consumes no input dimension, and offset makes end[i] relative to the
// start. NOTE: TFLM's STRIDED_SLICE sets ellipsis_mask and new_axis_mask to
// 0 and never reads offset, so a model using them runs here but fails
// TFLM's output shape check or gives another result there.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { StridedSliceOptions, readStridedSliceOptions } from "../../runtime/schema/options_movement.js";
import { checkInputCount, checkShape, describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { describeOperator, readConstantIndices, stridesOf } from "../affine/elementwise_common.js";
import { movementTensors, prepareGatherCopy } from "./common.js";

/** The elements one input axis contributes: count indices start, start + stride, ... */
export interface SlicedAxis {
  start: number;
  count: number;
  stride: number;
}

/** A resolved slice: one SlicedAxis per input axis, and the output shape with new axes and without shrunk axes. */
export interface StridedSliceLayout {
  axes: SlicedAxis[];
  outputShape: number[];
}

/** The constant inputs and options of a STRIDED_SLICE, one entry per slice spec. */
export interface StridedSliceSpec {
  begin: readonly number[];
  end: readonly number[];
  strides: readonly number[];
  options: StridedSliceOptions;
}

export const stridedSliceKernel: Kernel = {
  name: "STRIDED_SLICE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 4, 4);
    const [input, output] = movementTensors(context, op);
    const spec: StridedSliceSpec = {
      begin: readSpecVector(context, op, 1, "begin"),
      end: readSpecVector(context, op, 2, "end"),
      strides: readSpecVector(context, op, 3, "strides"),
      options: readStridedSliceOptions(context.reader, op),
    };
    if (spec.end.length !== spec.begin.length || spec.strides.length !== spec.begin.length) {
      throw new InvalidModelError(
        `${describeOperator(op)}: begin, end and strides have ${spec.begin.length}, ${spec.end.length} and ` +
          `${spec.strides.length} entries; they must have one entry per slice spec each, so the file is corrupted`,
      );
    }
    const layout = resolveStridedSlice(input.shape, spec, describeOperator(op));
    checkShape(op, output, "output", layout.outputShape);
    // One loop level per input axis: an element count and an input step
    // (stride times the row-major stride of the axis), all from origin.
    const axes = layout.axes;
    const inputStrides = stridesOf(input.shape);
    let origin = 0;
    for (let d = 0; d < axes.length; d++) origin += axes[d].start * inputStrides[d];
    const counts = axes.map((axis) => axis.count);
    const steps = axes.map((axis, d) => axis.stride * inputStrides[d]);
    return prepareGatherCopy(input, output, counts, steps, origin);
  },
};

/** Reads begin, end or strides: a constant vector of int32 (or int64) values. */
function readSpecVector(context: PrepareContext, op: OperatorDef, inputIndex: number, role: string): number[] {
  const tensor = context.tensor(op.inputs[inputIndex]);
  if (tensor.shape.length !== 1) {
    throw new InvalidModelError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has shape [${tensor.shape}], expected a vector; the file is corrupted`,
    );
  }
  return readConstantIndices(context, op, op.inputs[inputIndex], role);
}

/**
 * Resolves the slice spec against the input shape: which elements each input
 * axis contributes, and the output shape. Throws InvalidModelError for a
 * zero stride, more than one ellipsis, more indexed entries than input
 * dimensions, and a shrunk axis that TFLM would leave unwritten (an index
 * past the end, or a negative stride). `where` names the operator in
 * messages.
 */
export function resolveStridedSlice(inputShape: readonly number[], spec: StridedSliceSpec, where: string): StridedSliceLayout {
  const rank = inputShape.length;
  const specCount = spec.begin.length;
  const { ellipsisMask, newAxisMask } = spec.options;
  const isSet = (mask: number, i: number): boolean => ((mask >>> i) & 1) === 1;

  let ellipsisIndex = -1;
  let indexedCount = 0;
  for (let i = 0; i < specCount; i++) {
    if (isSet(ellipsisMask, i)) {
      if (ellipsisIndex >= 0) {
        throw new InvalidModelError(
          `${where} has ellipsis_mask ${ellipsisMask} with more than one bit set among its ${specCount} slice specs; ` +
            `a slice takes at most one ellipsis, so the file is corrupted`,
        );
      }
      ellipsisIndex = i;
    } else if (!isSet(newAxisMask, i)) {
      indexedCount++;
    }
  }
  if (indexedCount > rank) {
    throw new InvalidModelError(
      `${where} indexes ${indexedCount} dimensions, but the input has shape [${inputShape}]; the file is corrupted`,
    );
  }

  // The ellipsis, or the implicit one after the last spec, covers the
  // dimensions no other entry indexes.
  const ellipsisDims = rank - indexedCount;
  const axes: SlicedAxis[] = [];
  const outputShape: number[] = [];
  const addWholeAxis = (): void => {
    const size = inputShape[axes.length];
    axes.push({ start: 0, count: size, stride: 1 });
    outputShape.push(size);
  };
  for (let i = 0; i < specCount; i++) {
    if (i === ellipsisIndex) {
      for (let k = 0; k < ellipsisDims; k++) addWholeAxis();
    } else if (isSet(newAxisMask, i)) {
      outputShape.push(1);
    } else {
      const axis = resolveAxis(inputShape[axes.length], spec, i, where);
      axes.push(axis);
      if (!isSet(spec.options.shrinkAxisMask, i)) outputShape.push(axis.count);
    }
  }
  while (axes.length < rank) addWholeAxis();
  return { axes, outputShape };
}

/** Resolves spec entry i on an input axis of `size` elements, as TFLM does. */
function resolveAxis(size: number, spec: StridedSliceSpec, i: number, where: string): SlicedAxis {
  const { beginMask, endMask, shrinkAxisMask, offset } = spec.options;
  const stride = spec.strides[i];
  if (stride === 0) {
    throw new InvalidModelError(`${where} has stride 0 in slice spec ${i}; strides must be non-zero, so the file is corrupted`);
  }
  const low = stride > 0 ? 0 : -1;
  const high = stride > 0 ? size : size - 1;

  let start = spec.begin[i];
  if (start < 0) start += size;
  start = clamp(start, low, high);
  if (((beginMask >>> i) & 1) === 1) start = stride > 0 ? 0 : size - 1;

  if (((shrinkAxisMask >>> i) & 1) === 1) {
    // TFLM loops from start to start + 1 with the given stride, so a
    // negative stride or a start past the end writes no element at all.
    if (stride < 0 || start >= size) {
      throw new InvalidModelError(
        `${where} shrinks slice spec ${i} at begin ${spec.begin[i]} with stride ${stride}, but that dimension has ` +
          `${size} elements; a shrunk dimension needs an index inside it and a positive stride, so the file is corrupted`,
      );
    }
    return { start, count: 1, stride: 1 };
  }

  let stop = spec.end[i];
  if (offset) stop += start;
  if (stop < 0) stop += size;
  stop = clamp(stop, low, high);
  if (((endMask >>> i) & 1) === 1) stop = stride > 0 ? size : -1;

  const count = Math.max(0, Math.ceil((stop - start) / stride));
  return { start, count, stride };
}

function clamp(value: number, low: number, high: number): number {
  if (value > high) return high;
  if (value < low) return low;
  return value;
}
