// The naive kernels by builtin operator code, and an op resolver for
// Interpreter's resolveKernel option that falls back to microq's own kernels
// for every other operator.

import { Kernel } from "../../kernels/kernel.js";
import { findKernel } from "../../kernels/registry.js";
import { naiveConv2dKernel } from "./conv2d.js";
import { naiveDepthwiseConv2dKernel } from "./depthwise_conv2d.js";
import { naiveFullyConnectedKernel } from "./fully_connected.js";

/** BuiltinOperator codes of the TFLite schema. */
const CONV_2D = 3;
const DEPTHWISE_CONV_2D = 4;
const FULLY_CONNECTED = 9;

export const naiveKernels: ReadonlyMap<number, Kernel> = new Map<number, Kernel>([
  [CONV_2D, naiveConv2dKernel],
  [DEPTHWISE_CONV_2D, naiveDepthwiseConv2dKernel],
  [FULLY_CONNECTED, naiveFullyConnectedKernel],
]);

/** Returns the naive kernel for `builtinCode`, else microq's kernel, else undefined. */
export function resolveNaiveKernel(builtinCode: number): Kernel | undefined {
  return naiveKernels.get(builtinCode) ?? findKernel(builtinCode);
}
