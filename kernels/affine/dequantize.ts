// DEQUANTIZE of uint8, int8 or int16 to float32, per tensor or per axis (the
// input's quantized_dimension): (q - zeroPoint) * scale, rounded once to
// float32 as ONNX DequantizeLinear and TFLite compute it.

import { OperatorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkType } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { QuantizedArray, checkSameElementCount, quantizedView } from "./elementwise_common.js";
import { axisQuantization } from "./quantize.js";

export const affineDequantizeKernel: Kernel = {
  name: "DEQUANTIZE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.UINT8, TensorType.INT8, TensorType.INT16]);
    checkType(op, output, "output", [TensorType.FLOAT32]);
    checkSameElementCount(op, input, output);
    const { scales, zeroPoints, outerCount, channels, innerCount } = axisQuantization(op, input, "input");

    let inputData: QuantizedArray = new Uint8Array(0);
    let outputData: Float32Array = new Float32Array(0);
    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        inputData = quantizedView(memory, input);
        outputData = memory.float32(output.index);
      },
      invoke(): void {
        const source = inputData;
        const out = outputData;
        let i = 0;
        for (let outer = 0; outer < outerCount; outer++) {
          for (let channel = 0; channel < channels; channel++) {
            const scale = scales[channel];
            const zeroPoint = zeroPoints[channel];
            for (let inner = 0; inner < innerCount; inner++) {
              // q - zeroPoint has at most 17 bits and the scale 24, so the
              // double product is exact and the Float32Array store rounds it
              // once: the float32 product of float32(q - zeroPoint) and scale.
              out[i] = (source[i] - zeroPoint) * scale;
              i++;
            }
          }
        }
      },
    };
  },
};
