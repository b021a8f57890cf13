// int8 TRANSPOSE_CONV, bit-exact with TFLM's reference_integer_ops::
// TransposeConv (reference/integer_ops/transpose_conv.h, tflite-micro commit
// 90b983c2). Every input pixel scatters (input + input_offset) * weight into
// an int32 scratch tensor of the output's shape. Then each element gets the
// int32 bias, the int32 MultiplyByQuantizedMultiplier, the output zero
// point and the activation clamp.
//
// The scatter here sums one output channel's products over the input
// channels before adding them to scratch. Scratch wraps modulo 2^32 on
// every store, as TFLM's int32 adds do in practice, and addition modulo 2^32
// does not depend on the order, so the result is the same.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { checkZeroPoint, readBias } from "../common.js";
import { MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { BIAS_INPUT, TransposeConvLayer } from "./layer.js";

export function prepareTransposeConvInt8(context: PrepareContext, op: OperatorDef, layer: TransposeConvLayer): PreparedOp {
  const { batches, inputHeight, inputWidth, inputChannels, outputHeight, outputWidth, outputChannels } = layer;
  const { filterHeight, filterWidth, padTop, padLeft, multipliers, shifts, activationMin, activationMax } = layer;
  const { weightData, inputIndex, outputIndex, outputElements, channelStride, macs } = layer;
  const strideHeight = layer.options.strideHeight;
  const strideWidth = layer.options.strideWidth;
  const inputOffset = -checkZeroPoint(op, layer.input, "input");
  const outputZeroPoint = checkZeroPoint(op, layer.output, "output");
  const bias = readBias(context, op, BIAS_INPUT, outputChannels);

  const accumulatorScratch = context.requestScratch(outputElements * 4);
  const pixelScratch = context.requestScratch(inputChannels * 4);

  let inputData: Int8Array = new Int8Array(0);
  let outputData: Int8Array = new Int8Array(0);
  let accumulators: Int32Array = new Int32Array(0);
  let pixel: Int32Array = new Int32Array(0);
  return {
    macs,
    bind(memory: MemoryContext): void {
      inputData = memory.int8(inputIndex);
      outputData = memory.int8(outputIndex);
      accumulators = memory.scratchInt32(accumulatorScratch, outputElements);
      pixel = memory.scratchInt32(pixelScratch, inputChannels);
    },
    invoke(): void {
      let batch, inY, inX, c, filterY, filterX, outY, channel, weight, target, source, value, j;
      let row0, row1, row2, row3, partial0, partial1, partial2, partial3, x0, x1, x2, x3;
      accumulators.fill(0);

      source = 0;
      for (batch = 0; batch < batches; batch++) {
        for (inY = 0; inY < inputHeight; inY++) {
          const outYOrigin = inY * strideHeight - padTop;
          const firstFilterY = outYOrigin < 0 ? -outYOrigin : 0;
          const endFilterY = outputHeight - outYOrigin < filterHeight ? outputHeight - outYOrigin : filterHeight;
          for (inX = 0; inX < inputWidth; inX++) {
            const outXOrigin = inX * strideWidth - padLeft;
            const firstFilterX = outXOrigin < 0 ? -outXOrigin : 0;
            const endFilterX = outputWidth - outXOrigin < filterWidth ? outputWidth - outXOrigin : filterWidth;
            for (c = 0; c < inputChannels; c++) pixel[c] = inputData[source + c] + inputOffset;
            source += inputChannels;

            for (filterY = firstFilterY; filterY < endFilterY; filterY++) {
              outY = outYOrigin + filterY;
              for (filterX = firstFilterX; filterX < endFilterX; filterX++) {
                target = ((batch * outputHeight + outY) * outputWidth + outXOrigin + filterX) * outputChannels;
                weight = (filterY * filterWidth + filterX) * inputChannels;
                // Each product is within 255 * 128 in magnitude, so every sum
                // is exact in a double for any realistic depth, and the
                // Int32Array store wraps it modulo 2^32. Four output channels
                // at a time share each input value; the rest go one at a time.
                for (channel = 0; channel < outputChannels - 3; channel += 4) {
                  row0 = weight + channel * channelStride;
                  row1 = row0 + channelStride;
                  row2 = row1 + channelStride;
                  row3 = row2 + channelStride;
                  partial0 = 0;
                  partial1 = 0;
                  partial2 = 0;
                  partial3 = 0;
                  for (c = 0; c < inputChannels - 3; c += 4) {
                    x0 = pixel[c];
                    x1 = pixel[c + 1];
                    x2 = pixel[c + 2];
                    x3 = pixel[c + 3];
                    j = row0 + c;
                    partial0 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row1 + c;
                    partial1 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row2 + c;
                    partial2 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                    j = row3 + c;
                    partial3 += x0 * weightData[j] + x1 * weightData[j + 1] + x2 * weightData[j + 2] + x3 * weightData[j + 3];
                  }
                  for (; c < inputChannels; c++) {
                    x0 = pixel[c];
                    partial0 += x0 * weightData[row0 + c];
                    partial1 += x0 * weightData[row1 + c];
                    partial2 += x0 * weightData[row2 + c];
                    partial3 += x0 * weightData[row3 + c];
                  }
                  j = target + channel;
                  accumulators[j] += partial0;
                  accumulators[j + 1] += partial1;
                  accumulators[j + 2] += partial2;
                  accumulators[j + 3] += partial3;
                }
                for (; channel < outputChannels; channel++) {
                  row0 = weight + channel * channelStride;
                  partial0 = 0;
                  for (c = 0; c < inputChannels; c++) partial0 += pixel[c] * weightData[row0 + c];
                  accumulators[target + channel] += partial0;
                }
              }
            }
          }
        }
      }

      target = 0;
      for (c = 0; c < outputElements; c += outputChannels) {
        for (channel = 0; channel < outputChannels; channel++, target++) {
          value = (accumulators[target] + bias[channel]) | 0;
          value = (multiplyByQuantizedMultiplier(value, multipliers[channel], shifts[channel]) + outputZeroPoint) | 0;
          if (value < activationMin) value = activationMin;
          if (value > activationMax) value = activationMax;
          outputData[target] = value;
        }
      }
    },
  };
}
