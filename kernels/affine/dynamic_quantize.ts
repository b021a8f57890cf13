// ONNX DynamicQuantizeLinear as the custom operator
// "MICROQ_DYNAMIC_QUANTIZE_LINEAR": float32 x in, uint8 y, a float32 scale
// and a uint8 zero point out, all in float32 arithmetic as the ONNX operator
// defines it (opset 11):
//   min = min(0, min(x)), max = max(0, max(x))
//   scale = (max - min) / 255
//   zeroPoint = roundHalfToEven(clamp(0 - min / scale, 0, 255))
//   y = clamp(roundHalfToEven(x / scale) + zeroPoint, 0, 255)

import { InvalidModelError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { describeOperator, roundHalfToEven } from "./elementwise_common.js";

export const DYNAMIC_QUANTIZE_LINEAR_CUSTOM_CODE = "MICROQ_DYNAMIC_QUANTIZE_LINEAR";

/** qmax - qmin of uint8, the number of quantization steps. */
const UINT8_STEPS = 255;

export const dynamicQuantizeLinearKernel: Kernel = {
  name: DYNAMIC_QUANTIZE_LINEAR_CUSTOM_CODE,
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 3);
    const input = context.tensor(op.inputs[0]);
    const y = context.tensor(op.outputs[0]);
    const scaleTensor = context.tensor(op.outputs[1]);
    const zeroPointTensor = context.tensor(op.outputs[2]);
    checkType(op, input, "input", [TensorType.FLOAT32]);
    checkType(op, y, "output y", [TensorType.UINT8]);
    checkType(op, scaleTensor, "output y_scale", [TensorType.FLOAT32]);
    checkType(op, zeroPointTensor, "output y_zero_point", [TensorType.UINT8]);
    if (y.elementCount !== input.elementCount) {
      throw new InvalidModelError(
        `${describeOperator(op)}: output y ${describeTensor(y)} has shape [${y.shape}] but input ${describeTensor(input)} ` +
          `has shape [${input.shape}]; the element counts must be equal, so the file is corrupted`,
      );
    }
    checkScalar(op, scaleTensor, "output y_scale");
    checkScalar(op, zeroPointTensor, "output y_zero_point");

    let inputData: Float32Array = new Float32Array(0);
    let yData: Uint8Array = new Uint8Array(0);
    let scaleData: Float32Array = new Float32Array(0);
    let zeroPointData: Uint8Array = new Uint8Array(0);

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        inputData = memory.float32(input.index);
        yData = memory.uint8(y.index);
        scaleData = memory.float32(scaleTensor.index);
        zeroPointData = memory.uint8(zeroPointTensor.index);
      },
      invoke(): void {
        const x = inputData;
        const out = yData;
        const n = x.length;

        // NOTE: the comparisons skip NaN elements, so they do not widen the
        // range. The ONNX operator leaves NaN input undefined.
        let min = 0;
        let max = 0;
        for (let i = 0; i < n; i++) {
          const value = x[i];
          if (value < min) min = value;
          if (value > max) max = value;
        }

        // Every value is a float32 and Math.fround rounds each double
        // operation to float32, which equals the float32 operation because
        // double has more than twice float32's precision.
        // NOTE: for an all-zero input (max == min) ONNX's formula divides 0
        // by 0. This follows onnxruntime's CPU kernel (qmath.h), which uses
        // scale 1 there; zero point and y are then 0 as in every other
        // implementation.
        const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / UINT8_STEPS);
        let initialZeroPoint = -Math.fround(min / scale);
        if (initialZeroPoint < 0) initialZeroPoint = 0;
        if (initialZeroPoint > UINT8_STEPS) initialZeroPoint = UINT8_STEPS;
        const zeroPoint = roundHalfToEven(initialZeroPoint);

        for (let i = 0; i < n; i++) {
          let value = roundHalfToEven(Math.fround(x[i] / scale)) + zeroPoint;
          // NaN becomes 0, infinities saturate.
          if (!(value >= 0)) value = 0;
          if (value > UINT8_STEPS) value = UINT8_STEPS;
          out[i] = value;
        }
        scaleData[0] = scale;
        zeroPointData[0] = zeroPoint;
      },
    };
  },
};

function checkScalar(op: OperatorDef, tensor: TensorDef, role: string): void {
  if (tensor.elementCount !== 1) {
    throw new InvalidModelError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has shape [${tensor.shape}], expected a scalar; ` +
        `the file is corrupted`,
    );
  }
}
