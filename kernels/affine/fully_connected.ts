// FULLY_CONNECTED with uint8 or int8 activations and uint8 or int8 weights
// [units, depth] (per-tensor or per-channel along dimension 0, any zero
// points). An input of any rank is read as [batches, depth] rows; with
// keep_num_dims the output keeps the input's leading dimensions. The output
// is requantized by the model's scheme, or is the raw int32 accumulator
// (ONNX MatMulInteger with a constant right operand).
//
// Each output is one dot product of an input row with a weight row, with
// the zero points folded as accumulator_common.ts describes.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { readFullyConnectedOptions } from "../../runtime/schema/options.js";
import { checkRank, describeTensor } from "../common.js";
import { layerOperands } from "../conv_geometry.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ROW_BLOCK,
  AccumulatorOutputArray,
  QuantizedArray,
  channelOffsets,
  checkAccumulatorDepth,
  dotProducts,
  isRawOutput,
  outputView,
  prepareOutputStage,
  quantizedView,
  readAffineBias,
  readAffineWeights,
  readInputQuantization,
} from "./accumulator_common.js";

export const affineFullyConnectedKernel: Kernel = {
  name: "FULLY_CONNECTED",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const [input, filter, output] = layerOperands(context, op);
    checkRank(op, filter, "weights", 2);
    const options = readFullyConnectedOptions(context.reader, op);
    if (options.weightsFormat !== 0) {
      throw new UnsupportedError(
        `operator ${op.index} (FULLY_CONNECTED) has weights format ${options.weightsFormat} (shuffled); convert with the default weights format`,
      );
    }

    const [units, depth] = filter.shape;
    const inputShape = input.shape;
    const outputShape = output.shape;
    if (outputShape.length === 0 || outputShape[outputShape.length - 1] !== units) {
      throw new InvalidModelError(
        `operator ${op.index} (FULLY_CONNECTED): output ${describeTensor(output)} shape [${outputShape}] must end in ${units} units; the file is corrupted`,
      );
    }
    const batches = depth > 0 ? input.elementCount / depth : 0;
    if (!Number.isInteger(batches) || output.elementCount !== batches * units) {
      throw new InvalidModelError(
        `operator ${op.index} (FULLY_CONNECTED): input ${describeTensor(input)} of shape [${inputShape}] and output of shape ` +
          `[${outputShape}] do not make whole rows of depth ${depth} and ${units} units; the file is corrupted`,
      );
    }
    if (options.keepNumDims) {
      const leadingDimensionsMatch =
        inputShape.length === outputShape.length &&
        inputShape[inputShape.length - 1] === depth &&
        inputShape.slice(0, -1).every((dimension, i) => dimension === outputShape[i]);
      if (!leadingDimensionsMatch) {
        throw new InvalidModelError(
          `operator ${op.index} (FULLY_CONNECTED) keeps the input's dimensions, but input shape [${inputShape}] and ` +
            `output shape [${outputShape}] differ in more than the last dimension (${depth} to ${units}); the file is corrupted`,
        );
      }
    }

    const raw = isRawOutput(output);
    const inputQuantization = readInputQuantization(op, input, "input", !raw);
    const weights = readAffineWeights(context, op, 1, units, 0, !raw);
    const bias = readAffineBias(context, op, 2, units);
    checkAccumulatorDepth(op, depth, `an input depth of ${depth}`);
    const stage = prepareOutputStage(
      context, op, "fully_connected", inputQuantization, weights.scales, bias, output, units, options.activation,
    );
    const { requantizer, min, max } = stage;
    const weightZeroPoints = weights.zeroPoints;
    const hasWeightZeroPoints = weights.hasZeroPoints;
    const weightData = weights.data;
    const offsets = channelOffsets(weights, units, depth, depth, 1, inputQuantization.zeroPoint);
    const dots = new Int32Array(ROW_BLOCK);
    context.notePersistentBytes(offsets.byteLength + dots.byteLength);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    let inputData: QuantizedArray = new Uint8Array(0);
    let outputData: AccumulatorOutputArray = new Uint8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = quantizedView(memory, inputIndex, input.type);
        outputData = outputView(memory, outputIndex, output.type);
      },
      invoke(): void {
        let batch, rowStart, rowEnd, unit, k, count, j, inputSum, acc, value;
        let outputOffset = 0;
        for (batch = 0; batch < batches; batch++) {
          rowStart = batch * depth;
          rowEnd = rowStart + depth;
          inputSum = 0;
          if (hasWeightZeroPoints) {
            for (k = rowStart; k < rowEnd; k++) inputSum += inputData[k];
          }

          for (unit = 0; unit < units; unit += ROW_BLOCK) {
            count = units - unit < ROW_BLOCK ? units - unit : ROW_BLOCK;
            dotProducts(inputData, rowStart, weightData, unit, depth, count, dots);
            for (j = 0; j < count; j++) {
              acc = dots[j] - weightZeroPoints[unit + j] * inputSum - offsets[unit + j];
              value = requantizer.requantize(acc, unit + j);
              if (value < min) value = min;
              else if (value > max) value = max;
              outputData[outputOffset + unit + j] = value;
            }
          }
          outputOffset += units;
        }
      },
    };
  },
};
