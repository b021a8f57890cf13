// MEAN of int8 or int16 tensors over a constant set of axes, bit-exact with
// TFLM's reference kernel (micro/kernels/reduce_common.cc and
// QuantizedMeanOrSum in kernels/internal/reference/reduce.h, TFLM commit
// 90b983c2):
//   sum   = the int32 sum of the raw input values of each output element,
//           wrapping on overflow
//   mean  = multiplyByQuantizedMultiplier(sum - inputZeroPoint * count,
//           rescale folded with 1 / count) + outputZeroPoint, clamped
// where count is the number of reduced elements and rescale is
// inputScale / outputScale in double. TFLM takes this path even when input
// and output share their quantization. Before commit b7a857ea (April 2023)
// it divided the sum by the count with truncation in that case instead.
// keep_dims changes only the output's shape, never the values or their order.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { quantizeMultiplier } from "../../runtime/quantize_multiplier.js";
import { readReducerOptions } from "../../runtime/schema/options_reduce.js";
import { TensorType } from "../../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkType,
  checkZeroPoint,
  describeTensor,
  typeRange,
} from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { foldCountIntoMultiplier } from "./mean_multiplier.js";
import { planReduction, ReductionPlan } from "./reduction_plan.js";

type IntegerArray = Int8Array | Int16Array;

export const meanKernel: Kernel = {
  name: "MEAN",
  accepts: (context, op) => context.scheme.name === "tflm",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    if (context.scheme.name !== "tflm") {
      throw new UnsupportedError(
        `operator ${op.index} (MEAN) runs only under the "tflm" requantization scheme, and this model uses ` +
          `"${context.scheme.name}"; quantize the model with the TFLite converter`,
      );
    }
    checkInputCount(op, 2, 2);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const axisTensor = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8, TensorType.INT16]);
    checkType(op, output, "output", [input.type]);
    checkType(op, axisTensor, "axis", [TensorType.INT32]);
    // An empty axis tensor has no data to store, and reduces nothing.
    const isEmptyAxis = axisTensor.elementCount === 0;
    if (!isEmptyAxis && !context.isConstant(axisTensor.index)) {
      throw new UnsupportedError(
        `operator ${op.index} (MEAN): axis ${describeTensor(axisTensor)} is computed at run time; ` +
          `MEAN needs the axes stored in the model, so convert it with constant axes`,
      );
    }
    readReducerOptions(context.reader, op);

    const axes = isEmptyAxis ? new Int32Array(0) : context.constantInt32(axisTensor.index);
    const plan = planReduction(op, input, axes);
    if (output.elementCount !== plan.outputCount) {
      throw new InvalidModelError(
        `operator ${op.index} (MEAN): output ${describeTensor(output)} has ${output.elementCount} elements, but ` +
          `reducing input ${describeTensor(input)} of shape [${input.shape}] leaves ${plan.outputCount}; the file is corrupted`,
      );
    }

    checkPerTensorQuantization(op, input, "input");
    checkPerTensorQuantization(op, output, "output");
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    const outputZeroPoint = checkZeroPoint(op, output, "output");
    const subject = `operator ${op.index} (MEAN)`;
    const rescale = quantizeMultiplier(input.scale[0] / output.scale[0], subject);
    const mean = plan.emptyInput ? rescale : foldCountIntoMultiplier(rescale, plan.reducedCount);
    // TFLM subtracts inputZeroPoint * count in int64 and truncates to int32.
    // With |zero point| <= 2^15 and a count below 2^38 (any tensor that fits
    // in memory), the product is exact in a double, and | 0 reduces it
    // modulo 2^32 as the truncation does.
    const zeroPointSum = (inputZeroPoint * plan.reducedCount) | 0;

    const [outputMin, outputMax] = typeRange(output.type);
    const sumsHandle = context.requestScratch(plan.outputCount * 4);
    const counters = new Int32Array(plan.extents.length);
    context.notePersistentBytes(counters.byteLength + 3 * plan.extents.byteLength);
    return meanOp(input, output, plan, counters, sumsHandle, {
      multiplierQ31: mean.multiplierQ31,
      shift: mean.shift,
      zeroPointSum,
      outputZeroPoint,
      outputMin,
      outputMax,
    });
  },
};

/** Requantization constants of the mean, fixed at prepare. */
interface MeanRequantization {
  multiplierQ31: number;
  shift: number;
  /** inputZeroPoint * count modulo 2^32, as int32. */
  zeroPointSum: number;
  outputZeroPoint: number;
  outputMin: number;
  outputMax: number;
}

function meanOp(
  input: TensorDef,
  output: TensorDef,
  plan: ReductionPlan,
  counters: Int32Array,
  sumsHandle: number,
  requantization: MeanRequantization,
): PreparedOp {
  let inputData: IntegerArray = new Int8Array(0);
  let outputData: IntegerArray = new Int8Array(0);
  let sums: Int32Array = new Int32Array(0);

  return {
    macs: input.elementCount,
    bind(memory: MemoryContext): void {
      inputData = integerView(memory, input);
      outputData = integerView(memory, output);
      sums = memory.scratchInt32(sumsHandle, plan.outputCount);
    },
    invoke(): void {
      // TFLM fills the output with 0 (not the zero point) when the input
      // has a dimension of size 0.
      if (plan.emptyInput) {
        outputData.fill(0);
        return;
      }
      sumReducedElements(inputData, sums, plan, counters);
      requantizeSums(sums, outputData, requantization);
    },
  };
}

function integerView(memory: MemoryContext, tensor: TensorDef): IntegerArray {
  return tensor.type === TensorType.INT16 ? memory.int16(tensor.index) : memory.int8(tensor.index);
}

/**
 * Adds every input element into the sum of its output element. The merged
 * dimensions alternate between reduced and kept, so the innermost one is
 * either a reduced run, summed into one output, or a kept run. A kept run and
 * the reduced dimension before it form a block of rows by columns, summed
 * column by column in a local variable. On XS that costs 27 meter units an
 * element against 40 for adding each row into the stored sums (MEAN of
 * [1, 7, 7, 1280] over axes 1 and 2). An odometer in `counters` walks the
 * outer dimensions. Every addition wraps to int32 as TFLM's int32 sum does.
 */
function sumReducedElements(input: IntegerArray, sums: Int32Array, plan: ReductionPlan, counters: Int32Array): void {
  const extents = plan.extents;
  const outputStrides = plan.outputStrides;
  const innermost = extents.length - 1;
  const columns = extents[innermost];
  const innerIsReduced = plan.reduced[innermost] === 1;
  const rows = !innerIsReduced && innermost >= 1 ? extents[innermost - 1] : 1;
  const blockSize = rows * columns;
  const outerDimensions = rows > 1 ? innermost - 1 : innermost;

  sums.fill(0);
  counters.fill(0);
  let inputPosition = 0;
  let outputPosition = 0;
  for (;;) {
    const blockEnd = inputPosition + blockSize;
    if (innerIsReduced) {
      let sum = sums[outputPosition];
      for (let i = inputPosition; i < blockEnd; i++) sum = (sum + input[i]) | 0;
      sums[outputPosition] = sum;
    } else {
      for (let column = 0; column < columns; column++) {
        let sum = sums[outputPosition + column];
        for (let i = inputPosition + column; i < blockEnd; i += columns) sum = (sum + input[i]) | 0;
        sums[outputPosition + column] = sum;
      }
    }
    inputPosition = blockEnd;

    let d = outerDimensions - 1;
    for (; d >= 0; d--) {
      const count = counters[d] + 1;
      if (count < extents[d]) {
        counters[d] = count;
        outputPosition += outputStrides[d];
        break;
      }
      counters[d] = 0;
      outputPosition -= (extents[d] - 1) * outputStrides[d];
    }
    if (d < 0) return;
  }
}

function requantizeSums(sums: Int32Array, output: IntegerArray, requantization: MeanRequantization): void {
  const { multiplierQ31, shift, zeroPointSum, outputZeroPoint, outputMin, outputMax } = requantization;
  for (let i = 0; i < sums.length; i++) {
    const centeredSum = (sums[i] - zeroPointSum) | 0;
    let value = multiplyByQuantizedMultiplier(centeredSum, multiplierQ31, shift) + outputZeroPoint;
    if (value < outputMin) value = outputMin;
    else if (value > outputMax) value = outputMax;
    output[i] = value;
  }
}
