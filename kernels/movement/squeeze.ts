// SQUEEZE: removes dimensions of size 1, those listed in squeeze_dims or,
// when the list is empty, all of them. The stored values are copied
// unchanged, as TFLM's SQUEEZE (tflite-micro 90b983c2) copies the bytes.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { readSqueezeOptions } from "../../runtime/schema/options_movement.js";
import { checkInputCount, checkShape, describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { describeOperator } from "../affine/elementwise_common.js";
import { copiedTensors, prepareShapeOnlyCopy } from "./common.js";

export const squeezeKernel: Kernel = {
  name: "SQUEEZE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    const [input, output] = copiedTensors(context, op);
    const rank = input.shape.length;
    const { squeezeDims } = readSqueezeOptions(context.reader, op);

    const removed = new Array<boolean>(rank).fill(false);
    if (squeezeDims.length === 0) {
      for (let d = 0; d < rank; d++) removed[d] = input.shape[d] === 1;
    }
    for (const listed of squeezeDims) {
      const d = listed < 0 ? listed + rank : listed;
      if (!(d >= 0 && d < rank) || input.shape[d] !== 1) {
        throw new InvalidModelError(
          `${describeOperator(op)}: squeeze_dims [${squeezeDims}] lists dimension ${listed}, but input ` +
            `${describeTensor(input)} of shape [${input.shape}] has no such dimension of size 1; the file is corrupted`,
        );
      }
      removed[d] = true;
    }
    checkShape(op, output, "output", input.shape.filter((_, d) => !removed[d]));
    return prepareShapeOnlyCopy(op, input, output);
  },
};
