// PAD and PADV2 for tensors of up to six dimensions and element types of 1,
// 2 or 4 bytes (int8, uint8, int16, int32, float32). PAD fills quantized
// tensors with the output zero point, which is the real value 0, and other
// tensors with 0. PADV2 fills with its constant_values scalar.
// Paddings are a constant [rank, 2] tensor of non-negative counts.
//
// Under the "tflm" scheme the checks and the fill follow TFLM's PAD
// (tflite-micro 90b983c2, pad_common.cc and pad.cc). An int16 tensor is
// padded with 0 whatever its zero point, and input and output quantization
// are not compared. Only an int8 constant_values must share the output's
// quantization. The other schemes require equal quantization wherever a
// stored value is copied.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkShape, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ElementArray,
  MAX_LOOP_RANK,
  checkSameQuantization,
  describeOperator,
  elementView,
  padShape,
  readConstantIndices,
  zeroPointOf,
} from "./elementwise_common.js";
import { movementTensors } from "../movement/common.js";

export const affinePadKernel: Kernel = {
  name: "PAD",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 2);
    return preparePad(context, op, null);
  },
};

export const affinePadV2Kernel: Kernel = {
  name: "PADV2",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 3);
    // TFLite's PADV2 without constant_values pads like PAD.
    const hasConstant = op.inputs.length === 3 && op.inputs[2] >= 0;
    return preparePad(context, op, hasConstant ? context.tensor(op.inputs[2]) : null);
  },
};

function preparePad(context: PrepareContext, op: OperatorDef, constant: TensorDef | null): PreparedOp {
  const [input, output] = movementTensors(context, op);
  const isTflm = context.scheme.name === "tflm";
  const rank = input.shape.length;

  const paddingsTensor = context.tensor(op.inputs[1]);
  checkShape(op, paddingsTensor, "paddings", [rank, 2]);
  const paddings = readConstantIndices(context, op, op.inputs[1], "paddings");
  for (let i = 0; i < paddings.length; i++) {
    if (paddings[i] < 0) {
      throw new UnsupportedError(
        `${describeOperator(op)}: paddings ${describeTensor(paddingsTensor)} contains ${paddings[i]} for dimension ` +
          `${i >> 1}; ${op.name} supports non-negative paddings only`,
      );
    }
  }
  const expectedShape = input.shape.map((dim, d) => dim + paddings[2 * d] + paddings[2 * d + 1]);
  checkShape(op, output, "output", expectedShape);

  if (constant !== null) checkConstantValue(op, constant, output, isTflm);
  const type = input.type;
  const padsWithZeroPoint = type === TensorType.INT8 || type === TensorType.UINT8 || (type === TensorType.INT16 && !isTflm);
  const defaultPadValue = padsWithZeroPoint ? zeroPointOf(output) : 0;

  // Loop bounds over six dimensions: the input sizes, the output sizes and
  // the padding before each input dimension.
  const [s0, s1, s2, s3, s4, s5] = padShape(input.shape);
  const [n0, n1, n2, n3, n4, n5] = padShape(output.shape);
  const before: number[] = [];
  for (let d = 0; d < MAX_LOOP_RANK - rank; d++) before.push(0);
  for (let d = 0; d < rank; d++) before.push(paddings[2 * d]);
  const [p0, p1, p2, p3, p4, p5] = before;
  const after5 = n5 - p5 - s5;

  let inputData: ElementArray = new Uint8Array(0);
  let outputData: ElementArray = new Uint8Array(0);
  let constantData: ElementArray | null = null;

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = elementView(memory, input);
      outputData = elementView(memory, output);
      constantData = constant === null ? null : elementView(memory, constant);
    },
    invoke(): void {
      const source = inputData;
      const out = outputData;
      // The constant may be computed by an earlier operator, so it is read
      // on every invoke. Through the integer views it keeps its exact bits.
      const padValue = constantData === null ? defaultPadValue : constantData[0];
      let outIndex = 0;
      for (let o0 = 0; o0 < n0; o0++) {
        const i0 = o0 - p0;
        const inside0 = i0 >= 0 && i0 < s0;
        for (let o1 = 0; o1 < n1; o1++) {
          const i1 = o1 - p1;
          const inside1 = inside0 && i1 >= 0 && i1 < s1;
          const base1 = i0 * s1 + i1;
          for (let o2 = 0; o2 < n2; o2++) {
            const i2 = o2 - p2;
            const inside2 = inside1 && i2 >= 0 && i2 < s2;
            const base2 = base1 * s2 + i2;
            for (let o3 = 0; o3 < n3; o3++) {
              const i3 = o3 - p3;
              const inside3 = inside2 && i3 >= 0 && i3 < s3;
              const base3 = base2 * s3 + i3;
              for (let o4 = 0; o4 < n4; o4++) {
                const i4 = o4 - p4;
                if (!(inside3 && i4 >= 0 && i4 < s4)) {
                  for (let k = 0; k < n5; k++) out[outIndex++] = padValue;
                  continue;
                }
                // A row that crosses the input: padding, the input row, padding.
                for (let k = 0; k < p5; k++) out[outIndex++] = padValue;
                let inIndex = (base3 * s4 + i4) * s5;
                for (let k = 0; k < s5; k++) out[outIndex++] = source[inIndex++];
                for (let k = 0; k < after5; k++) out[outIndex++] = padValue;
              }
            }
          }
        }
      }
    },
  };
}

/**
 * PADV2's constant_values: one element of the input type. A quantized
 * constant must share the output's quantization, because its stored value is
 * written unchanged. Under "tflm" only an int8 constant is checked, as in
 * TFLM.
 */
function checkConstantValue(op: OperatorDef, constant: TensorDef, output: TensorDef, isTflm: boolean): void {
  checkType(op, constant, "constant_values", [output.type]);
  if (constant.elementCount !== 1) {
    throw new InvalidModelError(
      `${describeOperator(op)}: constant_values ${describeTensor(constant)} has shape [${constant.shape}], ` +
        `expected a single element; the file is corrupted`,
    );
  }
  const checksQuantization = isTflm ? constant.type === TensorType.INT8 : constant.scale.length > 0;
  if (checksQuantization) checkSameQuantization(op, constant, output, "constant_values");
}
