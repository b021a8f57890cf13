// FULLY_CONNECTED, int8 activations with int8 weights (per-tensor or
// per-channel) and int32 bias, bit-exact with TFLM's reference
// FullyConnected. The per-tensor multiplier multiplies input and weight
// scales in float32 before the double division, unlike conv, which TFLM does
// in double throughout.
//
// The operator is the matrix product of gemm.ts, one row a batch, with the
// input zero point folded into the bias. Rows are read in place when the
// depth is a whole number of words; otherwise each invoke first copies them,
// padded, to scratch memory.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef } from "../runtime/model.js";
import { quantizeMultiplier } from "../runtime/quantize_multiplier.js";
import { readFullyConnectedOptions } from "../runtime/schema/options.js";
import { TensorType } from "../runtime/tensor_types.js";
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
  readBias,
} from "./common.js";
import { GEMM_TILE_BYTES, createGemmPlan, gemm } from "./gemm.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareRequantization } from "./requantize.js";
import { packRows, sumRows } from "./weight_packing.js";

export const fullyConnectedKernel: Kernel = {
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
    let multipliers: Int32Array;
    let shifts: Int32Array;
    if (weights.scale.length > 1) {
      ({ multipliers, shifts } = perChannelMultipliers(op, input.scale[0], weights.scale, output.scale[0], units));
    } else {
      // float32 product of the scales, then a double division.
      const productScale = Math.fround(input.scale[0] * weights.scale[0]);
      const q = quantizeMultiplier(productScale / output.scale[0], `operator ${op.index} (FULLY_CONNECTED)`);
      multipliers = new Int32Array(units).fill(q.multiplierQ31);
      shifts = new Int32Array(units).fill(q.shift);
    }
    const bias = readBias(context, op, 2, units);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const weightsBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
    const packed = packRows(context, weightData, units, depth);
    const weightSums = sumRows(weightData, units, depth);
    const requantization = prepareRequantization(bias, weightSums, inputZeroPoint, multipliers, shifts);
    const plan = createGemmPlan(packed.words, packed.rowWords, requantization, outputZeroPoint, activationMin, activationMax);
    context.notePersistentBytes(requantization.byteLength + GEMM_TILE_BYTES);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const rowWords = packed.rowWords;
    // Activations live in the arena at offsets that are multiples of 16, but
    // a constant input may sit anywhere in the model.
    const inputAligned = !context.isConstant(inputIndex) || context.constantBytes(inputIndex).byteOffset % 4 === 0;
    const readsInPlace = depth % 4 === 0 && inputAligned;
    // Otherwise each invoke copies the input rows to scratch memory, padded to whole words.
    const scratch = readsInPlace ? -1 : context.requestScratch(batches * rowWords * 4);
    let inputData: Int8Array = new Int8Array(0);
    let inputWords: Int32Array = new Int32Array(0);
    let paddedRows: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
        if (readsInPlace) {
          inputWords = new Int32Array(inputData.buffer, inputData.byteOffset, batches * rowWords);
        } else {
          inputWords = memory.scratchInt32(scratch, batches * rowWords);
          paddedRows = new Int8Array(inputWords.buffer, inputWords.byteOffset, batches * rowWords * 4);
        }
      },
      invoke(): void {
        if (!readsInPlace) {
          // The padding bytes keep their old values, which is harmless because their weights are 0.
          let batch, source, destination, end;
          for (batch = 0, source = 0; batch < batches; batch++) {
            destination = batch * rowWords * 4;
            for (end = destination + depth; destination < end; destination++, source++) paddedRows[destination] = inputData[source];
          }
        }
        gemm(plan, inputWords, 0, rowWords, batches, outputData, 0, units, 0, units);
      },
    };
  },
};
