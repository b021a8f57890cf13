// Public API of the microq bundle.

export { Interpreter } from "./interpreter.js";
export type { InterpreterOptions, ModelSource, OperatorSummary } from "./interpreter.js";
export type { TensorView, TensorData } from "./tensor_view.js";
export { MicroqError, InvalidModelError, UnsupportedError, InvalidInputError, ArenaTooSmallError } from "./errors.js";
export { parseModel } from "./model.js";
export type { ModelDef, TensorDef, OperatorDef } from "./model.js";
export { tensorTypeName } from "./tensor_types.js";
export { supportedOperatorNames, findKernel } from "../kernels/registry.js";
export type { Kernel, PrepareContext, MemoryContext, PreparedOp } from "../kernels/kernel.js";
export {
  saturatingRoundingDoublingHighMul,
  roundingDivideByPOT,
  multiplyByQuantizedMultiplier,
} from "./fixedpoint.js";
export { quantizeMultiplier } from "./quantize_multiplier.js";
