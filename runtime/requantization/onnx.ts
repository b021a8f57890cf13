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
// product is exact for |acc + B| < 2^29. Prepare rejects a float32 bias
// whose B would leave int32 and an M that is 0 or infinite in float32.
//
// Cost: every requantization computes in float32 or double at invoke, which
// an ESP32 runs as software floats and doubles.

import {
  channelWeightScales,
  checkAddParams,
  checkDerivedParameter,
  checkRescaleParams,
  int32ChannelBias,
  roundHalfToEven,
  toFloat32,
} from "./common.js";
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
  const productScales = new Float64Array(channels);
  const multipliers = new Float32Array(channels);
  for (let channel = 0; channel < channels; channel++) {
    productScales[channel] = toFloat32(layer.inputScale * weightScales[channel]);
    multipliers[channel] = toFloat32(productScales[channel] / layer.outputScale);
    checkDerivedParameter("onnx", `multiplier fl(fl(sx * sw) / so) of output channel ${channel}`, multipliers[channel], true);
  }
  const bias = int32ChannelBias("onnx", layer, (real, channel) => roundHalfToEven(toFloat32(real / productScales[channel])));

  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      return roundHalfToEven(((acc + bias[channel]) | 0) * multipliers[channel] + outputZeroPoint);
    },
  };
}

/**
 * Returns fl(scale), checked to be finite and nonzero. A scale that passed
 * checkScale as a double can still leave the float32 range.
 */
function float32Scale(scaleName: string, scale: number): number {
  const rounded = toFloat32(scale);
  checkDerivedParameter("onnx", `${scaleName} fl(${scale})`, rounded, true);
  return rounded;
}

function add(params: AddParams): AddRequantizer {
  checkAddParams("onnx", params);
  const aScale = float32Scale("first input scale", params.aScale);
  const aZeroPoint = params.aZeroPoint;
  const bScale = float32Scale("second input scale", params.bScale);
  const bZeroPoint = params.bZeroPoint;
  const outputScale = float32Scale("output scale", params.outputScale);
  const outputZeroPoint = params.outputZeroPoint;
  // A centered 8-bit input is at most 255 in magnitude. Within that bound
  // neither dequantized input overflows, so their sum is never
  // Infinity - Infinity = NaN.
  checkDerivedParameter("onnx", "largest dequantized first input fl(255 * sa)", toFloat32(255 * aScale), true);
  checkDerivedParameter("onnx", "largest dequantized second input fl(255 * sb)", toFloat32(255 * bScale), true);
  return {
    add(a: number, b: number): number {
      const sum = toFloat32(toFloat32((a - aZeroPoint) * aScale) + toFloat32((b - bZeroPoint) * bScale));
      return roundHalfToEven(toFloat32(sum / outputScale)) + outputZeroPoint;
    },
  };
}

function rescale(params: RescaleParams): (x: number) => number {
  checkRescaleParams("onnx", params);
  const inputScale = float32Scale("input scale", params.inputScale);
  const inputZeroPoint = params.inputZeroPoint;
  const outputScale = float32Scale("output scale", params.outputScale);
  const outputZeroPoint = params.outputZeroPoint;
  return (x: number) => roundHalfToEven(toFloat32(toFloat32((x - inputZeroPoint) * inputScale) / outputScale)) + outputZeroPoint;
}

function averagePool(params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams("onnx", params);
  const inputScale = float32Scale("input scale", params.inputScale);
  const outputScale = float32Scale("output scale", params.outputScale);
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
