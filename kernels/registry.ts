// Kernels by builtin operator code.

import { Kernel } from "./kernel.js";
import { conv2dKernel } from "./conv2d.js";
import { depthwiseConv2dKernel } from "./depthwise_conv2d.js";
import { fullyConnectedKernel } from "./fully_connected.js";
import { averagePool2dKernel, maxPool2dKernel } from "./pooling.js";
import { softmaxKernel } from "./softmax.js";
import { reshapeKernel } from "./reshape.js";
import { quantizeKernel } from "./quantize.js";
import { dequantizeKernel } from "./dequantize.js";

/** BuiltinOperator codes of the TFLite schema for the operators implemented here. */
const KERNELS_BY_CODE: ReadonlyArray<[number, Kernel]> = [
  [1, averagePool2dKernel], // AVERAGE_POOL_2D
  [3, conv2dKernel], // CONV_2D
  [4, depthwiseConv2dKernel], // DEPTHWISE_CONV_2D
  [6, dequantizeKernel], // DEQUANTIZE
  [9, fullyConnectedKernel], // FULLY_CONNECTED
  [17, maxPool2dKernel], // MAX_POOL_2D
  [22, reshapeKernel], // RESHAPE
  [25, softmaxKernel], // SOFTMAX
  [114, quantizeKernel], // QUANTIZE
];

const kernels = new Map<number, Kernel>(KERNELS_BY_CODE);

export function findKernel(builtinCode: number): Kernel | undefined {
  return kernels.get(builtinCode);
}

/** Names of all supported operators, for inspect and error messages. */
export function supportedOperatorNames(): string[] {
  return KERNELS_BY_CODE.map(([, kernel]) => kernel.name).sort();
}
