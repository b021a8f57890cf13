// EXPAND_DIMS: inserts a dimension of size 1 at the position given by the
// constant axis input, negative counting from the end of the output shape.
// The stored values are copied unchanged, as in TFLM's EXPAND_DIMS
// (tflite-micro 90b983c2).

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { checkInputCount, checkShape, describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { describeOperator, readConstantIndices } from "../affine/elementwise_common.js";
import { copiedTensors, prepareShapeOnlyCopy } from "./common.js";

export const expandDimsKernel: Kernel = {
  name: "EXPAND_DIMS",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 2);
    const [input, output] = copiedTensors(context, op);
    const rank = input.shape.length;

    const axisTensor = context.tensor(op.inputs[1]);
    const axisValues = readConstantIndices(context, op, op.inputs[1], "axis");
    if (axisValues.length !== 1 || axisTensor.shape.length > 1) {
      throw new InvalidModelError(
        `${describeOperator(op)}: axis ${describeTensor(axisTensor)} has shape [${axisTensor.shape}], expected a ` +
          `single element; the file is corrupted`,
      );
    }
    const axis = axisValues[0] < 0 ? axisValues[0] + rank + 1 : axisValues[0];
    if (!(axis >= 0 && axis <= rank)) {
      throw new InvalidModelError(
        `${describeOperator(op)}: axis ${axisValues[0]} is outside [${-rank - 1}, ${rank}] for input ` +
          `${describeTensor(input)} of shape [${input.shape}]; the file is corrupted`,
      );
    }

    const expectedShape = input.shape.slice();
    expectedShape.splice(axis, 0, 1);
    checkShape(op, output, "output", expectedShape);
    return prepareShapeOnlyCopy(op, input, output);
  },
};
