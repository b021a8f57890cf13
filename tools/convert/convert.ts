// ONNX to .tflite conversion for uint8/int8 models in QDQ or QOperator form:
// decode, fold constants, recognize expanded DynamicQuantizeLinear, lower
// to quantized TFLite operators, and write the model with the
// requantization scheme and memory format in its metadata.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter, MEMORY_FORMAT_METADATA, REQUANTIZATION_METADATA } from "../../runtime/interpreter.js";
import { MemoryFormat, SchemeName } from "../../runtime/requantization/scheme.js";
import { foldExpandedDynamicQuantize } from "./dynamic_quantize.js";
import { matchFloatBias } from "./float_bias.js";
import { foldConstants } from "./fold_constants.js";
import { OnnxGraph, OnnxModelError } from "./graph.js";
import { Lowering, NodeHandler } from "./lower.js";
import { lowerConv, lowerConvInteger, lowerGemm, lowerMatMul, lowerMatMulInteger, lowerQLinearConv, lowerQLinearMatMul } from "./lower_accumulator.js";
import {
  lowerAdd,
  lowerAveragePool,
  lowerConcat,
  lowerGlobalAveragePool,
  lowerHardSigmoid,
  lowerHardSwish,
  lowerMaxPool,
  lowerMul,
  lowerSigmoid,
} from "./lower_elementwise.js";
import { lowerFlatten, lowerReshape, lowerTranspose } from "./lower_layout.js";
import { lowerCast, lowerClip, lowerDequantizeLinear, lowerDynamicQuantizeLinear, lowerIdentity, lowerQuantizeLinear, lowerRelu } from "./lower_qdq.js";
import { readOnnxGraph } from "./onnx_graph.js";
import { ConvertOptions, resolveConvertOptions } from "./options.js";
import { quantizeFloatGraph } from "./post_training.js";
import { removeUnusedNodes } from "./prune.js";
import { useQuantizedIo } from "./quantized_io.js";

export { moduleNameOfNode } from "./float_bias.js";
export { QuantizedIoError } from "./quantized_io.js";
export { ConvertOptionError, DEFAULT_SCHEME, MEMORY_FORMATS, POST_TRAINING_SCHEME, QUANTIZE_TYPES, parseFloatBias } from "./options.js";
export type { ConvertOptions } from "./options.js";

/** ONNX op types the converter handles, each with its lowering. */
const HANDLERS: ReadonlyMap<string, NodeHandler> = new Map<string, NodeHandler>([
  ["QuantizeLinear", lowerQuantizeLinear],
  ["DequantizeLinear", lowerDequantizeLinear],
  ["DynamicQuantizeLinear", lowerDynamicQuantizeLinear],
  ["Cast", lowerCast],
  ["Identity", lowerIdentity],
  ["Relu", lowerRelu],
  ["Clip", lowerClip],
  ["Conv", lowerConv],
  ["Gemm", lowerGemm],
  ["MatMul", lowerMatMul],
  ["QLinearConv", lowerQLinearConv],
  ["QLinearMatMul", lowerQLinearMatMul],
  ["ConvInteger", lowerConvInteger],
  ["MatMulInteger", lowerMatMulInteger],
  ["Flatten", lowerFlatten],
  ["Reshape", lowerReshape],
  ["Transpose", lowerTranspose],
  ["Add", lowerAdd],
  ["Concat", lowerConcat],
  ["MaxPool", lowerMaxPool],
  ["AveragePool", lowerAveragePool],
  ["GlobalAveragePool", lowerGlobalAveragePool],
  ["Sigmoid", lowerSigmoid],
  ["HardSwish", lowerHardSwish],
  ["HardSigmoid", lowerHardSigmoid],
  ["Mul", lowerMul],
]);

/** Converts the bytes of an .onnx file to .tflite bytes. */
export function convertOnnxModel(onnxBytes: Uint8Array, options: ConvertOptions = {}): Uint8Array {
  // Options are checked before the model is read, so that a bad option is reported first.
  resolveConvertOptions(options);
  return convertGraph(readOnnxGraph(onnxBytes), options);
}

/**
 * A converted model that microq's runtime rejects with the chosen scheme,
 * for example a rescale factor outside the range the scheme supports. The
 * runtime's error is kept as `runtimeError`.
 */
export class ConvertedModelError extends Error {
  constructor(
    readonly scheme: string,
    readonly runtimeError: InvalidModelError | UnsupportedError,
  ) {
    super(`the converted model cannot run with scheme ${scheme}: ${runtimeError.message}`);
    this.name = "ConvertedModelError";
  }
}

/**
 * Converts an in-memory graph (from an .onnx file or a node test) to
 * .tflite bytes. The graph is pruned and folded in place, and a float
 * graph is rewritten to QDQ form when options.quantize is "int8". With
 * options.quantizedIo the graph inputs and outputs become quantized
 * (quantized_io.ts). Throws
 * UnsupportedNodeError for a node the converter cannot lower,
 * OnnxModelError for an invalid graph, ConvertOptionError for an invalid
 * option (including a float bias that does not fit the graph), and
 * ConvertedModelError when the runtime cannot load the result.
 */
export function convertGraph(graph: OnnxGraph, options: ConvertOptions = {}): Uint8Array {
  const { scheme, memoryFormat, floatBias, calibration, quantizedIo } = resolveConvertOptions(options);
  if (graph.outputs.length === 0) {
    throw new OnnxModelError(`the ONNX graph "${graph.name}" has no outputs, so there is nothing to convert; export the model with its outputs`);
  }
  removeUnusedNodes(graph);
  foldConstants(graph);
  foldExpandedDynamicQuantize(graph);
  if (calibration !== undefined) quantizeFloatGraph(graph, calibration);
  if (quantizedIo) useQuantizedIo(graph);
  const floatBiasByNode = matchFloatBias(graph.nodes, floatBias);
  const lowering = new Lowering(graph, { scheme, floatBias: floatBiasByNode }, HANDLERS);
  lowering.run();
  const description = `converted by microq from ONNX graph "${graph.name}"`;
  const tflite = lowering.builder.build({ [REQUANTIZATION_METADATA]: scheme, [MEMORY_FORMAT_METADATA]: memoryFormat }, description);
  checkModelLoads(tflite, scheme as SchemeName, memoryFormat as MemoryFormat);
  return tflite;
}

/**
 * Loads the converted model with microq's Interpreter and the default
 * limits (those of microq run) and throws ConvertedModelError when the
 * runtime rejects it, so that no model is written that cannot run.
 */
function checkModelLoads(tflite: Uint8Array, scheme: SchemeName, memoryFormat: MemoryFormat): void {
  try {
    new Interpreter(tflite, { requantization: scheme, memoryFormat });
  } catch (error) {
    if (error instanceof InvalidModelError || error instanceof UnsupportedError) throw new ConvertedModelError(scheme, error);
    throw error;
  }
}
