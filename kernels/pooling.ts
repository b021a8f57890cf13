// AVERAGE_POOL_2D and MAX_POOL_2D on NHWC tensors, as TFLM's reference
// integer pooling computes them: windows cover only the in-bounds input
// taps, and the result is clamped to the fused activation range. The pooling
// plan and the max pool serve int8, int16 and uint8 tensors under every
// requantization scheme. This average pool is TFLM's int8 and int16
// arithmetic under the "tflm" scheme, and affine/pooling.ts averages the rest.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { readPool2DOptions } from "../runtime/schema/options.js";
import { TensorType } from "../runtime/tensor_types.js";
import {
  activationRange,
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkRank,
  checkShape,
  checkType,
  checkZeroPoint,
  computePadding,
  describeTensor,
  typeRange,
} from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { tapRange } from "./taps.js";
import { QuantizedArray, quantizedView } from "./affine/elementwise_common.js";

/** Everything invoke needs, derived once at prepare. */
export interface PoolingPlan {
  input: TensorDef;
  output: TensorDef;
  batches: number;
  inputHeight: number;
  inputWidth: number;
  channels: number;
  outputHeight: number;
  outputWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  /** [start, end) of the in-bounds filter rows for each output row, as pairs. */
  rows: Int32Array;
  /** [start, end) of the in-bounds filter columns for each output column, as pairs. */
  columns: Int32Array;
  activationMin: number;
  activationMax: number;
}

/** A kernel's quantization checks, run before the activation range is derived from the output's scale. */
export type PoolingQuantizationCheck = (op: OperatorDef, input: TensorDef, output: TensorDef) => void;

export const averagePool2dKernel: Kernel = {
  name: "AVERAGE_POOL_2D",
  accepts: (context, op) => context.scheme.name === "tflm" && hasInt8OrInt16Input(context, op),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const plan = preparePooling(context, op, [TensorType.INT8, TensorType.INT16], checkTflmQuantization);
    checkWindowsNotEmpty(op, plan);
    return averagePool(plan);
  },
};

export const maxPool2dKernel: Kernel = {
  name: "MAX_POOL_2D",
  // Max pooling compares stored integers, so every scheme gives the same
  // result and this kernel takes every MAX_POOL_2D.
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const types = [TensorType.INT8, TensorType.UINT8, TensorType.INT16];
    return maxPool(preparePooling(context, op, types, checkTflmQuantization));
  },
};

/**
 * Validates a pooling operator as TFLM's PoolingPrepare does and derives its
 * plan. The input must have one of `types`, and the output the input's type.
 */
export function preparePooling(
  context: PrepareContext,
  op: OperatorDef,
  types: readonly number[],
  checkQuantization: PoolingQuantizationCheck,
): PoolingPlan {
  checkInputCount(op, 1, 1);
  checkOutputCount(op, 1);
  const input = context.tensor(op.inputs[0]);
  const output = context.tensor(op.outputs[0]);
  checkType(op, input, "input", types);
  checkType(op, output, "output", [input.type]);
  checkRank(op, input, "input", 4);
  checkRank(op, output, "output", 4);

  const options = readPool2DOptions(context.reader, op);
  const [batches, inputHeight, inputWidth, channels] = input.shape;
  const vertical = computePadding(op, options.padding, inputHeight, options.filterHeight, options.strideHeight, 1, "height");
  const horizontal = computePadding(op, options.padding, inputWidth, options.filterWidth, options.strideWidth, 1, "width");
  checkShape(op, output, "output", [batches, vertical.outputSize, horizontal.outputSize, channels]);

  checkQuantization(op, input, output);
  const [activationMin, activationMax] = activationRange(op, options.activation, output);

  const rows = tapRange(vertical.outputSize, options.strideHeight, vertical.before, 1, options.filterHeight, inputHeight);
  const columns = tapRange(horizontal.outputSize, options.strideWidth, horizontal.before, 1, options.filterWidth, inputWidth);
  context.notePersistentBytes(rows.byteLength + columns.byteLength);

  return {
    input,
    output,
    batches,
    inputHeight,
    inputWidth,
    channels,
    outputHeight: vertical.outputSize,
    outputWidth: horizontal.outputSize,
    strideHeight: options.strideHeight,
    strideWidth: options.strideWidth,
    padTop: vertical.before,
    padLeft: horizontal.before,
    rows,
    columns,
    activationMin,
    activationMax,
  };
}

/** TFLM's rule: per-tensor quantization, the same on input and output. */
function checkTflmQuantization(op: OperatorDef, input: TensorDef, output: TensorDef): void {
  checkPerTensorQuantization(op, input, "input");
  checkPerTensorQuantization(op, output, "output");
  checkSameQuantization(op, input, output);
}

/**
 * Pooling passes quantized values through unchanged, so TFLM requires the
 * input and output scales to differ by at most 1e-6 (in float32) and the
 * zero points to be equal.
 */
function checkSameQuantization(op: OperatorDef, input: TensorDef, output: TensorDef): void {
  const scaleDifference = Math.fround(Math.abs(input.scale[0] - output.scale[0]));
  const inputZeroPoint = checkZeroPoint(op, input, "input");
  const outputZeroPoint = checkZeroPoint(op, output, "output");
  if (scaleDifference > 1e-6 || inputZeroPoint !== outputZeroPoint) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): input ${describeTensor(input)} has scale ${input.scale[0]} and zero point ` +
        `${inputZeroPoint}, output ${describeTensor(output)} has scale ${output.scale[0]} and zero point ${outputZeroPoint}; ` +
        `quantized pooling needs equal input and output quantization, so requantize the model with the TFLite converter`,
    );
  }
}

/**
 * Rejects at prepare a window without input taps, which has no average (TFLM's
 * average pool fails on it at eval).
 */
export function checkWindowsNotEmpty(op: OperatorDef, plan: PoolingPlan): void {
  const check = (ranges: Int32Array, axis: string) => {
    for (let o = 0; 2 * o < ranges.length; o++) {
      if (ranges[2 * o] >= ranges[2 * o + 1]) {
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}): the pooling window of output ${axis} ${o} covers no input element; ` +
            `the padding, stride or filter size is corrupted`,
        );
      }
    }
  };
  check(plan.rows, "row");
  check(plan.columns, "column");
}

/** TFLM's average pool of int8 or int16 values: the rounded quotient of the raw sum. */
function averagePool(plan: PoolingPlan): PreparedOp {
  const { batches, inputHeight, inputWidth, channels, outputHeight, outputWidth, rows, columns } = plan;
  let inputData: QuantizedArray = new Int8Array(0);
  let outputData: QuantizedArray = new Int8Array(0);

  return {
    macs: poolingTaps(plan),
    bind(memory: MemoryContext): void {
      inputData = quantizedView(memory, plan.input);
      outputData = quantizedView(memory, plan.output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const strideH = plan.strideHeight;
      const strideW = plan.strideWidth;
      const padTop = plan.padTop;
      const padLeft = plan.padLeft;
      const activationMin = plan.activationMin;
      const activationMax = plan.activationMax;
      let outIndex = 0;
      for (let batch = 0; batch < batches; batch++) {
        const batchBase = batch * inputHeight;
        for (let outY = 0; outY < outputHeight; outY++) {
          const inYOrigin = outY * strideH - padTop;
          const filterYStart = rows[2 * outY];
          const filterYEnd = rows[2 * outY + 1];
          for (let outX = 0; outX < outputWidth; outX++) {
            const inXOrigin = outX * strideW - padLeft;
            const filterXStart = columns[2 * outX];
            const filterXEnd = columns[2 * outX + 1];
            const count = (filterYEnd - filterYStart) * (filterXEnd - filterXStart);
            const halfCount = count >> 1;
            for (let channel = 0; channel < channels; channel++) {
              // Range: |sum| <= taps * 32768, inside int32 for any window
              // of fewer than 65536 taps.
              let sum = 0;
              for (let filterY = filterYStart; filterY < filterYEnd; filterY++) {
                let index = ((batchBase + inYOrigin + filterY) * inputWidth + inXOrigin + filterXStart) * channels + channel;
                for (let filterX = filterXStart; filterX < filterXEnd; filterX++) {
                  sum += input[index];
                  index += channels;
                }
              }
              // Rounds half away from zero with TFLM's truncating C
              // division. The double quotient errs by under 2^-22, less
              // than its distance to the next integer for count < 2^22, so
              // `| 0` truncates it exactly as C does.
              let value = sum > 0 ? ((sum + halfCount) / count) | 0 : ((sum - halfCount) / count) | 0;
              if (value < activationMin) value = activationMin;
              if (value > activationMax) value = activationMax;
              out[outIndex++] = value;
            }
          }
        }
      }
    },
  };
}

/** The max pool of int8, uint8 or int16 values. */
function maxPool(plan: PoolingPlan): PreparedOp {
  const { batches, inputHeight, inputWidth, channels, outputHeight, outputWidth, rows, columns } = plan;
  const typeMin = typeRange(plan.input.type)[0];
  let inputData: QuantizedArray = new Int8Array(0);
  let outputData: QuantizedArray = new Int8Array(0);

  return {
    macs: poolingTaps(plan),
    bind(memory: MemoryContext): void {
      inputData = quantizedView(memory, plan.input);
      outputData = quantizedView(memory, plan.output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const strideH = plan.strideHeight;
      const strideW = plan.strideWidth;
      const padTop = plan.padTop;
      const padLeft = plan.padLeft;
      const activationMin = plan.activationMin;
      const activationMax = plan.activationMax;
      let outIndex = 0;
      for (let batch = 0; batch < batches; batch++) {
        const batchBase = batch * inputHeight;
        for (let outY = 0; outY < outputHeight; outY++) {
          const inYOrigin = outY * strideH - padTop;
          const filterYStart = rows[2 * outY];
          const filterYEnd = rows[2 * outY + 1];
          for (let outX = 0; outX < outputWidth; outX++) {
            const inXOrigin = outX * strideW - padLeft;
            const filterXStart = columns[2 * outX];
            const filterXEnd = columns[2 * outX + 1];
            for (let channel = 0; channel < channels; channel++) {
              // A window without input taps yields the type minimum before
              // clamping, as in TFLM.
              let max = typeMin;
              for (let filterY = filterYStart; filterY < filterYEnd; filterY++) {
                let index = ((batchBase + inYOrigin + filterY) * inputWidth + inXOrigin + filterXStart) * channels + channel;
                for (let filterX = filterXStart; filterX < filterXEnd; filterX++) {
                  const value = input[index];
                  if (value > max) max = value;
                  index += channels;
                }
              }
              if (max < activationMin) max = activationMin;
              if (max > activationMax) max = activationMax;
              out[outIndex++] = max;
            }
          }
        }
      }
    },
  };
}

/** Counts the in-bounds taps one invoke visits: the work, not the nominal filter area. */
export function poolingTaps(plan: PoolingPlan): number {
  let rowTaps = 0;
  for (let i = 0; i < plan.outputHeight; i++) rowTaps += plan.rows[2 * i + 1] - plan.rows[2 * i];
  let columnTaps = 0;
  for (let i = 0; i < plan.outputWidth; i++) columnTaps += plan.columns[2 * i + 1] - plan.columns[2 * i];
  return plan.batches * plan.channels * rowTaps * columnTaps;
}

/** True unless the input is a valid tensor of a type other than int8 and int16. */
function hasInt8OrInt16Input(context: PrepareContext, op: OperatorDef): boolean {
  const index = op.inputs[0];
  if (index === undefined || index < 0) return true;
  let type: number;
  try {
    type = context.tensor(index).type;
  } catch {
    return true;
  }
  return type === TensorType.INT8 || type === TensorType.INT16;
}
