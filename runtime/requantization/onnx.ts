// Scheme "onnx": ONNX operator semantics, from the onnx.reference
// implementation (onnx/reference/ops/op_qlinear_conv.py,
// op_qlinear_matmul.py and op_quantize_linear.py, onnx 1.13 and later).
//
// Rounding, with fl() rounding to float32 (toFloat32) and rne rounding
// half to even; every result saturates in the kernel:
// - QLinearConv and QLinearMatMul: the scale M = fl(fl(sx * sw) / sy) is a
//   float32 product, while numpy multiplies the int32 sum acc + B by it in
//   double and adds the zero point before rounding:
//   y = rne((acc + B) * M + zy). An int32 bias B is added as stored; a
//   float32 bias b becomes rne(fl(b / fl(sx * sw))) (microq's choice: ONNX
//   stores int32 biases).
// - QuantizeLinear: rne(fl(x / y_scale)) + zp, the zero point outside.
// - add and rescaling copies: DequantizeLinear, the float32 operator and
//   QuantizeLinear composed, as a QDQ graph defines them:
//   y = rne(fl(fl(fl((a - za) * sa) + fl((b - zb) * sb)) / so)) + zo and
//   y = rne(fl(fl((x - zi) * si) / so)) + zo.
// - average pooling: the same composition with an exact window sum,
//   y = rne(fl(fl(fl(S * si) / N) / so)) + zo. NOTE: a runtime that sums
//   float32 values in some order may differ in the last bit of the mean.
//
// Range: (acc + B) wraps as int32, as numpy's int32 result does; the double
// product is exact for |acc + B| < 2^29.
//
// Cost: every requantization computes in float32 or double at invoke, which
// an ESP32 runs as software floats and doubles.

import { channelWeightScales, checkAddParams, checkRescaleParams, roundHalfToEven, saturateToInt32, toFloat32 } from "./common.js";
import {
  AccumulatorLayer,
  AccumulatorRequantizer,
  AddParams,
  AddRequantizer,
  AverageRequantizer,
  AveragePoolParams,
  RequantizationScheme,
  RescaleParams,
} from "./scheme.js";

function accumulator(layer: AccumulatorLayer): AccumulatorRequantizer {
  const weightScales = channelWeightScales("onnx", layer);
  const channels = layer.channels;
  const multipliers = new Float32Array(channels);
  const bias = new Int32Array(channels);
  for (let channel = 0; channel < channels; channel++) {
    const productScale = toFloat32(layer.inputScale * weightScales[channel]);
    multipliers[channel] = toFloat32(productScale / layer.outputScale);
    const storedBias = layer.bias;
    if (storedBias instanceof Int32Array) bias[channel] = storedBias[channel];
    else if (storedBias !== null) bias[channel] = saturateToInt32(roundHalfToEven(toFloat32(storedBias[channel] / productScale)));
  }

  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      return roundHalfToEven(((acc + bias[channel]) | 0) * multipliers[channel] + outputZeroPoint);
    },
  };
}

function add(params: AddParams): AddRequantizer {
  checkAddParams("onnx", params);
  const aScale = toFloat32(params.aScale);
  const aZeroPoint = params.aZeroPoint;
  const bScale = toFloat32(params.bScale);
  const bZeroPoint = params.bZeroPoint;
  const outputScale = toFloat32(params.outputScale);
  const outputZeroPoint = params.outputZeroPoint;
  return {
    add(a: number, b: number): number {
      const sum = toFloat32(toFloat32((a - aZeroPoint) * aScale) + toFloat32((b - bZeroPoint) * bScale));
      return roundHalfToEven(toFloat32(sum / outputScale)) + outputZeroPoint;
    },
  };
}

function rescale(params: RescaleParams): (x: number) => number {
  checkRescaleParams("onnx", params);
  const inputScale = toFloat32(params.inputScale);
  const inputZeroPoint = params.inputZeroPoint;
  const outputScale = toFloat32(params.outputScale);
  const outputZeroPoint = params.outputZeroPoint;
  return (x: number) => roundHalfToEven(toFloat32(toFloat32((x - inputZeroPoint) * inputScale) / outputScale)) + outputZeroPoint;
}

function averagePool(params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams("onnx", params);
  const inputScale = toFloat32(params.inputScale);
  const outputScale = toFloat32(params.outputScale);
  const outputZeroPoint = params.outputZeroPoint;
  return {
    average(centeredSum: number, divisor: number): number {
      // centeredSum * inputScale is exact in double for |centeredSum| < 2^29.
      const mean = toFloat32(toFloat32(centeredSum * inputScale) / divisor);
      return roundHalfToEven(toFloat32(mean / outputScale)) + outputZeroPoint;
    },
  };
}

/** QuantizeLinear: rne(fl(x / scale)) + zero point. */
function quantizeReal(real: number, scale: number, zeroPoint: number): number {
  return roundHalfToEven(toFloat32(toFloat32(real) / toFloat32(scale))) + zeroPoint;
}

export const onnxScheme: RequantizationScheme = {
  name: "onnx",
  description: "ONNX reference semantics: float32 scales, ties to even, saturate",
  usesFloatAtInvoke: true,
  accumulator,
  add,
  rescale,
  averagePool,
  quantizeReal,
};
