// TRANSPOSE of a tensor of up to six dimensions with an element type of 1, 2
// or 4 bytes: output dimension d is input dimension perm[d], so
// output[i0, ..., in] = input at index i_k along dimension perm[k]. The
// permutation is a constant int32 (or int64) tensor. Quantization is checked
// as in kernels/movement/common.ts: not at all under "tflm", where TFLM's
// TRANSPOSE (tflite-micro 90b983c2) copies stored values without comparing
// input and output quantization.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { checkInputCount, checkShape, describeTensor } from "../common.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { describeOperator, readConstantIndices, stridesOf } from "./elementwise_common.js";
import { movementTensors, prepareGatherCopy } from "../movement/common.js";

export const affineTransposeKernel: Kernel = {
  name: "TRANSPOSE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 2);
    const [input, output] = movementTensors(context, op);
    const rank = input.shape.length;

    const permTensor = context.tensor(op.inputs[1]);
    checkShape(op, permTensor, "perm", [rank]);
    const perm = readConstantIndices(context, op, op.inputs[1], "perm");
    const seen = new Array<boolean>(rank).fill(false);
    for (let d = 0; d < rank; d++) {
      const source = perm[d];
      if (!(source >= 0 && source < rank) || seen[source]) {
        throw new InvalidModelError(
          `${describeOperator(op)}: perm ${describeTensor(permTensor)} is [${perm}], not a permutation of ` +
            `0 to ${rank - 1}; the file is corrupted`,
        );
      }
      seen[source] = true;
    }
    checkShape(op, output, "output", perm.map((source) => input.shape[source]));

    // Output dimension d walks input dimension perm[d], so its input step is
    // that dimension's row-major stride.
    const inputStrides = stridesOf(input.shape);
    const counts = perm.map((source) => input.shape[source]);
    const steps = perm.map((source) => inputStrides[source]);
    return prepareGatherCopy(input, output, counts, steps, 0);
  },
};
