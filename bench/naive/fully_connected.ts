// Naive FULLY_CONNECTED for int8: line-by-line ports of TFLM's reference
// FullyConnected (per-tensor weights) and FullyConnectedPerChannel
// (tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h),
// the baseline for microq's optimized kernel. The C indexes these flat 2-D
// arrays directly, without Offset(), and so does this port. The per-tensor
// form adds the weights' zero point per multiply-accumulate as the C does,
// although prepare only accepts symmetric weights, where it is 0.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { readFullyConnectedOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import {
  activationRange,
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkRank,
  checkType,
  checkWeightQuantization,
  checkZeroPoint,
  describeTensor,
  perChannelMultipliers,
} from "../../kernels/common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../../kernels/kernel.js";
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
    checkInputCount(op, 2, 3);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const weights = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8]);
    checkType(op, weights, "weights", [TensorType.INT8]);
    checkType(op, output, "output", [TensorType.INT8]);
    checkRank(op, weights, "weights", 2);
    if (!context.isConstant(op.inputs[1])) {
      throw new UnsupportedError(`weights ${describeTensor(weights)} are computed at run time; FULLY_CONNECTED needs constant weights here`);
    }
    const options = readFullyConnectedOptions(context.reader, op);
    if (options.weightsFormat !== 0) {
      throw new UnsupportedError(`weights format ${options.weightsFormat} (shuffled) is not supported; convert with the default weights format`);
    }

    const [units, depth] = weights.shape;
    const outputShape = output.shape;
    if (outputShape.length === 0 || outputShape[outputShape.length - 1] !== units) {
      throw new InvalidModelError(
        `operator ${op.index} (FULLY_CONNECTED): output ${describeTensor(output)} shape [${outputShape}] must end in ${units} units; the file is corrupted`,
      );
    }
    const batches = units > 0 ? output.elementCount / units : 0;
    if (input.elementCount !== batches * depth) {
      throw new InvalidModelError(
        `operator ${op.index} (FULLY_CONNECTED): input ${describeTensor(input)} has ${input.elementCount} elements, ` +
          `expected ${batches} batches of ${depth}; the file is corrupted`,
      );
    }

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    checkWeightQuantization(op, weights, units, 0);
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    const outputZeroPoint = checkZeroPoint(op, output, "output");
    const bias = readOptionalBias(context, op, 2, units);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);

    const params: FullyConnectedParameters = {
      inputOffset: -inputZeroPoint,
      weightsOffset: weights.zeroPoint.length > 0 ? -weights.zeroPoint[0] : 0,
      outputOffset: outputZeroPoint,
      quantizedActivationMin: activationMin,
      quantizedActivationMax: activationMax,
      outputMultiplier: 0,
      outputShift: 0,
      batches,
      outputDepth: units,
      accumDepth: depth,
    };
    const perChannel = weights.scale.length > 1;
    let multipliers: Int32Array = new Int32Array(0);
    let shifts: Int32Array = new Int32Array(0);
    if (perChannel) {
      ({ multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], units));
      context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);
    } else {
      // As in microq's kernel and TFLM: the scales' product in float32, then a double division.
      const productScale = Math.fround(input.scale[0] * weights.scale[0]);
      const multiplier = quantizeMultiplier(productScale / output.scale[0], `operator ${op.index} (FULLY_CONNECTED)`);
      params.outputMultiplier = multiplier.multiplierQ31;
      params.outputShift = multiplier.shift;
    }

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const filterData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
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
