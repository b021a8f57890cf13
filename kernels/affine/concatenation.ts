// CONCATENATION along any axis of tensors with an element type of 1, 2 or 4
// bytes. An input whose quantization equals the output's is copied. A uint8
// or int8 input with other quantization goes through the scheme's rescale,
// tabulated at prepare for its 256 stored values. Inputs of other types must
// share the output's quantization.
//
// Under the "tflm" scheme the checks follow TFLM's CONCATENATION
// (tflite-micro 90b983c2, concatenation.cc). Every int8 input must have the
// output's scale and zero point. int16 inputs and output must have zero
// point 0 but may differ in scale, because TFLM copies their stored values
// unchanged.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { Activation, ACTIVATION_NAMES, readConcatenationOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { checkOutputCount, checkType, describeTensor } from "../common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ByteTable,
  ElementArray,
  checkMovableType,
  checkSameQuantization,
  describeOperator,
  elementView,
  perTensorQuantization,
  rescaleTable,
} from "./elementwise_common.js";

/** One input: where it goes in each outer slice of the output, and how its values map. */
interface ConcatenationPart {
  tensor: TensorDef;
  /** Elements of this input in one outer slice: its axis size times the inner size. */
  sliceLength: number;
  /** Offset of this input's slice within one outer slice of the output. */
  outputOffset: number;
  /** Rescaling table of a uint8 or int8 input, or null when the stored values are copied. */
  table: ByteTable | null;
}

export const affineConcatenationKernel: Kernel = {
  name: "CONCATENATION",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    if (op.inputs.length < 1) {
      throw new InvalidModelError(`${describeOperator(op)} has no inputs, expected at least 1; the file is corrupted`);
    }
    checkOutputCount(op, 1);
    const output = context.tensor(op.outputs[0]);
    checkMovableType(op, output, "output");
    const isTflm = context.scheme.name === "tflm";
    const isByteType = output.type === TensorType.UINT8 || output.type === TensorType.INT8;
    if (isTflm && output.type === TensorType.INT16) checkInt16ZeroPoint(op, output, "output");

    const options = readConcatenationOptions(context.reader, op);
    // TFLite's concatenation accepts no fused activation either.
    if (options.activation !== Activation.NONE) {
      throw new UnsupportedError(
        `${describeOperator(op)} has fused activation ${ACTIVATION_NAMES[options.activation] ?? options.activation}; ` +
          `CONCATENATION supports NONE only, so apply the activation in a separate operator`,
      );
    }
    const rank = output.shape.length;
    const axis = options.axis < 0 ? options.axis + rank : options.axis;
    if (axis < 0 || axis >= rank) {
      throw new InvalidModelError(
        `${describeOperator(op)} has axis ${options.axis}, but output ${describeTensor(output)} has ${rank} dimensions; ` +
          `the file is corrupted`,
      );
    }

    let outerCount = 1;
    for (let d = 0; d < axis; d++) outerCount *= output.shape[d];
    let innerCount = 1;
    for (let d = axis + 1; d < rank; d++) innerCount *= output.shape[d];

    const parts: ConcatenationPart[] = [];
    let axisTotal = 0;
    for (const index of op.inputs) {
      const input = context.tensor(index);
      checkType(op, input, "input", [output.type]);
      checkJoinedShape(op, input, output, axis);
      let table: ByteTable | null = null;
      if (isTflm && output.type === TensorType.INT16) {
        checkInt16ZeroPoint(op, input, "input");
      } else if (isByteType && !(isTflm && output.type === TensorType.INT8)) {
        const quantization = perTensorQuantization(op, input, "input");
        const outputQuantization = perTensorQuantization(op, output, "output");
        const sameQuantization = quantization.scale === outputQuantization.scale && quantization.zeroPoint === outputQuantization.zeroPoint;
        if (!sameQuantization) table = rescaleTable(context, input, quantization, output, outputQuantization);
      } else {
        // Stored values are copied: int8 under "tflm", which has no
        // rescaling concatenation for int8, and types without a table.
        checkSameQuantization(op, input, output, "input");
      }
      parts.push({ tensor: input, sliceLength: input.shape[axis] * innerCount, outputOffset: axisTotal * innerCount, table });
      axisTotal += input.shape[axis];
    }
    if (axisTotal !== output.shape[axis]) {
      throw new InvalidModelError(
        `${describeOperator(op)}: the inputs have ${axisTotal} elements along axis ${axis} together, but output ` +
          `${describeTensor(output)} of shape [${output.shape}] has ${output.shape[axis]}; the file is corrupted`,
      );
    }
    const outputSliceLength = output.shape[axis] * innerCount;

    // 1-byte tensors are viewed as Uint8Array: a table maps the stored byte
    // (0 to 255) to the output value, whose low 8 bits are stored.
    const inputViews: ElementArray[] = [];
    let outputData: ElementArray = new Uint8Array(0);

    return {
      macs: 0,
      bind(memory: MemoryContext): void {
        inputViews.length = 0;
        for (const part of parts) inputViews.push(elementView(memory, part.tensor));
        outputData = elementView(memory, output);
      },
      invoke(): void {
        const out = outputData;
        for (let k = 0; k < parts.length; k++) {
          const part = parts[k];
          const input = inputViews[k];
          const table = part.table;
          const sliceLength = part.sliceLength;
          let inIndex = 0;
          let outBase = part.outputOffset;
          for (let outer = 0; outer < outerCount; outer++) {
            let outIndex = outBase;
            if (table === null) {
              for (let i = 0; i < sliceLength; i++) out[outIndex++] = input[inIndex++];
            } else {
              for (let i = 0; i < sliceLength; i++) out[outIndex++] = table[input[inIndex++]];
            }
            outBase += outputSliceLength;
          }
        }
      },
    };
  },
};

/** Throws unless the input has the output's rank and dimensions, except along the axis. */
function checkJoinedShape(op: OperatorDef, input: TensorDef, output: TensorDef, axis: number): void {
  let matches = input.shape.length === output.shape.length;
  for (let d = 0; matches && d < output.shape.length; d++) {
    if (d !== axis && input.shape[d] !== output.shape[d]) matches = false;
  }
  if (!matches) {
    throw new InvalidModelError(
      `${describeOperator(op)}: input ${describeTensor(input)} has shape [${input.shape}], output ${describeTensor(output)} ` +
        `has shape [${output.shape}]; they must agree in every dimension but axis ${axis}, so the file is corrupted`,
    );
  }
}

/** Throws UnsupportedError unless an int16 tensor has zero point 0, as TFLM's int16 CONCATENATION requires. */
function checkInt16ZeroPoint(op: OperatorDef, tensor: TensorDef, role: string): void {
  if (tensor.scale.length > 1 || (tensor.zeroPoint.length > 0 && tensor.zeroPoint[0] !== 0)) {
    throw new UnsupportedError(
      `${describeOperator(op)}: ${role} ${describeTensor(tensor)} has zero points [${Array.from(tensor.zeroPoint)}]; ` +
        `int16 CONCATENATION under the tflm scheme needs one zero point of 0, as TFLM does`,
    );
  }
}
