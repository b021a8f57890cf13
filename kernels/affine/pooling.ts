// AVERAGE_POOL_2D and MAX_POOL_2D on uint8 or int8 NHWC tensors with any
// zero points. A window covers only the in-bounds input taps (TFLite's rule
// for SAME padding), so the average divides by the count of those taps. The
// average is the scheme's rounding of the centered window sum
// S = sum(x - zx); a max pool compares stored integers.
//
// PyTorch's explicit padding reaches these kernels as a PAD or PADV2
// operator followed by a VALID pool, so every window is full there.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { readPool2DOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { AverageRequantizer } from "../../runtime/requantization/scheme.js";
import {
  activationRange,
  checkInputCount,
  checkOutputCount,
  checkRank,
  checkShape,
  checkType,
  computePadding,
  typeRange,
} from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { tapRange } from "../taps.js";
import { QuantizedArray, checkSameQuantization, describeOperator, perTensorQuantization, quantizedView } from "./elementwise_common.js";

/** Window geometry and clamp range, derived once at prepare. */
interface PoolingPlan {
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

export const affineAveragePool2dKernel: Kernel = {
  name: "AVERAGE_POOL_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const plan = preparePooling(context, op);
    checkWindowsNotEmpty(op, plan);
    const inputQuantization = perTensorQuantization(op, plan.input, "input");
    const outputQuantization = perTensorQuantization(op, plan.output, "output");
    const averager = context.scheme.averagePool({
      inputScale: inputQuantization.scale,
      inputZeroPoint: inputQuantization.zeroPoint,
      outputScale: outputQuantization.scale,
      outputZeroPoint: outputQuantization.zeroPoint,
      memoryFormat: context.memoryFormat,
    });
    return averagePool(plan, averager, inputQuantization.zeroPoint);
  },
};

export const affineMaxPool2dKernel: Kernel = {
  name: "MAX_POOL_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const plan = preparePooling(context, op);
    perTensorQuantization(op, plan.input, "input");
    checkSameQuantization(op, plan.input, plan.output, "input");
    return maxPool(plan);
  },
};

function preparePooling(context: PrepareContext, op: OperatorDef): PoolingPlan {
  checkInputCount(op, 1, 1);
  checkOutputCount(op, 1);
  const input = context.tensor(op.inputs[0]);
  const output = context.tensor(op.outputs[0]);
  checkType(op, input, "input", [TensorType.UINT8, TensorType.INT8]);
  checkType(op, output, "output", [input.type]);
  checkRank(op, input, "input", 4);
  checkRank(op, output, "output", 4);

  const options = readPool2DOptions(context.reader, op);
  const [batches, inputHeight, inputWidth, channels] = input.shape;
  const vertical = computePadding(op, options.padding, inputHeight, options.filterHeight, options.strideHeight, 1, "height");
  const horizontal = computePadding(op, options.padding, inputWidth, options.filterWidth, options.strideWidth, 1, "width");
  checkShape(op, output, "output", [batches, vertical.outputSize, horizontal.outputSize, channels]);
  perTensorQuantization(op, output, "output");
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

/** Rejects at prepare a window without input taps, which has no average. */
function checkWindowsNotEmpty(op: OperatorDef, plan: PoolingPlan): void {
  const check = (ranges: Int32Array, axis: string) => {
    for (let o = 0; 2 * o < ranges.length; o++) {
      if (ranges[2 * o] >= ranges[2 * o + 1]) {
        throw new InvalidModelError(
          `${describeOperator(op)}: the pooling window of output ${axis} ${o} covers no input element; ` +
            `the padding, stride or filter size is corrupted`,
        );
      }
    }
  };
  check(plan.rows, "row");
  check(plan.columns, "column");
}

function averagePool(plan: PoolingPlan, averager: AverageRequantizer, inputZeroPoint: number): PreparedOp {
  const { batches, inputHeight, inputWidth, channels, outputHeight, outputWidth, rows, columns } = plan;
  const { strideHeight, strideWidth, padTop, padLeft, activationMin, activationMax } = plan;
  let inputData: QuantizedArray = new Uint8Array(0);
  let outputData: QuantizedArray = new Uint8Array(0);

  return {
    macs: poolingTaps(plan),
    bind(memory: MemoryContext): void {
      inputData = quantizedView(memory, plan.input);
      outputData = quantizedView(memory, plan.output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      let outIndex = 0;
      for (let batch = 0; batch < batches; batch++) {
        const batchBase = batch * inputHeight;
        for (let outY = 0; outY < outputHeight; outY++) {
          const inYOrigin = outY * strideHeight - padTop;
          const filterYStart = rows[2 * outY];
          const filterYEnd = rows[2 * outY + 1];
          for (let outX = 0; outX < outputWidth; outX++) {
            const inXOrigin = outX * strideWidth - padLeft;
            const filterXStart = columns[2 * outX];
            const filterXEnd = columns[2 * outX + 1];
            const count = (filterYEnd - filterYStart) * (filterXEnd - filterXStart);
            const zeroPointSum = count * inputZeroPoint;
            for (let channel = 0; channel < channels; channel++) {
              // Range: |sum| <= count * 255 stays an int32 for windows of
              // fewer than 2^23 taps; beyond that it is still exact, as a double.
              let sum = 0;
              for (let filterY = filterYStart; filterY < filterYEnd; filterY++) {
                let index = ((batchBase + inYOrigin + filterY) * inputWidth + inXOrigin + filterXStart) * channels + channel;
                for (let filterX = filterXStart; filterX < filterXEnd; filterX++) {
                  sum += input[index];
                  index += channels;
                }
              }
              let value = averager.average(sum - zeroPointSum, count);
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

function maxPool(plan: PoolingPlan): PreparedOp {
  const { batches, inputHeight, inputWidth, channels, outputHeight, outputWidth, rows, columns } = plan;
  const { strideHeight, strideWidth, padTop, padLeft, activationMin, activationMax } = plan;
  const typeMin = typeRange(plan.input.type)[0];
  let inputData: QuantizedArray = new Uint8Array(0);
  let outputData: QuantizedArray = new Uint8Array(0);

  return {
    macs: poolingTaps(plan),
    bind(memory: MemoryContext): void {
      inputData = quantizedView(memory, plan.input);
      outputData = quantizedView(memory, plan.output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      let outIndex = 0;
      for (let batch = 0; batch < batches; batch++) {
        const batchBase = batch * inputHeight;
        for (let outY = 0; outY < outputHeight; outY++) {
          const inYOrigin = outY * strideHeight - padTop;
          const filterYStart = rows[2 * outY];
          const filterYEnd = rows[2 * outY + 1];
          for (let outX = 0; outX < outputWidth; outX++) {
            const inXOrigin = outX * strideWidth - padLeft;
            const filterXStart = columns[2 * outX];
            const filterXEnd = columns[2 * outX + 1];
            for (let channel = 0; channel < channels; channel++) {
              // A window without input taps yields the type minimum before
              // clamping, as in TFLite.
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

/** Counts the in-bounds taps one invoke visits, as the operator's cost figure. */
function poolingTaps(plan: PoolingPlan): number {
  let rowTaps = 0;
  for (let i = 0; i < plan.outputHeight; i++) rowTaps += plan.rows[2 * i + 1] - plan.rows[2 * i];
  let columnTaps = 0;
  for (let i = 0; i < plan.outputWidth; i++) columnTaps += plan.columns[2 * i + 1] - plan.columns[2 * i];
  return plan.batches * plan.channels * rowTaps * columnTaps;
}
