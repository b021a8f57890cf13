// 16x8 TRANSPOSE_CONV (int16 activations, int8 weights), bit-exact with
// TFLM's templated reference_integer_ops::TransposeConv with an int64
// scratch tensor and bias (reference/integer_ops/transpose_conv.h and
// micro/kernels/transpose_conv.cc, tflite-micro commit 90b983c2). It has no
// zero points and takes an int16 or int64 bias, which TFLM widens to int64.
// Each output gets the int64 MultiplyByQuantizedMultiplier and the
// activation clamp.
//
// The int64 scratch tensor of TFLM is two int32 planes here, one split sum
// (runtime/fixedpoint64.ts) per output element: the low plane adds
// partial & 0xffff and the high plane partial >> 16 of each int32 partial
// sum of at most 511 products, so both planes hold the exact total.

import { UnsupportedError } from "../../runtime/errors.js";
import {
  INT16X8_PRODUCTS_PER_PARTIAL_SUM,
  SPLIT_SUM_MAX_TERMS,
  addInt64High,
  addInt64Low,
  multiplyInt64ByQ15,
  splitSumHigh,
  splitSumLow,
} from "../../runtime/fixedpoint64.js";
import { OperatorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInt16ZeroPoint } from "../conv16x8/conv16x8.js";
import { prepareInt64Requantization, readInt64Bias } from "../conv16x8/bias.js";
import { MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { TransposeConvLayer } from "./layer.js";

export function prepareTransposeConv16x8(context: PrepareContext, op: OperatorDef, layer: TransposeConvLayer): PreparedOp {
  const { batches, inputHeight, inputWidth, inputChannels, outputHeight, outputWidth, outputChannels } = layer;
  const { filterHeight, filterWidth, padTop, padLeft, activationMin, activationMax } = layer;
  const { weightData, inputIndex, outputIndex, outputElements, channelStride, macs } = layer;
  const strideHeight = layer.options.strideHeight;
  const strideWidth = layer.options.strideWidth;
  checkInt16ZeroPoint(op, layer.input, "input");
  checkInt16ZeroPoint(op, layer.output, "output");
  // TFLM reads any other bias type as int64, past the end of an int32 bias.
  const bias = readInt64Bias(context, op, layer.biasIndex, outputChannels, [TensorType.INT16, TensorType.INT64]);
  const biasHigh = bias.high;
  const biasLow = bias.low;
  const { multipliersQ15, totalShifts } = prepareInt64Requantization(context, op, layer.multipliers, layer.shifts);

  // An output element receives at most one partial sum per chunk of input
  // channels from each filter tap that lands on it.
  const chunk = INT16X8_PRODUCTS_PER_PARTIAL_SUM;
  const chunksPerTap = Math.ceil(inputChannels / chunk);
  const tapsPerOutput = Math.ceil(filterHeight / strideHeight) * Math.ceil(filterWidth / strideWidth);
  if (chunksPerTap * tapsPerOutput > SPLIT_SUM_MAX_TERMS) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): ${inputChannels} input channels and a ${filterHeight}x${filterWidth} filter ` +
        `at strides ${strideHeight}x${strideWidth} add more partial sums to one output than the int16 kernel accumulates exactly`,
    );
  }

  const scratch = context.requestScratch(outputElements * 8);

  let inputData: Int16Array = new Int16Array(0);
  let outputData: Int16Array = new Int16Array(0);
  let sums: Int32Array = new Int32Array(0);
  let sumsLow: Int32Array = new Int32Array(0);
  let sumsHigh: Int32Array = new Int32Array(0);
  return {
    macs,
    bind(memory: MemoryContext): void {
      inputData = memory.int16(inputIndex);
      outputData = memory.int16(outputIndex);
      sums = memory.scratchInt32(scratch, 2 * outputElements);
      sumsLow = sums.subarray(0, outputElements);
      sumsHigh = sums.subarray(outputElements, 2 * outputElements);
    },
    invoke(): void {
      let batch, inY, inX, c, filterY, filterX, outY, channel, weight, target, source, start, end, value, high, low, j;
      let row0, row1, row2, row3, partial0, partial1, partial2, partial3, x0, x1, x2, x3;
      sums.fill(0);

      source = 0;
      for (batch = 0; batch < batches; batch++) {
        for (inY = 0; inY < inputHeight; inY++) {
          const outYOrigin = inY * strideHeight - padTop;
          const firstFilterY = outYOrigin < 0 ? -outYOrigin : 0;
          const endFilterY = outputHeight - outYOrigin < filterHeight ? outputHeight - outYOrigin : filterHeight;
          for (inX = 0; inX < inputWidth; inX++, source += inputChannels) {
            const outXOrigin = inX * strideWidth - padLeft;
            const firstFilterX = outXOrigin < 0 ? -outXOrigin : 0;
            const endFilterX = outputWidth - outXOrigin < filterWidth ? outputWidth - outXOrigin : filterWidth;

            for (filterY = firstFilterY; filterY < endFilterY; filterY++) {
              outY = outYOrigin + filterY;
              for (filterX = firstFilterX; filterX < endFilterX; filterX++) {
                target = ((batch * outputHeight + outY) * outputWidth + outXOrigin + filterX) * outputChannels;
                weight = (filterY * filterWidth + filterX) * inputChannels;
                // Partial sums of at most 511 products, so that each stays
                // inside int32. Four output channels at a time share each
                // input value; the rest go one at a time.
                for (start = 0; start < inputChannels; start = end) {
                  end = start + chunk < inputChannels ? start + chunk : inputChannels;
                  for (channel = 0; channel < outputChannels - 3; channel += 4) {
                    row0 = weight + channel * channelStride;
                    row1 = row0 + channelStride;
                    row2 = row1 + channelStride;
                    row3 = row2 + channelStride;
                    partial0 = 0;
                    partial1 = 0;
                    partial2 = 0;
                    partial3 = 0;
                    for (c = start; c < end - 3; c += 4) {
                      j = source + c;
                      x0 = inputData[j];
                      x1 = inputData[j + 1];
                      x2 = inputData[j + 2];
                      x3 = inputData[j + 3];
                      j = row0 + c;
                      partial0 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                      j = row1 + c;
                      partial1 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                      j = row2 + c;
                      partial2 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                      j = row3 + c;
                      partial3 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    }
                    for (; c < end; c++) {
                      x0 = inputData[source + c];
                      partial0 += x0 * weightData[row0 + c];
                      partial1 += x0 * weightData[row1 + c];
                      partial2 += x0 * weightData[row2 + c];
                      partial3 += x0 * weightData[row3 + c];
                    }
                    j = target + channel;
                    sumsLow[j] += partial0 & 0xffff;
                    sumsHigh[j] += partial0 >> 16;
                    sumsLow[j + 1] += partial1 & 0xffff;
                    sumsHigh[j + 1] += partial1 >> 16;
                    sumsLow[j + 2] += partial2 & 0xffff;
                    sumsHigh[j + 2] += partial2 >> 16;
                    sumsLow[j + 3] += partial3 & 0xffff;
                    sumsHigh[j + 3] += partial3 >> 16;
                  }
                  for (; channel < outputChannels; channel++) {
                    row0 = weight + channel * channelStride;
                    partial0 = 0;
                    for (c = start; c < end; c++) partial0 += inputData[source + c] * weightData[row0 + c];
                    sumsLow[target + channel] += partial0 & 0xffff;
                    sumsHigh[target + channel] += partial0 >> 16;
                  }
                }
              }
            }
          }
        }
      }

      target = 0;
      for (c = 0; c < outputElements; c += outputChannels) {
        for (channel = 0; channel < outputChannels; channel++, target++) {
          high = splitSumHigh(sumsHigh[target], sumsLow[target]);
          low = splitSumLow(sumsHigh[target], sumsLow[target]);
          value = multiplyInt64ByQ15(
            addInt64High(high, low, biasHigh[channel], biasLow[channel]),
            addInt64Low(low, biasLow[channel]),
            multipliersQ15[channel],
            totalShifts[channel],
          );
          if (value < activationMin) value = activationMin;
          if (value > activationMax) value = activationMax;
          outputData[target] = value;
        }
      }
    },
  };
}
