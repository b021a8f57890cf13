// Naive FULLY_CONNECTED for int8: line-by-line ports of TFLM's reference
// FullyConnected (per-tensor weights) and FullyConnectedPerChannel
// (tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h),
// the baseline for microq's optimized kernel. The C indexes these flat 2-D
// arrays directly, without Offset(), and so does this port. The per-tensor
// form adds the weights' zero point per multiply-accumulate as the C does,
// although prepare only accepts symmetric weights, where it is 0.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
import { prepareFullyConnectedLayer } from "../../kernels/layer_params.js";
import { readOptionalBias } from "./bias.js";

/** The fields of TFLM's FullyConnectedParams that the int8 kernels read, plus the sizes. */
interface FullyConnectedParameters {
  inputOffset: number;
  weightsOffset: number;
  outputOffset: number;
  quantizedActivationMin: number;
  quantizedActivationMax: number;
  /** Per-tensor multiplier and shift. fullyConnectedPerChannel takes one per unit instead. */
  outputMultiplier: number;
  outputShift: number;
  batches: number;
  outputDepth: number;
  accumDepth: number;
}

function fullyConnected(
  params: FullyConnectedParameters,
  inputData: Int8Array,
  filterData: Int8Array,
  biasData: Int32Array | null,
  outputData: Int8Array,
): void {
  const inputOffset = params.inputOffset;
  const filterOffset = params.weightsOffset;
  const outputOffset = params.outputOffset;
  const outputMultiplier = params.outputMultiplier;
  const outputShift = params.outputShift;
  const outputActivationMin = params.quantizedActivationMin;
  const outputActivationMax = params.quantizedActivationMax;
  const batches = params.batches;
  const outputDepth = params.outputDepth;
  const accumDepth = params.accumDepth;

  for (let b = 0; b < batches; b++) {
    for (let outC = 0; outC < outputDepth; outC++) {
      let acc = 0;
      for (let d = 0; d < accumDepth; d++) {
        const inputValue = inputData[b * accumDepth + d];
        const filterValue = filterData[outC * accumDepth + d];
        acc += (filterValue + filterOffset) * (inputValue + inputOffset);
      }
      if (biasData !== null) {
        acc += biasData[outC];
      }
      let accScaled = multiplyByQuantizedMultiplier(acc, outputMultiplier, outputShift);
      accScaled += outputOffset;
      accScaled = Math.max(accScaled, outputActivationMin);
      accScaled = Math.min(accScaled, outputActivationMax);
      outputData[outC + outputDepth * b] = accScaled;
    }
  }
}

function fullyConnectedPerChannel(
  params: FullyConnectedParameters,
  outputMultipliers: Int32Array,
  outputShifts: Int32Array,
  inputData: Int8Array,
  filterData: Int8Array,
  biasData: Int32Array | null,
  outputData: Int8Array,
): void {
  const inputOffset = params.inputOffset;
  const outputOffset = params.outputOffset;
  const outputActivationMin = params.quantizedActivationMin;
  const outputActivationMax = params.quantizedActivationMax;
  const batches = params.batches;
  const outputDepth = params.outputDepth;
  const accumDepth = params.accumDepth;

  for (let b = 0; b < batches; b++) {
    for (let outC = 0; outC < outputDepth; outC++) {
      let acc = 0;
      for (let d = 0; d < accumDepth; d++) {
        const inputValue = inputData[b * accumDepth + d];
        const filterValue = filterData[outC * accumDepth + d];
        acc += filterValue * (inputValue + inputOffset);
      }
      if (biasData !== null) {
        acc += biasData[outC];
      }
      let accScaled = multiplyByQuantizedMultiplier(acc, outputMultipliers[outC], outputShifts[outC]);
      accScaled += outputOffset;
      accScaled = Math.max(accScaled, outputActivationMin);
      accScaled = Math.min(accScaled, outputActivationMax);
      outputData[outC + outputDepth * b] = accScaled;
    }
  }
}

export const naiveFullyConnectedKernel: Kernel = {
  name: "FULLY_CONNECTED",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const layer = prepareFullyConnectedLayer(context, op);
    const { batches, units, depth, perChannel, inputZeroPoint, outputZeroPoint, multipliers, shifts } = layer;
    const { activationMin, activationMax, weightData: filterData } = layer;
    const weights = context.tensor(op.inputs[1]);
    const bias = readOptionalBias(context, op, 2, units);

    const params: FullyConnectedParameters = {
      inputOffset: -inputZeroPoint,
      weightsOffset: weights.zeroPoint.length > 0 ? -weights.zeroPoint[0] : 0,
      outputOffset: outputZeroPoint,
      quantizedActivationMin: activationMin,
      quantizedActivationMax: activationMax,
      outputMultiplier: units > 0 ? multipliers[0] : 0,
      outputShift: units > 0 ? shifts[0] : 0,
      batches,
      outputDepth: units,
      accumDepth: depth,
    };
    if (perChannel) context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        if (perChannel) {
          fullyConnectedPerChannel(params, multipliers, shifts, inputData, filterData, bias, outputData);
        } else {
          fullyConnected(params, inputData, filterData, bias, outputData);
        }
      },
    };
  },
};
