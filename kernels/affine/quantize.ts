// QUANTIZE through the model's requantization scheme:
// - float32 to uint8, int8 or int16, per tensor or per axis (the output's
//   quantized_dimension): scheme.quantizeReal(x, scale, zeroPoint), clamped
//   to the output type, as ONNX QuantizeLinear with the "onnx" scheme;
// - uint8 or int8 to uint8 or int8, per tensor: the scheme's rescale,
//   tabulated at prepare for the 256 stored input values.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { RequantizationScheme } from "../../runtime/requantization/scheme.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkInputCount, checkOutputCount, checkType, describeTensor, typeRange } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  QuantizedArray,
  checkSameElementCount,
  describeOperator,
  outputRange,
  perTensorQuantization,
  quantizedView,
  rescaleTable,
} from "./elementwise_common.js";
import { tableLookup } from "./unary.js";

export const affineQuantizeKernel: Kernel = {
  name: "QUANTIZE",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 1, 1);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[0]);
    const output = context.tensor(op.outputs[0]);
    checkType(op, input, "input", [TensorType.FLOAT32, TensorType.UINT8, TensorType.INT8]);
    checkSameElementCount(op, input, output);
    if (input.type === TensorType.FLOAT32) {
      checkType(op, output, "output", [TensorType.UINT8, TensorType.INT8, TensorType.INT16]);
      return quantizeFloat(context.scheme, op, input, output);
    }
    checkType(op, output, "output", [TensorType.UINT8, TensorType.INT8]);
    const inputQuantization = perTensorQuantization(op, input, "input");
    const outputQuantization = perTensorQuantization(op, output, "output");
    return tableLookup(input, output, rescaleTable(context, input, inputQuantization, output, outputQuantization));
  },
};

/** Scales and zero points along the quantized dimension, and the loop sizes around it. */
interface AxisQuantization {
  scales: Float64Array;
  zeroPoints: Int32Array;
  /** Elements before the quantized dimension (product of the leading sizes). */
  outerCount: number;
  channels: number;
  /** Elements after the quantized dimension (product of the trailing sizes). */
  innerCount: number;
}

/**
 * Reads a tensor's quantization as per-axis parameters. Per-tensor
 * quantization becomes one channel spanning the whole tensor.
 */
export function axisQuantization(op: OperatorDef, tensor: TensorDef, role: string): AxisQuantization {
  const count = tensor.scale.length;
  if (count === 0) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has no quantization parameters; ${op.name} needs a scale and zero point`,
    );
  }
  let outerCount = 1;
  let channels = 1;
  let innerCount = tensor.elementCount;
  if (count > 1) {
    const dimension = tensor.quantizedDimension;
    if (!(dimension >= 0 && dimension < tensor.shape.length) || tensor.shape[dimension] !== count) {
      throw new InvalidModelError(
        `${describeOperator(op)}: ${role} ${describeTensor(tensor)} of shape [${tensor.shape}] has ${count} scales ` +
          `along dimension ${dimension}, which does not have that many elements; the file is corrupted`,
      );
    }
    channels = count;
    outerCount = 1;
    for (let d = 0; d < dimension; d++) outerCount *= tensor.shape[d];
    innerCount = 1;
    for (let d = dimension + 1; d < tensor.shape.length; d++) innerCount *= tensor.shape[d];
  }
  const [min, max] = typeRange(tensor.type);
  const scales = new Float64Array(count);
  const zeroPoints = new Int32Array(count);
  for (let c = 0; c < count; c++) {
    const scale = tensor.scale[c];
    const zeroPoint = tensor.zeroPoint[c] ?? 0;
    if (!(scale > 0)) {
      throw new InvalidModelError(
        `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has scale ${scale} at channel ${c}, expected a positive scale; ` +
          `the file is corrupted`,
      );
    }
    if (zeroPoint < min || zeroPoint > max) {
      throw new InvalidModelError(
        `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has zero point ${zeroPoint} at channel ${c}, outside ` +
          `[${min}, ${max}]; the file is corrupted`,
      );
    }
    scales[c] = scale;
    zeroPoints[c] = zeroPoint;
  }
  return { scales, zeroPoints, outerCount, channels, innerCount };
}

function quantizeFloat(scheme: RequantizationScheme, op: OperatorDef, input: TensorDef, output: TensorDef): PreparedOp {
  const { scales, zeroPoints, outerCount, channels, innerCount } = axisQuantization(op, output, "output");
  const [outputMin, outputMax] = outputRange(output);
  let inputData: Float32Array = new Float32Array(0);
  let outputData: QuantizedArray = new Uint8Array(0);

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = memory.float32(input.index);
      outputData = quantizedView(memory, output);
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
            let value = scheme.quantizeReal(source[i], scale, zeroPoint);
            // NaN input yields NaN here, which becomes the type minimum.
            if (!(value >= outputMin)) value = outputMin;
            if (value > outputMax) value = outputMax;
            out[i++] = value;
          }
        }
      }
    },
  };
}
