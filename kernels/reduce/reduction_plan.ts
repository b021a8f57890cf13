// Loop plan of a reduction over a set of axes of a row-major tensor, built at
// prepare time. Axes resolve as TFLM's ResolveAxis does: a negative axis counts
// from the end, and duplicates count once. Dimensions of size 1 are dropped,
// and neighbouring dimensions of the same kind (reduced or kept) are merged.
// The invoke loop then runs over a few long runs. For example, [1, 7, 7, 1280]
// reduced over axes 1 and 2 becomes 49 reduced rows of 1280 kept elements.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { describeTensor } from "../common.js";

export interface ReductionPlan {
  /** Input dimensions after merging, outermost first. There is at least one. */
  extents: Int32Array;
  /** 1 where the merged dimension is reduced, 0 where it is kept. */
  reduced: Int32Array;
  /** Step of the output position per step of each merged dimension: 0 for reduced ones. */
  outputStrides: Int32Array;
  /** Number of input elements summed into each output element. */
  reducedCount: number;
  /** Number of output elements: the product of the kept dimensions. */
  outputCount: number;
  /** True when an input dimension is 0: there is nothing to sum. */
  emptyInput: boolean;
}

/**
 * Resolves `axes` against the input's rank and plans the reduction. A rank-0
 * input ignores its axes, as TFLM does. Throws InvalidModelError for an axis
 * outside [-rank, rank).
 */
export function planReduction(op: OperatorDef, input: TensorDef, axes: ArrayLike<number>): ReductionPlan {
  const shape = input.shape;
  const rank = shape.length;
  const isReduced: boolean[] = new Array<boolean>(rank).fill(false);
  if (rank > 0) {
    for (let i = 0; i < axes.length; i++) {
      const axis = axes[i];
      if (axis < -rank || axis >= rank) {
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}): axis ${axis} is outside [${-rank}, ${rank}) for input ` +
            `${describeTensor(input)} of shape [${shape}]; the file is corrupted`,
        );
      }
      isReduced[axis < 0 ? axis + rank : axis] = true;
    }
  }

  let reducedCount = 1;
  let outputCount = 1;
  let emptyInput = false;
  for (let d = 0; d < rank; d++) {
    if (shape[d] === 0) emptyInput = true;
    if (isReduced[d]) reducedCount *= shape[d];
    else outputCount *= shape[d];
  }

  // Merge runs of reduced or kept dimensions. Dropping a dimension of size 1
  // changes neither the iteration order nor the output positions.
  const extents: number[] = [];
  const reduced: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (shape[d] === 1) continue;
    const kind = isReduced[d] ? 1 : 0;
    const last = extents.length - 1;
    if (last >= 0 && reduced[last] === kind) {
      extents[last] *= shape[d];
    } else {
      extents.push(shape[d]);
      reduced.push(kind);
    }
  }
  if (extents.length === 0) {
    extents.push(1);
    reduced.push(0);
  }

  const outputStrides = new Int32Array(extents.length);
  let stride = 1;
  for (let d = extents.length - 1; d >= 0; d--) {
    if (reduced[d] === 1) continue;
    outputStrides[d] = stride;
    stride *= extents[d];
  }

  return {
    extents: Int32Array.from(extents),
    reduced: Int32Array.from(reduced),
    outputStrides,
    reducedCount,
    outputCount,
    emptyInput,
  };
}
