// Scheme "pytorch-onednn": the integers of PyTorch 1.13's onednn engine,
// established on the outputs of Debian's python3-torch 1.13.1+dfsg-4 on
// x86-64 (AVX-512 VNNI) for conv, linear, add, add_relu, cat and average
// pooling, ties included.
//
// Rounding, with fl() rounding to float32 (toFloat32) and rne rounding
// half to even:
// - conv and linear: the bias stays float, b' = fl(b * fl(fl(1 / sx) *
//   fl(1 / sw))); o = fl(fl(1 / so) / fl(fl(1 / sx) * fl(1 / sw)));
//   t = fl(fl(fl(acc) + b') * o); y = rne(fl(t + zo)). The zero point is
//   added in float32 before rounding, so ties go to the even value of
//   t + zo. A fused ReLU clamps t at 0, which equals clamping y at zo
//   afterwards. An int32 bias bq (from an ONNX converter) first becomes
//   b = fl(bq * fl(sx * sw)). That conversion is microq's choice, because
//   the engine only ever receives PyTorch's float bias.
// - add: rne(((a - za) * sa + (b - zb) * sb) / so) + zo in double.
// - average pooling, for the window sum S of x - zi and the divisor N: a
//   contiguous (NCHW) input gives rne(S * si / (so * N) + zo) in double,
//   with the zero point inside the tie-break. A channels_last input gives
//   rne(fl(fl(S) * fl(si / (so * N)))) + zo, the multiplier computed in
//   double and rounded to float32.
// - cat: rne((x - zi) * si / so) + zo in double.
// - QUANTIZE: quantize_per_tensor, rne(fl(x * fl(1 / scale))) + zp.
//
// Range: acc converts to float32 exactly for |acc| < 2^24 and rounds
// beyond, as the engine's conversion does. Prepare rejects a bias that is
// not finite, and scales for which 1 / sx, 1 / sw, their product, o or b'
// overflow float32, where the engine would compute with Infinity or NaN.
//
// Cost: conv, linear, add and average pooling compute in float32 or double
// at invoke, which an ESP32 runs as software floats and doubles.

import {
  channelWeightScales,
  checkAddParams,
  checkDerivedParameter,
  checkFloatBias,
  checkRescaleParams,
  roundHalfToEven,
  toFloat32,
} from "./common.js";
import { pytorchQuantizeReal, pytorchRescale } from "./pytorch_common.js";
import {
  AccumulatorLayer,
  AccumulatorRequantizer,
  AddParams,
  AddRequantizer,
  AverageRequantizer,
  AveragePoolParams,
  RequantizationScheme,
} from "./scheme.js";

const SCHEME = "pytorch-onednn";

function accumulator(layer: AccumulatorLayer): AccumulatorRequantizer {
  const weightScales = channelWeightScales(SCHEME, layer);
  const channels = layer.channels;
  const inverseInputScale = toFloat32(1 / layer.inputScale);
  const inverseOutputScale = toFloat32(1 / layer.outputScale);
  checkDerivedParameter(SCHEME, "inverse input scale fl(1 / sx)", inverseInputScale, true);
  checkDerivedParameter(SCHEME, "inverse output scale fl(1 / so)", inverseOutputScale, true);

  const outputMultipliers = new Float32Array(channels);
  const scaledBias = new Float32Array(channels);
  const bias = layer.bias;
  for (let channel = 0; channel < channels; channel++) {
    const inverseWeightScale = toFloat32(1 / weightScales[channel]);
    checkDerivedParameter(SCHEME, `inverse weight scale fl(1 / sw) of output channel ${channel}`, inverseWeightScale, true);
    const inverseProductScale = toFloat32(inverseInputScale * inverseWeightScale);
    checkDerivedParameter(SCHEME, `inverse product scale fl(fl(1 / sx) * fl(1 / sw)) of output channel ${channel}`, inverseProductScale, true);
    outputMultipliers[channel] = toFloat32(inverseOutputScale / inverseProductScale);
    checkDerivedParameter(SCHEME, `output multiplier of output channel ${channel}`, outputMultipliers[channel], true);
    if (bias === null) continue;
    scaledBias[channel] = toFloat32(realBias(layer, weightScales, channel) * inverseProductScale);
    // b' may underflow to 0. Then |b'| < 2^-149, and |b' * o| < 2^-21
    // for any float32 o, too small to move the rounded output.
    checkDerivedParameter(SCHEME, `scaled bias b' of output channel ${channel}`, scaledBias[channel], false);
  }

  const outputZeroPoint = layer.outputZeroPoint;
  return {
    requantize(acc: number, channel: number): number {
      const scaled = toFloat32(toFloat32(toFloat32(acc) + scaledBias[channel]) * outputMultipliers[channel]);
      return roundHalfToEven(toFloat32(scaled + outputZeroPoint));
    },
  };
}

/**
 * Bias of an output channel in real units, checked to be finite: a float32
 * bias as stored, an int32 bias bq as fl(bq * fl(sx * sw)).
 */
function realBias(layer: AccumulatorLayer, weightScales: Float64Array, channel: number): number {
  const bias = layer.bias!;
  if (!(bias instanceof Int32Array)) {
    checkFloatBias(SCHEME, channel, bias[channel]);
    return bias[channel];
  }
  const productScale = toFloat32(layer.inputScale * weightScales[channel]);
  checkDerivedParameter(SCHEME, `bias scale fl(sx * sw) of output channel ${channel}`, productScale, true);
  const real = toFloat32(bias[channel] * productScale);
  checkDerivedParameter(SCHEME, `real bias fl(${bias[channel]} * fl(sx * sw)) of output channel ${channel}`, real, false);
  return real;
}

function add(params: AddParams): AddRequantizer {
  checkAddParams(SCHEME, params);
  const aScale = params.aScale;
  const aZeroPoint = params.aZeroPoint;
  const bScale = params.bScale;
  const bZeroPoint = params.bZeroPoint;
  const outputScale = params.outputScale;
  const outputZeroPoint = params.outputZeroPoint;
  return {
    add(a: number, b: number): number {
      return roundHalfToEven(((a - aZeroPoint) * aScale + (b - bZeroPoint) * bScale) / outputScale) + outputZeroPoint;
    },
  };
}

function averagePool(params: AveragePoolParams): AverageRequantizer {
  checkRescaleParams(SCHEME, params);
  const inputScale = params.inputScale;
  const outputScale = params.outputScale;
  const outputZeroPoint = params.outputZeroPoint;
  if (params.memoryFormat === "channels_last") {
    // The multiplier of a window of N taps is largest for N = 1. An
    // infinite one would turn an all-zero-point window (S = 0) into NaN.
    checkDerivedParameter(SCHEME, "average pooling multiplier fl(si / so)", toFloat32(inputScale / outputScale), true);
    return {
      average(centeredSum: number, divisor: number): number {
        const multiplier = toFloat32(inputScale / (outputScale * divisor));
        return roundHalfToEven(toFloat32(toFloat32(centeredSum) * multiplier)) + outputZeroPoint;
      },
    };
  }
  return {
    average(centeredSum: number, divisor: number): number {
      return roundHalfToEven((centeredSum * inputScale) / (outputScale * divisor) + outputZeroPoint);
    },
  };
}

export const pytorchOnednnScheme: RequantizationScheme = {
  name: "pytorch-onednn",
  description: "PyTorch 1.13 onednn engine: float32 requantization with the zero point inside the tie-break",
  usesFloatAtInvoke: true,
  accumulator,
  add,
  rescale: (params) => pytorchRescale("pytorch-onednn", params),
  averagePool,
  quantizeReal: pytorchQuantizeReal,
};
