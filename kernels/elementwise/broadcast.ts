// The broadcast walk of TFLM's binary operators (ADD, SUB, MUL). Shapes
// align at their last dimension, and a dimension of size 1 repeats along
// the other operand's. TFLM's BroadcastBinaryOpSimple (tflite-micro
// 90b983c2, reference/broadcast_loop.h) fuses adjacent dimensions that walk
// memory the same way. This plan does the same at prepare, so the walk in
// invoke has at most MAX_BROADCAST_LOOPS nested loops whatever the rank.
// Each output element depends only on its two input elements, so the walk
// order cannot change a result; TFLM's non-broadcast fast path (equal
// shapes) is the one-loop case of this plan.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { describeTensor } from "../common.js";
import { MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { BinaryOperands } from "./operands.js";

/** Loops of the walk after fusing dimensions; the innermost one is a row. */
export const MAX_BROADCAST_LOOPS = 6;

/**
 * Fused loops over the output in row-major order, outermost first. Strides
 * are in elements, and a stride of 0 repeats the operand's element. The
 * last loop's strides are 0 or 1.
 */
export interface BroadcastPlan {
  readonly extents: Int32Array;
  readonly aStrides: Int32Array;
  readonly bStrides: Int32Array;
  /** Output elements of one walk. */
  readonly elementCount: number;
}

/**
 * Computes one row of the output: `count` elements from output index
 * `outputIndex` on, reading the operands from `aIndex` and `bIndex` and
 * advancing them by `aStep` and `bStep` (0 or 1) per element.
 */
export type RowFunction = (aIndex: number, aStep: number, bIndex: number, bStep: number, outputIndex: number, count: number) => void;

interface Loop {
  extent: number;
  aStride: number;
  bStride: number;
}

/**
 * Checks that the output shape is the broadcast of the two input shapes and
 * returns the fused loops that walk it. Throws InvalidModelError for shapes
 * that do not broadcast, and UnsupportedError when more than
 * MAX_BROADCAST_LOOPS loops remain after fusing.
 */
export function planBroadcast(op: OperatorDef, a: TensorDef, b: TensorDef, output: TensorDef): BroadcastPlan {
  const rank = Math.max(a.shape.length, b.shape.length, output.shape.length);
  const aShape = extendShape(a.shape, rank);
  const bShape = extendShape(b.shape, rank);
  const outputShape = extendShape(output.shape, rank);
  for (let d = 0; d < rank; d++) {
    const compatible = aShape[d] === bShape[d] || aShape[d] === 1 || bShape[d] === 1;
    const expected = aShape[d] === 1 ? bShape[d] : aShape[d];
    if (!compatible || outputShape[d] !== expected) {
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): inputs ${describeTensor(a)} of shape [${a.shape}] and ${describeTensor(b)} ` +
          `of shape [${b.shape}] do not broadcast to output ${describeTensor(output)} of shape [${output.shape}]; the file is corrupted`,
      );
    }
  }

  // Loops are built innermost first. A dimension joins the loop inside it
  // when each operand repeats along both, or continues in memory where the
  // inner loop ends. Output dimensions of size 1 add no loop.
  const loops: Loop[] = [];
  let aSpan = 1;
  let bSpan = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const extent = outputShape[d];
    if (extent === 0) return emptyPlan();
    const aStride = aShape[d] === 1 ? 0 : aSpan;
    const bStride = bShape[d] === 1 ? 0 : bSpan;
    aSpan *= aShape[d];
    bSpan *= bShape[d];
    if (extent === 1) continue;
    const inner = loops.length > 0 ? loops[loops.length - 1] : null;
    if (inner !== null && continues(inner.aStride, inner.extent, aStride) && continues(inner.bStride, inner.extent, bStride)) {
      inner.extent *= extent;
    } else {
      loops.push({ extent, aStride, bStride });
    }
  }
  if (loops.length > MAX_BROADCAST_LOOPS) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): broadcasting ${describeTensor(a)} of shape [${a.shape}] with ` +
        `${describeTensor(b)} of shape [${b.shape}] needs ${loops.length} nested loops; microq supports at most ` +
        `${MAX_BROADCAST_LOOPS}, so merge or reshape dimensions that alternate between broadcast and not`,
    );
  }

  const extents = new Int32Array(MAX_BROADCAST_LOOPS).fill(1);
  const aStrides = new Int32Array(MAX_BROADCAST_LOOPS);
  const bStrides = new Int32Array(MAX_BROADCAST_LOOPS);
  let elementCount = 1;
  for (let i = 0; i < loops.length; i++) {
    const position = MAX_BROADCAST_LOOPS - 1 - i;
    extents[position] = loops[i].extent;
    aStrides[position] = loops[i].aStride;
    bStrides[position] = loops[i].bStride;
    elementCount *= loops[i].extent;
  }
  return { extents, aStrides, bStrides, elementCount };
}

/** True when a dimension with `outerStride` continues a loop of `innerStride` and `innerExtent` in memory. */
function continues(innerStride: number, innerExtent: number, outerStride: number): boolean {
  if (innerStride === 0) return outerStride === 0;
  return outerStride === innerStride * innerExtent;
}

function extendShape(shape: readonly number[], rank: number): number[] {
  const extended: number[] = [];
  for (let d = shape.length; d < rank; d++) extended.push(1);
  for (const dim of shape) extended.push(dim);
  return extended;
}

function emptyPlan(): BroadcastPlan {
  const extents = new Int32Array(MAX_BROADCAST_LOOPS).fill(1);
  extents[MAX_BROADCAST_LOOPS - 1] = 0;
  return { extents, aStrides: new Int32Array(MAX_BROADCAST_LOOPS), bStrides: new Int32Array(MAX_BROADCAST_LOOPS), elementCount: 0 };
}

/** Views of the operands, which bind() sets and each row reads once. */
export interface OperandViews<T> {
  a: T;
  b: T;
  output: T;
}

/** Operand views of both element types; bind() sets those of the operands' type. */
export interface BinaryViews {
  readonly int8: OperandViews<Int8Array>;
  readonly int16: OperandViews<Int16Array>;
}

/**
 * Plans the broadcast of a binary operator and returns the prepared operator
 * whose invoke() walks the plan with the row that `makeRow` builds on the
 * operands' views, which bind() sets. The walk calls the row once per
 * innermost row and allocates nothing. `countsMacs` counts one MAC per
 * output element.
 */
export function broadcastOperator(
  context: PrepareContext,
  op: OperatorDef,
  operands: BinaryOperands,
  countsMacs: boolean,
  makeRow: (views: BinaryViews) => RowFunction,
): PreparedOp {
  const { a, b, output } = operands;
  const plan = planBroadcast(op, a, b, output);
  const extents = plan.extents;
  const aStrides = plan.aStrides;
  const bStrides = plan.bStrides;
  context.notePersistentBytes(extents.byteLength + aStrides.byteLength + bStrides.byteLength);
  const int8 = operands.type === TensorType.INT8;
  const views: BinaryViews = {
    int8: { a: new Int8Array(0), b: new Int8Array(0), output: new Int8Array(0) },
    int16: { a: new Int16Array(0), b: new Int16Array(0), output: new Int16Array(0) },
  };
  const row = makeRow(views);
  const rowLength = extents[5];
  const aStep = aStrides[5];
  const bStep = bStrides[5];
  return {
    macs: countsMacs ? plan.elementCount : 0,
    bind(memory: MemoryContext): void {
      if (int8) {
        views.int8.a = memory.int8(a.index);
        views.int8.b = memory.int8(b.index);
        views.int8.output = memory.int8(output.index);
      } else {
        views.int16.a = memory.int16(a.index);
        views.int16.b = memory.int16(b.index);
        views.int16.output = memory.int16(output.index);
      }
    },
    invoke(): void {
      let outputIndex = 0;
      for (let i0 = 0; i0 < extents[0]; i0++) {
        const a0 = i0 * aStrides[0];
        const b0 = i0 * bStrides[0];
        for (let i1 = 0; i1 < extents[1]; i1++) {
          const a1 = a0 + i1 * aStrides[1];
          const b1 = b0 + i1 * bStrides[1];
          for (let i2 = 0; i2 < extents[2]; i2++) {
            const a2 = a1 + i2 * aStrides[2];
            const b2 = b1 + i2 * bStrides[2];
            for (let i3 = 0; i3 < extents[3]; i3++) {
              const a3 = a2 + i3 * aStrides[3];
              const b3 = b2 + i3 * bStrides[3];
              for (let i4 = 0; i4 < extents[4]; i4++) {
                row(a3 + i4 * aStrides[4], aStep, b3 + i4 * bStrides[4], bStep, outputIndex, rowLength);
                outputIndex += rowLength;
              }
            }
          }
        }
      }
    },
  };
}
