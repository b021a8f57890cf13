// AVERAGE_POOL_2D on uint8 or int8 NHWC tensors with any zero points, under
// the model's requantization scheme. The kernel of ../pooling.ts takes int8
// and int16 under the "tflm" scheme first. A window covers only the
// in-bounds input taps (TFLite's rule for SAME padding), so the average
// divides by the count of those taps. The average is the scheme's rounding
// of the centered window sum S = sum(x - zx). MAX_POOL_2D compares stored
// integers, so the kernel of ../pooling.ts serves it under every scheme.
//
// PyTorch's explicit padding reaches these kernels as a PAD or PADV2
// operator followed by a VALID pool, so every window is full there.

import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { AverageRequantizer } from "../../runtime/requantization/scheme.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { PoolingPlan, checkWindowsNotEmpty, poolingTaps, preparePooling } from "../pooling.js";
import { QuantizedArray, perTensorQuantization, quantizedView } from "./elementwise_common.js";

export const affineAveragePool2dKernel: Kernel = {
  name: "AVERAGE_POOL_2D",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const plan = preparePooling(context, op, [TensorType.UINT8, TensorType.INT8], checkOutputQuantization);
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

function checkOutputQuantization(op: OperatorDef, _input: TensorDef, output: TensorDef): void {
  perTensorQuantization(op, output, "output");
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
