// RESHAPE: copies the input bytes to the output. The output tensor's shape
// in the model is the result. Like TFLM, the kernel reads neither the
// new_shape option nor the optional shape input.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef } from "../runtime/model.js";
import { tensorTypeName } from "../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, describeTensor } from "./common.js";
import { Kernel, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareShapeOnlyCopy } from "./movement/common.js";

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
    return prepareShapeOnlyCopy(op, input, output);
  },
};
