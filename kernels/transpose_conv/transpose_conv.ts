// TRANSPOSE_CONV under the "tflm" scheme: int8, or int16 activations with
// int8 weights (16x8), each bit-exact with TFLM's reference kernel.

import { UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { Kernel, PrepareContext, PreparedOp } from "../kernel.js";
import { prepareTransposeConv16x8 } from "./int16x8.js";
import { prepareTransposeConvInt8 } from "./int8.js";
import { prepareTransposeConvLayer } from "./layer.js";

export const transposeConvKernel: Kernel = {
  name: "TRANSPOSE_CONV",
  accepts: (context) => context.scheme.name === "tflm",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    if (context.scheme.name !== "tflm") {
      throw new UnsupportedError(
        `TRANSPOSE_CONV has TFLM's arithmetic only; this model asks for the requantization scheme "${context.scheme.name}"`,
      );
    }
    const layer = prepareTransposeConvLayer(context, op);
    return layer.input.type === TensorType.INT16
      ? prepareTransposeConv16x8(context, op, layer)
      : prepareTransposeConvInt8(context, op, layer);
  },
};
