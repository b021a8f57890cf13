// Scheme "pytorch-qnnpack": the integers of PyTorch 1.13's qnnpack engine
// (PyTorch's fork of QNNPACK), established on the outputs of Debian's
// python3-torch 1.13.1+dfsg-4 on x86-64 for conv, linear, add, add_relu,
// cat and average pooling, ties included.
//
// Rounding, with fl() rounding to float32 (toFloat32) and rne rounding
// half to even:
// - conv and linear: the bias is pre-rounded to bq = rne(fl(b * fl(1 /
//   fl(sx * sw)))) (PyTorch's own float bias; an int32 bias, such as an
//   ONNX converter writes, is bq as stored), M = fl(fl(sx * sw) * fl(1 /
//   so)), y = rne(fl(fl(acc + bq) * M)) + zo. Ties go to even before the
//   zero point is added.
// - add: QNNPACK's integer add (qnnpack_common.ts), ties away from zero.
// - average pooling, both memory formats: rne(fl(fl(S) * fl(fl(si) /
//   fl(fl(so) * N)))) + zo for the window sum S of x - zi and divisor N.
// - cat: rne((x - zi) * si / so) + zo in double.
// - QUANTIZE: quantize_per_tensor, rne(fl(x * fl(1 / scale))) + zp.
//
// Range: acc + bq wraps as int32, as the engine's int32 accumulator does;
// then float32 takes over, exact for |acc + bq| < 2^24. Prepare rejects a
// float32 bias whose bq would leave int32: PyTorch saturates bq, and the
// saturated value makes acc + bq wrap.
//
// Cost: conv, linear and average pooling multiply in float32 at invoke,
// which an ESP32 runs as software floats and doubles; add is
// integer only.

import { channelWeightScales, checkDerivedParameter, checkRescaleParams, roundHalfToEven, toFloat32 } from "./common.js";
import { pytorchRescale, pytorchQuantizeReal } from "./pytorch_common.js";
import { pytorchIntegerBias, qnnpackAdd } from "./qnnpack_common.js";
import {
  AccumulatorLayer,
  AccumulatorRequantizer,
  AverageRequantizer,
  AveragePoolParams,
  RequantizationScheme,
} from "./scheme.js";

const SCHEME = "pytorch-qnnpack";

function accumulator(layer: AccumulatorLayer): AccumulatorRequantizer {
  const weightScales = channelWeightScales(SCHEME, layer);
  const inverseOutputScale = toFloat32(1 / layer.outputScale);
  checkDerivedParameter(SCHEME, "inverse output scale fl(1 / so)", inverseOutputScale, true);
  const multipliers = new Float32Array(layer.channels);
  for (let channel = 0; channel < layer.channels; channel++) {
    multipliers[channel] = toFloat32(toFloat32(layer.inputScale * weightScales[channel]) * inverseOutputScale);
    checkDerivedParameter(SCHEME, `multiplier fl(fl(sx * sw) * fl(1 / so)) of output channel ${channel}`, multipliers[channel], true);
  }

  const bias = pytorchIntegerBias(SCHEME, layer, weightScales);
  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      const biased = toFloat32((acc + bias[channel]) | 0);
      return roundHalfToEven(toFloat32(biased * multipliers[channel])) + outputZeroPoint;
    },
  };
}

function averagePool(params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams(SCHEME, params);
  const inputScale = toFloat32(params.inputScale);
  const outputScale = toFloat32(params.outputScale);
  // The multiplier of a window of N taps is largest for N = 1, where an
  // infinite one would turn an all-zero-point window (S = 0) into NaN. And
  // fl(so * N) must stay finite, or the multiplier of a large window drops
  // to 0. The second check covers windows of up to 2^24 taps.
  checkDerivedParameter(SCHEME, "average pooling multiplier fl(si / so)", toFloat32(inputScale / outputScale), true);
  checkDerivedParameter(SCHEME, "average pooling divisor scale fl(so * 2^24)", toFloat32(outputScale * 2 ** 24), true);
  const outputZeroPoint = params.outputZeroPoint;
  return {
    average(centeredSum: number, divisor: number): number {
      const multiplier = toFloat32(inputScale / toFloat32(outputScale * divisor));
      return roundHalfToEven(toFloat32(toFloat32(centeredSum) * multiplier)) + outputZeroPoint;
    },
  };
}

export const pytorchQnnpackScheme: RequantizationScheme = {
  name: "pytorch-qnnpack",
  description: "PyTorch 1.13 qnnpack engine: float32 requantization, ties to even, integer add",
  usesFloatAtInvoke: true,
  accumulator,
  add: (params) => qnnpackAdd("pytorch-qnnpack", params),
  rescale: (params) => pytorchRescale("pytorch-qnnpack", params),
  averagePool,
  quantizeReal: pytorchQuantizeReal,
};
