// DEQUANTIZE: int8, uint8 or int16 to float32, as TFLM's reference
// Dequantize computes it.

import { InvalidModelError } from "../runtime/errors.js";
import { OperatorDef } from "../runtime/model.js";
import { TensorType } from "../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkType,
  checkZeroPoint,
  describeTensor,
} from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

export const dequantizeKernel: Kernel = {
  name: "DEQUANTIZE",
  // Per-channel input goes to the affine kernel, which dequantizes each
  // channel with its own scale. TFLM's DEQUANTIZE would apply channel 0's
  // scale to every element.
  accepts: (context, op) => context.scheme.name === "tflm" && isPerTensor(context, op),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.INT8, TensorType.UINT8, TensorType.INT16]);
    checkType(op, output, "output", [TensorType.FLOAT32]);
    if (input.elementCount !== output.elementCount) {
      throw new InvalidModelError(
        `operator ${op.index} (DEQUANTIZE): input ${describeTensor(input)} has shape [${input.shape}] but output ` +
          `${describeTensor(output)} has shape [${output.shape}]; the element counts must be equal, so the file is corrupted`,
      );
    }
    // The registry gives per-channel input to the affine kernel (see accepts).
    checkPerTensorQuantization(op, input, "input");
    const zeroPoint = checkZeroPoint(op, input, "input");
    const scale = input.scale[0];

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const inputType = input.type;
    let inputData: Int8Array | Uint8Array | Int16Array = new Int8Array(0);
    let outputData: Float32Array = new Float32Array(0);

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        if (inputType === TensorType.INT16) inputData = memory.int16(inputIndex);
        else if (inputType === TensorType.UINT8) inputData = memory.uint8(inputIndex);
        else inputData = memory.int8(inputIndex);
        outputData = memory.float32(outputIndex);
      },
      invoke(): void {
        const input = inputData;
        const out = outputData;
        const n = input.length;
        for (let i = 0; i < n; i++) {
          // TFLM multiplies the double scale by the int32 difference and
          // casts to float. The product of a float32 scale and a 17-bit
          // integer is exact in double, so storing it into the Float32Array
          // rounds once, as that cast does.
          out[i] = scale * (input[i] - zeroPoint);
        }
      },
    };
  },
};

function isPerTensor(context: PrepareContext, op: OperatorDef): boolean {
  try {
    return context.tensor(op.inputs[0]).scale.length <= 1;
  } catch {
    return true;
  }
}
