// QUANTIZE: float32 to int8 or int16 (affine quantization), and integer to
// integer requantization, for the type pairs TFLM's reference kernel runs.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../runtime/fixedpoint.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { quantizeMultiplier } from "../runtime/quantize_multiplier.js";
import { TensorType, tensorTypeName } from "../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkType,
  checkZeroPoint,
  describeTensor,
  typeRange,
} from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

type IntegerArray = Int8Array | Uint8Array | Int16Array | Int32Array;

/** Output types TFLM's QUANTIZE evaluates for each input type. */
const OUTPUT_TYPES_BY_INPUT = new Map<number, readonly number[]>([
  [TensorType.FLOAT32, [TensorType.INT8, TensorType.INT16]],
  [TensorType.INT32, [TensorType.INT8, TensorType.INT16]],
  [TensorType.INT16, [TensorType.INT8, TensorType.INT16, TensorType.INT32]],
  [TensorType.INT8, [TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT32]],
  [TensorType.UINT8, [TensorType.INT8]],
]);

export const quantizeKernel: Kernel = {
  name: "QUANTIZE",
  accepts: (context, op) => context.scheme.name === "tflm" && isTflmTypePair(context, op),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [...OUTPUT_TYPES_BY_INPUT.keys()]);
    checkType(op, output, "output", OUTPUT_TYPES_BY_INPUT.get(input.type) ?? []);
    if (input.elementCount !== output.elementCount) {
      throw new InvalidModelError(
        `operator ${op.index} (QUANTIZE): input ${describeTensor(input)} has shape [${input.shape}] but output ` +
          `${describeTensor(output)} has shape [${output.shape}]; the element counts must be equal, so the file is corrupted`,
      );
    }

    checkPerTensorQuantization(op, output, "output");
    const outputZeroPoint = checkZeroPoint(op, output, "output");
    const [outputMin, outputMax] = typeRange(output.type);

    if (input.type === TensorType.FLOAT32) {
      return affineQuantize(op, output.scale[0], outputZeroPoint, outputMin, outputMax, output.type);
    }

    checkPerTensorQuantization(op, input, "input");
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    // TFLM divides the scales in double.
    const { multiplierQ31, shift } = quantizeMultiplier(
      input.scale[0] / output.scale[0],
      `operator ${op.index} (QUANTIZE) from ${describeTensor(input)} to ${describeTensor(output)}`,
    );
    return requantize(op, input, output, multiplierQ31, shift, inputZeroPoint, outputZeroPoint, outputMin, outputMax);
  },
};

/**
 * value = zeroPoint + round(x / scale), the division in float32 and the
 * rounding half away from zero, clamped to the output type: TFLM's
 * AffineQuantize.
 */
function affineQuantize(
  op: OperatorDef,
  scale: number,
  zeroPoint: number,
  outputMin: number,
  outputMax: number,
  outputType: number,
): PreparedOp {
  const inputIndex = op.inputs[0];
  const outputIndex = op.outputs[0];
  let inputData: Float32Array = new Float32Array(0);
  let outputData: Int8Array | Int16Array = new Int8Array(0);

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = memory.float32(inputIndex);
      outputData = outputType === TensorType.INT16 ? memory.int16(outputIndex) : memory.int8(outputIndex);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const n = input.length;
      for (let i = 0; i < n; i++) {
        // Rounding the double quotient to float32 gives the float32
        // quotient: double has more than twice float32's precision.
        const scaled = Math.fround(input[i] / scale);
        // scaled + 0.5 is exact in double for any float32 value.
        const rounded = scaled < 0 ? -Math.floor(0.5 - scaled) : Math.floor(scaled + 0.5);
        let value = rounded + zeroPoint;
        // NOTE: NaN goes to the minimum and values beyond int32 saturate.
        // TFLM's float-to-int32 cast is undefined there in C++, so its
        // result depends on the platform (x86 yields INT32_MIN).
        if (!(value >= outputMin)) value = outputMin;
        if (value > outputMax) value = outputMax;
        out[i] = value;
      }
    },
  };
}

/**
 * value = zeroPoint_out + (q - zeroPoint_in) * in_scale / out_scale with
 * TFLM's double-rounding MultiplyByQuantizedMultiplier, clamped to the
 * output type: TFLM's Requantize.
 */
function requantize(
  op: OperatorDef,
  input: TensorDef,
  output: TensorDef,
  multiplierQ31: number,
  shift: number,
  inputZeroPoint: number,
  outputZeroPoint: number,
  outputMin: number,
  outputMax: number,
): PreparedOp {
  let inputData: IntegerArray = new Int8Array(0);
  let outputData: IntegerArray = new Int8Array(0);

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = integerView(memory, input);
      outputData = integerView(memory, output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const n = input.length;
      for (let i = 0; i < n; i++) {
        // `| 0` wraps like TFLM's int32 subtraction and addition, which
        // can overflow only for int32 input or output.
        const centered = (input[i] - inputZeroPoint) | 0;
        let value = (multiplyByQuantizedMultiplier(centered, multiplierQ31, shift) + outputZeroPoint) | 0;
        if (value < outputMin) value = outputMin;
        if (value > outputMax) value = outputMax;
        out[i] = value;
      }
    },
  };
}

function integerView(memory: MemoryContext, tensor: TensorDef): IntegerArray {
  switch (tensor.type) {
    case TensorType.INT8:
      return memory.int8(tensor.index);
    case TensorType.UINT8:
      return memory.uint8(tensor.index);
    case TensorType.INT16:
      return memory.int16(tensor.index);
    case TensorType.INT32:
      return memory.int32(tensor.index);
    default:
      throw new UnsupportedError(`${describeTensor(tensor)} is ${tensorTypeName(tensor.type)}, not an integer type QUANTIZE reads or writes`);
  }
}

/** True when TFLM's QUANTIZE evaluates this input and output type pair, or the tensors are malformed. */
function isTflmTypePair(context: PrepareContext, op: OperatorDef): boolean {
  try {
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    return (OUTPUT_TYPES_BY_INPUT.get(input.type) ?? []).includes(output.type);
  } catch {
    return true;
  }
}
