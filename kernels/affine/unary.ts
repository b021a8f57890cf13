// HARD_SWISH and LOGISTIC on uint8 or int8 tensors as a lookup table built at
// prepare: each of the 256 stored inputs is dequantized in double, the float
// function applied, and the result quantized with the scheme's rounding
// (scheme.quantizeReal) and clamped to the output type. PyTorch 1.13's
// quantized hardswish and sigmoid (qnnpack and onednn engines) produce these
// integers on every case the host tests hold.
//
// Under the "tflm" scheme, int8 and int16 LOGISTIC and HARD_SWISH run on
// TFLM's fixed-point kernels in kernels/activations/; what those decline
// (uint8, other quantizations) is rejected here rather than approximated.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ByteTable,
  QuantizedArray,
  describeOperator,
  perTensorQuantization,
  quantizedView,
  tabulateByteMap,
} from "./elementwise_common.js";

/** x * relu6(x + 3) / 6, in the order of PyTorch's float hardswish. */
export function hardSwish(x: number): number {
  return (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
}

/** 1 / (1 + e^-x). */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const affineHardSwishKernel: Kernel = {
  name: "HARD_SWISH",
  prepare: (context, op) => prepareTableOperator(context, op, hardSwish),
};

export const affineLogisticKernel: Kernel = {
  name: "LOGISTIC",
  prepare: (context, op) => prepareTableOperator(context, op, logistic),
};

function prepareTableOperator(context: PrepareContext, op: OperatorDef, real: (x: number) => number): PreparedOp {
  checkInputCount(op, 1, 1);
  checkOutputCount(op, 1);
  const input = context.tensor(op.inputs[0]);
  const output = context.tensor(op.outputs[0]);
  checkType(op, input, "input", [TensorType.UINT8, TensorType.INT8]);
  checkType(op, output, "output", [TensorType.UINT8, TensorType.INT8]);

  if (context.scheme.name === "tflm") {
    throw new UnsupportedError(
      `${describeOperator(op)}: input ${describeTensor(input)} is ${tensorTypeName(input.type)} under the "tflm" ` +
        `requantization scheme, whose ${op.name} is TFLM's fixed-point kernel for int8 or int16 with TFLM's output ` +
        `quantization; quantize the model to int8, or choose another scheme (for example "onnx" or ` +
        `"pytorch-qnnpack") to compute it through a table`,
    );
  }
  if (input.elementCount !== output.elementCount) {
    throw new InvalidModelError(
      `${describeOperator(op)}: input ${describeTensor(input)} has shape [${input.shape}] but output ` +
        `${describeTensor(output)} has shape [${output.shape}]; an elementwise operator keeps the element count, ` +
        `so the file is corrupted`,
    );
  }

  const inputQuantization = perTensorQuantization(op, input, "input");
  const outputQuantization = perTensorQuantization(op, output, "output");
  const scheme = context.scheme;
  const table = tabulateByteMap(context, input.type, output.type, (value) =>
    scheme.quantizeReal(real((value - inputQuantization.zeroPoint) * inputQuantization.scale), outputQuantization.scale, outputQuantization.zeroPoint),
  );
  return tableLookup(input, output, table);
}

/** Builds the operator out[i] = table[in[i] & 0xff] on uint8 or int8 tensors. */
export function tableLookup(input: TensorDef, output: TensorDef, table: ByteTable): PreparedOp {
  let inputData: QuantizedArray = new Uint8Array(0);
  let outputData: QuantizedArray = new Uint8Array(0);
  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = quantizedView(memory, input);
      outputData = quantizedView(memory, output);
    },
    invoke(): void {
      const input = inputData;
      const out = outputData;
      const n = input.length;
      for (let i = 0; i < n; i++) out[i] = table[input[i] & 0xff];
    },
  };
}
