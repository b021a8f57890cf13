// microq convert: an ONNX model in QDQ or QOperator form to a .tflite file
// with uint8/int8 operators and the requantization scheme in its metadata.

import { ParsedArgs, parseArgs, singleValue } from "../args.js";
import { InputFileError, SetupError, UsageError } from "../cli_errors.js";
import { OnnxModelError, UnsupportedNodeError } from "../convert/graph.js";
import { ConvertOptionError, DEFAULT_SCHEME, MEMORY_FORMATS, POST_TRAINING_SCHEME, QUANTIZE_TYPES, parseFloatBias } from "../convert/options.js";
import { readBinaryFile } from "../model_files.js";
import { checkOutputPaths, writeOutputFiles } from "../output_files.js";
import { SCHEME_NAMES } from "../../runtime/requantization/registry.js";
import { escapeControlCharacters } from "../text.js";

export const CONVERT_USAGE =
  "microq convert MODEL.onnx -o MODEL.tflite [--scheme NAME] [--memory-format contiguous|channels_last] [--float-bias BIAS.json] [--quantize int8 --calibration INPUTS.bin] [--quantized-io]";

export const CONVERT_HELP = `usage: ${CONVERT_USAGE}

Converts a quantized ONNX model to .tflite. QDQ form (QuantizeLinear and DequantizeLinear
around float Conv, Gemm, MatMul, Add, Concat, pooling, Flatten, Reshape, Relu, HardSwish and
Sigmoid, as torch.onnx writes quantized models) and QOperator form (QLinearConv,
QLinearMatMul, ConvInteger, MatMulInteger, DynamicQuantizeLinear) become quantized TFLite
operators. NCHW tensors become NHWC; a symbolic dimension such as the batch becomes 1.
Exits with status 2 when the model has a node that cannot be converted, naming it, or when
microq's runtime cannot load the converted model with the chosen scheme (no file is written
then), and with status 1 when the model or the float bias file is invalid or --quantized-io
does not fit the model.

With --quantize int8 the model is a float ONNX model (Gemm, MatMul, Add, Relu, Flatten,
Reshape, Identity) with one input, quantized after training: it is run in float32 on the
calibration inputs to find each activation's range, and gets int8 activations (TFLite's
asymmetric rule, the range widened to include 0), int8 weights symmetric per output unit and
int32 biases. The model's input and outputs become int8; read their scale and zero point
with microq inspect. The scheme defaults to tflm, which runs the model on the int8 kernels.

options:
  -o, --output FILE       the .tflite file to write
  --scheme NAME           requantization scheme stored in the model: ${SCHEME_NAMES.join(", ")}
                          (default ${DEFAULT_SCHEME}); use the one of the framework and engine that
                          produced the reference integers
  --memory-format NAME    memory format the reference framework ran in: contiguous (default) or
                          channels_last; it changes only PyTorch onednn average pooling
  --float-bias FILE       JSON object mapping PyTorch module names ("conv1", "features.0") or ONNX
                          node names ("/conv1/Conv") to the layer's float bias, one float32 number
                          per output channel, used in place of the bias in the .onnx
  --quantize int8         quantize a float model after training (needs --calibration)
  --calibration FILE      calibration inputs: raw little-endian float32, whole inputs of the
                          model's input shape (a symbolic batch dimension counts as 1) one after
                          another, in ONNX element order; use a few hundred typical inputs
  --quantized-io          take and return the quantized integers instead of floats: drop the
                          QuantizeLinear of each float input and the DequantizeLinear of each
                          float output (as TFLite's inference_input_type and
                          inference_output_type do); see "Quantized inputs and outputs" below

Float bias: torch.onnx 1.13 exports the bias b of each quantized conv and linear layer as the
int32 trunc(b / (input scale * weight scale)), rounded toward zero. PyTorch's qnnpack engine
rounds that quotient to nearest and its onednn engine adds b in float, so a model converted
from the .onnx alone can differ from PyTorch by 1 in some outputs. To get PyTorch's integers,
write the float biases of the quantized model (qmodel, the result of
torch.ao.quantization.convert) with

  import json
  with open("bias.json", "w") as f:
      json.dump({name: m.bias().tolist() for name, m in qmodel.named_modules()
                 if callable(getattr(m, "bias", None)) and m.bias() is not None}, f)

and pass --float-bias bias.json with --scheme pytorch-qnnpack or pytorch-onednn. Every key must
name a Conv or Gemm layer with a bias, and every value must lie within 1 unit of the int32 bias
in the .onnx; otherwise the file belongs to another model and convert exits with status 1.
The file must cover every Conv and Gemm layer that has a bias (convert names the missing
ones), because a layer left with the .onnx bias would make the results inexact.

Quantized inputs and outputs: by default the converted model keeps the .onnx's float input
and output and quantizes and dequantizes inside. With --quantized-io each float input that
only QuantizeLinear nodes read becomes a uint8 or int8 input with their scale and zero point,
and each float output that a DequantizeLinear produces becomes that node's integer input with
its scale and zero point (read them with microq inspect). microq run then takes the quantized
input bytes, for PyTorch the int_repr() of the quantized input, and writes the integers the
engine computed, such as PyTorch's int logits. A float input read by other nodes, or a float
output from any other node, makes convert exit with status 1.`;

/** Exit status of a model with a node the converter cannot lower, or whose conversion the runtime cannot load. */
const UNSUPPORTED_NODE_STATUS = 2;

/** Parses the convert arguments; "-o" is accepted as a short form of --output. */
export function parseConvertArgs(argv: readonly string[]): ParsedArgs {
  return parseArgs(
    argv.map((arg) => (arg === "-o" ? "--output" : arg)),
    ["output", "scheme", "memory-format", "float-bias", "quantize", "calibration"],
    ["quantized-io"],
  );
}

/** Runs the command and returns its exit status: 0, or 2 for an unsupported node or model (other errors are thrown). */
export async function convertCommand(args: ParsedArgs): Promise<number> {
  if (args.positional.length !== 1) throw new UsageError(`convert takes one ONNX model file\nusage: ${CONVERT_USAGE}`);
  const outputs = args.values.get("output") ?? [];
  if (outputs.length !== 1) throw new UsageError(`convert needs one -o FILE for the .tflite output\nusage: ${CONVERT_USAGE}`);
  const quantize = args.values.has("quantize") ? singleValue(args, "quantize", "") : undefined;
  if (quantize !== undefined && !QUANTIZE_TYPES.includes(quantize)) throw new UsageError(`--quantize must be ${QUANTIZE_TYPES.join(" or ")}, got "${quantize}"`);
  const calibrationPath = args.values.has("calibration") ? singleValue(args, "calibration", "") : undefined;
  if (quantize !== undefined && calibrationPath === undefined) throw new UsageError(`--quantize needs --calibration FILE with calibration inputs\nusage: ${CONVERT_USAGE}`);
  if (quantize === undefined && calibrationPath !== undefined) throw new UsageError("--calibration is used only with --quantize int8");
  const scheme = singleValue(args, "scheme", quantize === undefined ? DEFAULT_SCHEME : POST_TRAINING_SCHEME);
  if (!(SCHEME_NAMES as readonly string[]).includes(scheme)) {
    throw new UsageError(`--scheme must be one of ${SCHEME_NAMES.join(", ")}, got "${scheme}"`);
  }
  const memoryFormat = singleValue(args, "memory-format", "contiguous");
  if (!(MEMORY_FORMATS as readonly string[]).includes(memoryFormat)) {
    throw new UsageError(`--memory-format must be ${MEMORY_FORMATS.join(" or ")}, got "${memoryFormat}"`);
  }

  const floatBiasPath = args.values.has("float-bias") ? singleValue(args, "float-bias", "") : undefined;

  const modelPath = args.positional[0];
  const onnxBytes = readBinaryFile(modelPath, "model");
  const floatBias = floatBiasPath === undefined ? undefined : readFloatBiasFile(floatBiasPath);
  const calibration = calibrationPath === undefined ? undefined : readCalibrationFile(calibrationPath);
  const inputs = [{ description: `the model ${modelPath}`, path: modelPath }];
  if (floatBiasPath !== undefined) inputs.push({ description: `the float bias file ${floatBiasPath}`, path: floatBiasPath });
  if (calibrationPath !== undefined) inputs.push({ description: `the calibration file ${calibrationPath}`, path: calibrationPath });
  const targets = checkOutputPaths(outputs, inputs);

  const { convertOnnxModel, ConvertedModelError, QuantizedIoError } = await loadConverter();
  let tflite: Uint8Array;
  try {
    tflite = convertOnnxModel(onnxBytes, { scheme, memoryFormat, floatBias, quantize, calibration, quantizedIo: args.flags.has("quantized-io") });
  } catch (error) {
    if (error instanceof UnsupportedNodeError || error instanceof ConvertedModelError) {
      process.stderr.write(`microq: ${escapeControlCharacters(`${modelPath}: ${error.message}`)}\n`);
      return UNSUPPORTED_NODE_STATUS;
    }
    if (error instanceof OnnxModelError || error instanceof QuantizedIoError) throw new InputFileError(`${modelPath}: ${error.message}`);
    // Scheme and memory format were checked above, so an option error here is about the float bias.
    if (error instanceof ConvertOptionError) throw new InputFileError(`${floatBiasPath ?? "option"}: ${error.message}`);
    throw error;
  }
  writeOutputFiles(targets, [tflite]);
  return 0;
}

/**
 * Reads a --float-bias file and checks its values; throws InputFileError
 * naming the file when it is missing, not JSON or not a float bias object.
 */
function readFloatBiasFile(path: string): Record<string, number[]> {
  const bytes = readBinaryFile(path, "float bias file");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InputFileError(`${path}: the float bias file is not valid UTF-8 JSON (${(error as Error).message}); write it with json.dump as microq convert --help shows`);
  }
  try {
    parseFloatBias(json);
  } catch (error) {
    if (error instanceof ConvertOptionError) throw new InputFileError(`${path}: ${error.message}`);
    throw error;
  }
  return json as Record<string, number[]>;
}

/**
 * Reads a --calibration file of raw little-endian float32 values; throws
 * InputFileError when it is missing, empty or not a whole number of floats.
 */
function readCalibrationFile(path: string): Float32Array {
  const bytes = readBinaryFile(path, "calibration file");
  if (bytes.length === 0 || bytes.length % 4 !== 0) {
    throw new InputFileError(`${path}: the calibration file has ${bytes.length} bytes, which is not a positive multiple of 4; write raw little-endian float32 values`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/**
 * Loads the converter on demand, so that the other commands do not need
 * protobufjs, a development dependency. Throws SetupError when it is missing.
 */
async function loadConverter(): Promise<typeof import("../convert/convert.js")> {
  try {
    return await import("../convert/convert.js");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String(error).includes("protobufjs")) {
      throw new SetupError("microq convert needs the protobufjs package, which is not installed; run npm install in the microq repository");
    }
    throw error;
  }
}
