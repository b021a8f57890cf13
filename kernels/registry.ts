// Kernels by builtin operator code and by custom code. One operator may have
// several kernels: the int8 kernels tuned for TFLM's arithmetic come first
// and accept only what they were built for, and the affine kernels
// (any zero points, uint8, any requantization scheme) take the rest.

import { UnsupportedError } from "../runtime/errors.js";
import { OperatorDef } from "../runtime/model.js";
import { Kernel, PrepareContext, PreparedOp } from "./kernel.js";
import { conv2dKernel } from "./conv2d.js";
import { conv16x8Kernel } from "./conv16x8/conv16x8.js";
import { transposeConvKernel } from "./transpose_conv/transpose_conv.js";
import { depthwiseConv2dKernel } from "./depthwise_conv2d.js";
import { fullyConnectedKernel } from "./fully_connected.js";
import { averagePool2dKernel, maxPool2dKernel } from "./pooling.js";
import { softmaxKernel } from "./softmax.js";
import { reshapeKernel } from "./reshape.js";
import { quantizeKernel } from "./quantize.js";
import { svdfKernel } from "./svdf.js";
import { unidirectionalSequenceLstmKernel } from "./lstm/unidirectional_sequence_lstm.js";
import { dequantizeKernel } from "./dequantize.js";
import { meanKernel } from "./reduce/mean.js";
import { tflmAddKernel, tflmSubKernel } from "./elementwise/add_sub.js";
import { tflmMulKernel } from "./elementwise/mul.js";
import { affineAddKernel } from "./affine/add.js";
import { affineBatchMatMulKernel } from "./affine/batch_matmul.js";
import { affineConcatenationKernel } from "./affine/concatenation.js";
import { affineConv2dKernel } from "./affine/conv2d.js";
import { affineDepthwiseConv2dKernel } from "./affine/depthwise_conv2d.js";
import { affineDequantizeKernel } from "./affine/dequantize.js";
import { dynamicQuantizeLinearKernel } from "./affine/dynamic_quantize.js";
import { affineFullyConnectedKernel } from "./affine/fully_connected.js";
import { affinePadKernel, affinePadV2Kernel } from "./affine/pad.js";
import { affineAveragePool2dKernel } from "./affine/pooling.js";
import { affineQuantizeKernel } from "./affine/quantize.js";
import { affineTransposeKernel } from "./affine/transpose.js";
import { expandDimsKernel } from "./movement/expand_dims.js";
import { squeezeKernel } from "./movement/squeeze.js";
import { stridedSliceKernel } from "./movement/strided_slice.js";
import { affineHardSwishKernel, affineLogisticKernel } from "./affine/unary.js";
import { tflmHardSwishKernel } from "./activations/hard_swish.js";
import { tflmLeakyReluKernel } from "./activations/leaky_relu.js";
import { tflmLogisticKernel, tflmTanhKernel } from "./activations/logistic_tanh.js";
import { tflmRelu6Kernel, tflmReluKernel } from "./activations/relu.js";

/** BuiltinOperator codes of the TFLite schema, each with its kernels in the order they are offered the operator. */
const KERNELS_BY_CODE: ReadonlyArray<[number, readonly Kernel[]]> = [
  [0, [tflmAddKernel, affineAddKernel]], // ADD
  [1, [averagePool2dKernel, affineAveragePool2dKernel]], // AVERAGE_POOL_2D
  [2, [affineConcatenationKernel]], // CONCATENATION
  [3, [conv16x8Kernel, conv2dKernel, affineConv2dKernel]], // CONV_2D
  [4, [depthwiseConv2dKernel, affineDepthwiseConv2dKernel]], // DEPTHWISE_CONV_2D
  [6, [dequantizeKernel, affineDequantizeKernel]], // DEQUANTIZE
  [9, [fullyConnectedKernel, affineFullyConnectedKernel]], // FULLY_CONNECTED
  [14, [tflmLogisticKernel, affineLogisticKernel]], // LOGISTIC
  [17, [maxPool2dKernel]], // MAX_POOL_2D
  [18, [tflmMulKernel]], // MUL
  [19, [tflmReluKernel]], // RELU
  [21, [tflmRelu6Kernel]], // RELU6
  [22, [reshapeKernel]], // RESHAPE
  [25, [softmaxKernel]], // SOFTMAX
  [27, [svdfKernel]], // SVDF
  [28, [tflmTanhKernel]], // TANH
  [34, [affinePadKernel]], // PAD
  [39, [affineTransposeKernel]], // TRANSPOSE
  [40, [meanKernel]], // MEAN
  [41, [tflmSubKernel]], // SUB
  [43, [squeezeKernel]], // SQUEEZE
  [45, [stridedSliceKernel]], // STRIDED_SLICE
  [44, [unidirectionalSequenceLstmKernel]], // UNIDIRECTIONAL_SEQUENCE_LSTM
  [60, [affinePadV2Kernel]], // PADV2
  [67, [transposeConvKernel]], // TRANSPOSE_CONV
  [70, [expandDimsKernel]], // EXPAND_DIMS
  [98, [tflmLeakyReluKernel]], // LEAKY_RELU
  [114, [quantizeKernel, affineQuantizeKernel]], // QUANTIZE
  [117, [tflmHardSwishKernel, affineHardSwishKernel]], // HARD_SWISH
  [126, [affineBatchMatMulKernel]], // BATCH_MATMUL
];

/** Custom operators by custom code. */
const KERNELS_BY_CUSTOM_CODE: ReadonlyArray<[string, readonly Kernel[]]> = [
  ["MICROQ_DYNAMIC_QUANTIZE_LINEAR", [dynamicQuantizeLinearKernel]],
];

/**
 * Combines kernels of one operator into one: prepare() goes to the first
 * kernel that accepts the operator. The last kernel normally has no
 * `accepts`, so its prepare() reports what is unsupported.
 */
function firstAccepting(kernels: readonly Kernel[]): Kernel {
  if (kernels.length === 1) return kernels[0];
  return {
    name: kernels[0].name,
    prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
      for (const kernel of kernels) {
        if (kernel.accepts === undefined || kernel.accepts(context, op)) return kernel.prepare(context, op);
      }
      throw new UnsupportedError(
        `no ${op.name} kernel accepts operator ${op.index} with the tensor types and ` +
          `the requantization scheme "${context.scheme.name}" of this model`,
      );
    },
  };
}

const kernels = new Map<number, Kernel>(KERNELS_BY_CODE.map(([code, list]) => [code, firstAccepting(list)]));
const customKernels = new Map<string, Kernel>(
  KERNELS_BY_CUSTOM_CODE.map(([code, list]) => [code, firstAccepting(list)]),
);

export function findKernel(builtinCode: number): Kernel | undefined {
  return kernels.get(builtinCode);
}

/** Returns the kernel of a custom operator, by its custom code. */
export function findCustomKernel(customCode: string): Kernel | undefined {
  return customKernels.get(customCode);
}

/** Names of all supported operators, builtin and custom, for inspect and error messages. */
export function supportedOperatorNames(): string[] {
  const names = KERNELS_BY_CODE.map(([, list]) => list[0].name);
  for (const [code] of KERNELS_BY_CUSTOM_CODE) names.push(code);
  return names.sort();
}
