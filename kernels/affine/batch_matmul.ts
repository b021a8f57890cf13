// BATCH_MATMUL (builtin 126) with uint8 or int8 operands: out[b] = A[b] x B[b]
// for A [..., M, K] ([..., K, M] with adj_x) and B [..., K, N] ([..., N, K]
// with adj_y). B may be stored in the model or computed at run time. Its
// quantization is per tensor or per output column n (along B's N
// dimension), with any zero points. The leading (batch) dimensions
// broadcast as TFLite defines: both operands are extended with leading 1s
// to the larger rank, and a dimension of 1 repeats against the other
// operand's. The output is requantized by the model's scheme (as a fully
// connected layer with one channel per column), or is the raw int32
// accumulator (ONNX MatMulInteger).
//
// Zero points fold as accumulator_common.ts describes, with A's rows as the
// inputs and B's columns as the weights: the column terms zx * sum (b - zb)
// are computed at prepare for a constant B and once per batch otherwise.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { Activation, readBatchMatMulOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkShape, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  AccumulatorOutputArray,
  QuantizedArray,
  channelZeroPoints,
  checkAccumulatorDepth,
  constantView,
  isRawOutput,
  outputView,
  prepareOutputStage,
  quantizedView,
  readChannelQuantization,
  readInputQuantization,
} from "./accumulator_common.js";

/** Ranks TFLite's BATCH_MATMUL accepts for each operand. */
const MIN_RANK = 2;
const MAX_RANK = 5;

/** Operand matrices of each output batch. */
interface BatchLayout {
  /** Output batch count: the product of the broadcast leading dimensions. */
  readonly count: number;
  /** Per output batch: the index of the left and of the right operand's matrix. */
  readonly lhsMatrix: Int32Array;
  readonly rhsMatrix: Int32Array;
  /** Shape of the output's leading dimensions. */
  readonly dimensions: number[];
}

export const affineBatchMatMulKernel: Kernel = {
  name: "BATCH_MATMUL",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 2);
    checkOutputCount(op, 1);
    const lhs = context.tensor(op.inputs[0]);
    const rhs = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkOperandRank(op, lhs, "left operand");
    checkOperandRank(op, rhs, "right operand");
    const { adjX, adjY } = readBatchMatMulOptions(context.reader, op);

    const lhsRank = lhs.shape.length;
    const rhsRank = rhs.shape.length;
    const rows = adjX ? lhs.shape[lhsRank - 1] : lhs.shape[lhsRank - 2];
    const depth = adjX ? lhs.shape[lhsRank - 2] : lhs.shape[lhsRank - 1];
    const rhsDepth = adjY ? rhs.shape[rhsRank - 1] : rhs.shape[rhsRank - 2];
    const columns = adjY ? rhs.shape[rhsRank - 2] : rhs.shape[rhsRank - 1];
    if (depth !== rhsDepth) {
      throw new InvalidModelError(
        `operator ${op.index} (BATCH_MATMUL): left operand ${describeTensor(lhs)} [${lhs.shape}] (adj_x ${adjX}) has ` +
          `depth ${depth}, right operand ${describeTensor(rhs)} [${rhs.shape}] (adj_y ${adjY}) has ${rhsDepth}; the file is corrupted`,
      );
    }
    const batches = broadcastBatches(op, lhs, rhs);
    checkShape(op, output, "output", [...batches.dimensions, rows, columns]);

    const raw = isRawOutput(output);
    const lhsQuantization = readInputQuantization(op, lhs, "left operand", !raw);
    checkType(op, rhs, "right operand", [TensorType.UINT8, TensorType.INT8]);
    const columnDimension = adjY ? rhsRank - 2 : rhsRank - 1;
    const rhsScales = readChannelQuantization(op, rhs, "right operand", columns, columnDimension, !raw);
    const rhsZeroPoints = channelZeroPoints(op, rhs, "right operand", columns);
    let hasRhsZeroPoints = false;
    for (let n = 0; n < columns; n++) if (rhsZeroPoints[n] !== 0) hasRhsZeroPoints = true;
    checkAccumulatorDepth(op, depth, `a depth of ${depth}`);
    const stage = prepareOutputStage(
      context, op, "fully_connected", lhsQuantization, rhsScales, null, output, columns, Activation.NONE,
    );
    const { requantizer, min, max } = stage;
    const lhsZeroPoint = lhsQuantization.zeroPoint;

    // Element strides of A[m, k] and B[k, n] within one matrix.
    const lhsRowStride = adjX ? 1 : depth;
    const lhsDepthStride = adjX ? rows : 1;
    const rhsDepthStride = adjY ? 1 : columns;
    const rhsColumnStride = adjY ? depth : 1;
    const lhsMatrixSize = rows * depth;
    const rhsMatrixSize = depth * columns;

    // Column terms zx * sum over k of (B[k, n] - zb[n]): all of them now for
    // a constant B, else one matrix's worth per batch in scratch memory.
    const rhsIndex = op.inputs[1];
    const rhsIsConstant = context.isConstant(rhsIndex);
    let constantColumnTerms: Int32Array | null = null;
    if (rhsIsConstant) {
      const rhsData = constantView(context, rhsIndex, rhs);
      const matrices = rhs.elementCount / Math.max(rhsMatrixSize, 1);
      constantColumnTerms = new Int32Array(matrices * columns);
      for (let matrix = 0; matrix < matrices; matrix++) {
        computeColumnTerms(
          rhsData, matrix * rhsMatrixSize, depth, columns, rhsDepthStride, rhsColumnStride, rhsZeroPoints, lhsZeroPoint,
          constantColumnTerms, matrix * columns,
        );
      }
      context.notePersistentBytes(constantColumnTerms.byteLength);
    }
    const scratch = rhsIsConstant ? -1 : context.requestScratch(4 * columns);
    context.notePersistentBytes(rhsZeroPoints.byteLength + batches.lhsMatrix.byteLength + batches.rhsMatrix.byteLength);

    const lhsIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const batchCount = batches.count;
    const lhsMatrix = batches.lhsMatrix;
    const rhsMatrix = batches.rhsMatrix;
    let lhsData: QuantizedArray = new Uint8Array(0);
    let rhsData: QuantizedArray = new Uint8Array(0);
    let outputData: AccumulatorOutputArray = new Uint8Array(0);
    let columnTerms: Int32Array = constantColumnTerms ?? new Int32Array(0);

    return {
      macs: batchCount * rows * columns * depth,
      bind(memory: MemoryContext): void {
        lhsData = quantizedView(memory, lhsIndex, lhs.type);
        rhsData = quantizedView(memory, rhsIndex, rhs.type);
        outputData = outputView(memory, outputIndex, output.type);
        if (!rhsIsConstant) columnTerms = memory.scratchInt32(scratch, columns);
      },
      invoke(): void {
        let batch, lhsStart, rhsStart, termsStart, row, rowStart, column, k, lhsPosition, rhsPosition, rowSum, dot, acc, value;
        let outputOffset = 0;
        for (batch = 0; batch < batchCount; batch++) {
          lhsStart = lhsMatrix[batch] * lhsMatrixSize;
          rhsStart = rhsMatrix[batch] * rhsMatrixSize;
          if (rhsIsConstant) {
            termsStart = rhsMatrix[batch] * columns;
          } else {
            computeColumnTerms(
              rhsData, rhsStart, depth, columns, rhsDepthStride, rhsColumnStride, rhsZeroPoints, lhsZeroPoint, columnTerms, 0,
            );
            termsStart = 0;
          }

          for (row = 0; row < rows; row++) {
            rowStart = lhsStart + row * lhsRowStride;
            rowSum = 0;
            if (hasRhsZeroPoints) {
              for (k = 0, lhsPosition = rowStart; k < depth; k++, lhsPosition += lhsDepthStride) rowSum += lhsData[lhsPosition];
            }

            for (column = 0; column < columns; column++) {
              dot = 0;
              lhsPosition = rowStart;
              rhsPosition = rhsStart + column * rhsColumnStride;
              for (k = 0; k < depth; k++) {
                dot += lhsData[lhsPosition] * rhsData[rhsPosition];
                lhsPosition += lhsDepthStride;
                rhsPosition += rhsDepthStride;
              }
              acc = dot - rhsZeroPoints[column] * rowSum - columnTerms[termsStart + column];
              value = requantizer.requantize(acc, column);
              if (value < min) value = min;
              else if (value > max) value = max;
              outputData[outputOffset++] = value;
            }
          }
        }
      },
    };
  },
};

function checkOperandRank(op: OperatorDef, tensor: TensorDef, role: string): void {
  const rank = tensor.shape.length;
  if (rank < MIN_RANK || rank > MAX_RANK) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} has rank ${rank}; BATCH_MATMUL supports ranks ${MIN_RANK} to ${MAX_RANK}`,
    );
  }
}

/**
 * Broadcasts the leading dimensions of both operands, after extending them
 * with leading 1s to the larger rank, and maps every output batch (in
 * row-major order) to the matrix of each operand it reads.
 */
function broadcastBatches(op: OperatorDef, lhs: TensorDef, rhs: TensorDef): BatchLayout {
  const rank = Math.max(lhs.shape.length, rhs.shape.length) - 2;
  const lhsDimensions = extendedLeadingDimensions(lhs, rank);
  const rhsDimensions = extendedLeadingDimensions(rhs, rank);
  const dimensions: number[] = [];
  for (let i = 0; i < rank; i++) {
    const a = lhsDimensions[i];
    const b = rhsDimensions[i];
    if (a !== b && a !== 1 && b !== 1) {
      throw new InvalidModelError(
        `operator ${op.index} (BATCH_MATMUL): leading dimensions [${lhs.shape.slice(0, -2)}] of ${describeTensor(lhs)} and ` +
          `[${rhs.shape.slice(0, -2)}] of ${describeTensor(rhs)} do not broadcast (dimension ${i}: ${a} and ${b}); the file is corrupted`,
      );
    }
    dimensions.push(a === 1 ? b : a);
  }

  const count = dimensions.reduce((product, dimension) => product * dimension, 1);
  const lhsMatrix = new Int32Array(count);
  const rhsMatrix = new Int32Array(count);
  for (let batch = 0; batch < count; batch++) {
    // Walk the output coordinates from the last dimension, accumulating each
    // operand's matrix index; a broadcast dimension (size 1) contributes 0.
    let remainder = batch;
    let lhsIndex = 0;
    let rhsIndex = 0;
    let lhsStride = 1;
    let rhsStride = 1;
    for (let i = rank - 1; i >= 0; i--) {
      const coordinate = remainder % dimensions[i];
      remainder = (remainder - coordinate) / dimensions[i];
      if (lhsDimensions[i] !== 1) lhsIndex += coordinate * lhsStride;
      if (rhsDimensions[i] !== 1) rhsIndex += coordinate * rhsStride;
      lhsStride *= lhsDimensions[i];
      rhsStride *= rhsDimensions[i];
    }
    lhsMatrix[batch] = lhsIndex;
    rhsMatrix[batch] = rhsIndex;
  }
  return { count, lhsMatrix, rhsMatrix, dimensions };
}

function extendedLeadingDimensions(tensor: TensorDef, rank: number): number[] {
  const leading = tensor.shape.slice(0, -2);
  while (leading.length < rank) leading.unshift(1);
  return leading;
}

/**
 * Writes zx * sum over k of (B[k, n] - zb[n]) for every column n of the
 * matrix at `start` into terms[termsStart + n]. Within int32 by the range
 * argument of accumulator_common.ts. Allocates nothing.
 */
function computeColumnTerms(
  data: QuantizedArray,
  start: number,
  depth: number,
  columns: number,
  depthStride: number,
  columnStride: number,
  zeroPoints: Int32Array,
  lhsZeroPoint: number,
  terms: Int32Array,
  termsStart: number,
): void {
  let column, k, position, sum;
  for (column = 0; column < columns; column++) {
    sum = 0;
    position = start + column * columnStride;
    for (k = 0; k < depth; k++, position += depthStride) sum += data[position];
    terms[termsStart + column] = lhsZeroPoint * (sum - depth * zeroPoints[column]);
  }
}
