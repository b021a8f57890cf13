// FULLY_CONNECTED, int8 activations with int8 weights (per-tensor or
// per-channel) and int32 bias, as TFLM's reference FullyConnected. The
// per-tensor multiplier multiplies input and weight scales in float32 before
// the double division, unlike conv, which TFLM does in double throughout.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../runtime/fixedpoint.js";
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
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

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

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const weightsBytes = context.constantBytes(op.inputs[1]);
    const weightData = new Int8Array(weightsBytes.buffer, weightsBytes.byteOffset, weightsBytes.byteLength);
    let inputData: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        const input = inputData;
        const filter = weightData;
        const out = outputData;
        const inputOffset = -inputZeroPoint;
        let outIndex = 0;
        for (let batch = 0; batch < batches; batch++) {
          const inputBase = batch * depth;
          for (let unit = 0; unit < units; unit++) {
            const filterBase = unit * depth;
            // Range: |acc| <= depth * 127 * 255 plus |bias|, inside int32 for depth < 2^16.
            let acc = bias[unit];
            for (let d = 0; d < depth; d++) {
              acc += filter[filterBase + d] * (input[inputBase + d] + inputOffset);
            }
            let value = multiplyByQuantizedMultiplier(acc, multipliers[unit], shifts[unit]) + outputZeroPoint;
            if (value < activationMin) value = activationMin;
            if (value > activationMax) value = activationMax;
            out[outIndex++] = value;
          }
        }
      },
    };
  },
};
