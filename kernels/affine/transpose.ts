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
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ElementArray,
  MAX_LOOP_RANK,
  describeOperator,
  elementView,
  readConstantIndices,
  stridesOf,
} from "./elementwise_common.js";
import { movementTensors } from "../movement/common.js";

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

    // Output dimension d walks input dimension perm[d], so its input stride
    // is that dimension's row-major stride. Leading dimensions of size 1
    // fill the loop nest up to six levels.
    const inputStrides = stridesOf(input.shape);
    const sizes: number[] = [];
    const strides: number[] = [];
    for (let d = rank; d < MAX_LOOP_RANK; d++) {
      sizes.push(1);
      strides.push(0);
    }
    for (let d = 0; d < rank; d++) {
      sizes.push(input.shape[perm[d]]);
      strides.push(inputStrides[perm[d]]);
    }
    const [n0, n1, n2, n3, n4, n5] = sizes;
    const [t0, t1, t2, t3, t4, t5] = strides;

    let inputData: ElementArray = new Uint8Array(0);
    let outputData: ElementArray = new Uint8Array(0);

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        inputData = elementView(memory, input);
        outputData = elementView(memory, output);
      },
      invoke(): void {
        const source = inputData;
        const out = outputData;
        let outIndex = 0;
        for (let i0 = 0; i0 < n0; i0++) {
          const base0 = i0 * t0;
          for (let i1 = 0; i1 < n1; i1++) {
            const base1 = base0 + i1 * t1;
            for (let i2 = 0; i2 < n2; i2++) {
              const base2 = base1 + i2 * t2;
              for (let i3 = 0; i3 < n3; i3++) {
                const base3 = base2 + i3 * t3;
                for (let i4 = 0; i4 < n4; i4++) {
                  let inIndex = base3 + i4 * t4;
                  for (let i5 = 0; i5 < n5; i5++) {
                    out[outIndex++] = source[inIndex];
                    inIndex += t5;
                  }
                }
              }
            }
          }
        }
      },
    };
  },
};
