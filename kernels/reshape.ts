// RESHAPE: copies the input bytes to the output. The output tensor's shape
// in the model is the result. Like TFLM, the kernel reads neither the
// new_shape option nor the optional shape input.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { tensorTypeBytes, tensorTypeName } from "../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, describeTensor } from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

export const reshapeKernel: Kernel = {
  name: "RESHAPE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 2);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    if (input.type !== output.type) {
      throw new InvalidModelError(
        `operator ${op.index} (RESHAPE): input ${describeTensor(input)} is ${tensorTypeName(input.type)} but output ` +
          `${describeTensor(output)} is ${tensorTypeName(output.type)}; a reshape keeps the type, so the file is corrupted`,
      );
    }
    if (op.inputs.length === 1 && output.shape.length === 1 && output.shape[0] === 0 && input.elementCount === 1) {
      // NOTE: TFLM reads this legacy form as a scalar. The model parser
      // sizes the tensor at 0 elements, so there is no memory to copy into.
      throw new UnsupportedError(
        `operator ${op.index} (RESHAPE): output ${describeTensor(output)} has the legacy scalar shape [0]; ` +
          `convert the model with a current TFLite converter`,
      );
    }
    if (input.elementCount !== output.elementCount) {
      throw new InvalidModelError(
        `operator ${op.index} (RESHAPE): input ${describeTensor(input)} has shape [${input.shape}] (${input.elementCount} elements) ` +
          `but output ${describeTensor(output)} has shape [${output.shape}] (${output.elementCount}); the file is corrupted`,
      );
    }
    const elementBytes = tensorTypeBytes(input.type);
    if (elementBytes !== 1 && elementBytes !== 2 && elementBytes !== 4) {
      throw new UnsupportedError(
        `operator ${op.index} (RESHAPE): input ${describeTensor(input)} is ${tensorTypeName(input.type)}; ` +
          `RESHAPE supports element types of 1, 2 or 4 bytes here`,
      );
    }

    const byteLength = input.byteLength;
    let inputBytes: Uint8Array = new Uint8Array(0);
    let outputBytes: Uint8Array = new Uint8Array(0);
    // When both tensors share one buffer (the arena), span is a view
    // covering both, with the output and input at these positions.
    let span: Uint8Array | null = null;
    let outputStart = 0;
    let inputStart = 0;

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        inputBytes = byteView(memory, input, elementBytes);
        outputBytes = byteView(memory, output, elementBytes);
        span = null;
        if (inputBytes.buffer === outputBytes.buffer) {
          const start = Math.min(inputBytes.byteOffset, outputBytes.byteOffset);
          const end = Math.max(inputBytes.byteOffset + inputBytes.byteLength, outputBytes.byteOffset + outputBytes.byteLength);
          span = new Uint8Array(inputBytes.buffer, start, end - start);
          outputStart = outputBytes.byteOffset - start;
          inputStart = inputBytes.byteOffset - start;
        }
      },
      invoke(): void {
        // Within one buffer, XS's TypedArray.prototype.set copies the
        // source into a new ArrayBuffer first (xsDataView.c in
        // @agoric/xsnap 0.15.0), so use copyWithin, a memmove, there.
        // Between buffers set copies directly.
        if (span !== null) {
          if (outputStart !== inputStart) span.copyWithin(outputStart, inputStart, inputStart + byteLength);
          return;
        }
        outputBytes.set(inputBytes);
      },
    };
  },
};

/** Returns a byte view of the tensor, through the MemoryContext view of its element size. */
function byteView(memory: MemoryContext, tensor: TensorDef, elementBytes: number): Uint8Array {
  let view: Uint8Array | Int16Array | Int32Array;
  if (elementBytes === 1) view = memory.uint8(tensor.index);
  else if (elementBytes === 2) view = memory.int16(tensor.index);
  else view = memory.int32(tensor.index);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
