// ADD of two uint8 or int8 tensors with any zero points, through the model's
// requantization scheme, with a fused activation. Shapes broadcast as in
// TFLite: aligned at the last dimension, a dimension of size 1 repeats, up to
// six dimensions.

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { readAddOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { activationRange, checkInputCount, checkOutputCount, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  MAX_LOOP_RANK,
  QuantizedArray,
  checkMaxRank,
  describeOperator,
  padShape,
  perTensorQuantization,
  quantizedView,
  stridesOf,
} from "./elementwise_common.js";

export const affineAddKernel: Kernel = {
  name: "ADD",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 2, 2);
    checkOutputCount(op, 1);
    const a = context.tensor(op.inputs[0]);
    const b = context.tensor(op.inputs[1]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, a, "input", [TensorType.UINT8, TensorType.INT8]);
    checkType(op, b, "input", [a.type]);
    checkType(op, output, "output", [a.type]);
    for (const [tensor, role] of [[a, "input"], [b, "input"], [output, "output"]] as const) checkMaxRank(op, tensor, role);

    const aQuantization = perTensorQuantization(op, a, "input");
    const bQuantization = perTensorQuantization(op, b, "input");
    const outputQuantization = perTensorQuantization(op, output, "output");
    const options = readAddOptions(context.reader, op);
    const [activationMin, activationMax] = activationRange(op, options.activation, output);
    const adder = context.scheme.add({
      aScale: aQuantization.scale,
      aZeroPoint: aQuantization.zeroPoint,
      bScale: bQuantization.scale,
      bZeroPoint: bQuantization.zeroPoint,
      outputScale: outputQuantization.scale,
      outputZeroPoint: outputQuantization.zeroPoint,
    });

    const outputShape = padShape(output.shape);
    checkBroadcastShape(op, a, b, output);
    const aStrides = broadcastStrides(a, outputShape);
    const bStrides = broadcastStrides(b, outputShape);
    const sameShapes = a.elementCount === output.elementCount && b.elementCount === output.elementCount;
    const [n0, n1, n2, n3, n4, n5] = outputShape;
    const [a0, a1, a2, a3, a4, a5] = aStrides;
    const [b0, b1, b2, b3, b4, b5] = bStrides;
    const count = output.elementCount;

    let aData: QuantizedArray = new Uint8Array(0);
    let bData: QuantizedArray = new Uint8Array(0);
    let outputData: QuantizedArray = new Uint8Array(0);

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        aData = quantizedView(memory, a);
        bData = quantizedView(memory, b);
        outputData = quantizedView(memory, output);
      },
      invoke(): void {
        const aValues = aData;
        const bValues = bData;
        const out = outputData;
        if (sameShapes) {
          for (let i = 0; i < count; i++) {
            let value = adder.add(aValues[i], bValues[i]);
            if (value < activationMin) value = activationMin;
            if (value > activationMax) value = activationMax;
            out[i] = value;
          }
          return;
        }
        // Walks the output in row-major order; a broadcast dimension has
        // stride 0 in its input, so the same elements are read again.
        let outIndex = 0;
        for (let i0 = 0; i0 < n0; i0++) {
          for (let i1 = 0; i1 < n1; i1++) {
            for (let i2 = 0; i2 < n2; i2++) {
              for (let i3 = 0; i3 < n3; i3++) {
                for (let i4 = 0; i4 < n4; i4++) {
                  let aIndex = i0 * a0 + i1 * a1 + i2 * a2 + i3 * a3 + i4 * a4;
                  let bIndex = i0 * b0 + i1 * b1 + i2 * b2 + i3 * b3 + i4 * b4;
                  for (let i5 = 0; i5 < n5; i5++) {
                    let value = adder.add(aValues[aIndex], bValues[bIndex]);
                    if (value < activationMin) value = activationMin;
                    if (value > activationMax) value = activationMax;
                    out[outIndex++] = value;
                    aIndex += a5;
                    bIndex += b5;
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

/** Throws unless the output shape is the broadcast of the two input shapes. */
function checkBroadcastShape(op: OperatorDef, a: TensorDef, b: TensorDef, output: TensorDef): void {
  const aShape = padShape(a.shape);
  const bShape = padShape(b.shape);
  const outputShape = padShape(output.shape);
  let valid = output.shape.length >= a.shape.length && output.shape.length >= b.shape.length;
  for (let d = 0; valid && d < MAX_LOOP_RANK; d++) {
    const compatible = aShape[d] === bShape[d] || aShape[d] === 1 || bShape[d] === 1;
    const expected = aShape[d] === 1 ? bShape[d] : aShape[d];
    valid = compatible && outputShape[d] === expected;
  }
  if (!valid) {
    throw new InvalidModelError(
      `${describeOperator(op)}: inputs ${describeTensor(a)} of shape [${a.shape}] and ${describeTensor(b)} of shape ` +
        `[${b.shape}] do not broadcast to output ${describeTensor(output)} of shape [${output.shape}]; the file is corrupted`,
    );
  }
}

/**
 * Strides of an input over the padded output shape: its row-major stride
 * where its dimension equals the output's, 0 where it has size 1 and is
 * repeated. The shapes were checked by checkBroadcastShape.
 */
function broadcastStrides(input: TensorDef, outputShape: readonly number[]): number[] {
  const shape = padShape(input.shape);
  const strides = stridesOf(shape);
  const result: number[] = [];
  for (let d = 0; d < MAX_LOOP_RANK; d++) result.push(shape[d] === 1 && outputShape[d] !== 1 ? 0 : strides[d]);
  return result;
}
