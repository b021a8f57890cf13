// Options of the ONNX converter and their checks. Kept apart from the
// converter so that the CLI can check them without loading protobufjs.

import { SCHEME_NAMES } from "../../runtime/requantization/registry.js";
import { MemoryFormat } from "../../runtime/requantization/scheme.js";

/** Scheme written when the caller names none: ONNX's own rounding (float32 scale, ties to even). */
export const DEFAULT_SCHEME = "onnx";

export const MEMORY_FORMATS: readonly MemoryFormat[] = ["contiguous", "channels_last"];

export interface ConvertOptions {
  /** Requantization scheme to store; one of SCHEME_NAMES. Default "onnx". */
  scheme?: string;
  /** Memory format the reference framework ran in; default "contiguous". */
  memoryFormat?: string;
  /**
   * PyTorch's float bias of conv and fully connected layers, keyed by
   * PyTorch module name ("conv1", "features.0") or exact ONNX node name
   * ("/conv1/Conv"), one float32 value per output channel. Each named layer
   * gets this bias as a float32 tensor in real units in place of the int32
   * bias of the .onnx (float_bias.ts).
   */
  floatBias?: Readonly<Record<string, readonly number[]>>;
  /**
   * "int8" quantizes a float model after training (post_training.ts), from
   * `calibration`. The scheme then defaults to "tflm".
   */
  quantize?: string;
  /** Calibration inputs of post-training quantization: whole inputs of the model's one input, concatenated. */
  calibration?: Float32Array;
  /**
   * Whether the model takes and returns quantized integers: a float input's
   * QuantizeLinear and a float output's DequantizeLinear are dropped
   * (quantized_io.ts). Default false: float inputs and outputs stay float.
   */
  quantizedIo?: boolean;
}

/** Options after defaults and checks. */
export interface ResolvedConvertOptions {
  scheme: string;
  memoryFormat: string;
  /** Float bias by key, as given; empty when the option is absent. */
  floatBias: ReadonlyMap<string, Float32Array>;
  /** Calibration inputs when the float model is to be quantized to int8; undefined for an already quantized model. */
  calibration: Float32Array | undefined;
  /** Whether the graph inputs and outputs become quantized. */
  quantizedIo: boolean;
}

/** Values of the quantize option: the types post-training quantization produces. */
export const QUANTIZE_TYPES: readonly string[] = ["int8"];

/** Scheme written for a model quantized by post-training quantization when the caller names none: TFLM's, so int8 kernels run it. */
export const POST_TRAINING_SCHEME = "tflm";

/**
 * An invalid conversion option: an unknown scheme or memory format, or a
 * float bias that is malformed or does not fit the model.
 */
export class ConvertOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConvertOptionError";
  }
}

/** Applies the defaults and checks the names; throws ConvertOptionError naming the valid values. */
export function resolveConvertOptions(options: ConvertOptions): ResolvedConvertOptions {
  if (options.quantize !== undefined && !QUANTIZE_TYPES.includes(options.quantize)) {
    throw new ConvertOptionError(`quantization type "${options.quantize}" is not supported; use ${QUANTIZE_TYPES.join(" or ")}`);
  }
  if (options.quantize !== undefined && options.calibration === undefined) {
    throw new ConvertOptionError("post-training quantization needs calibration data: pass calibration inputs (--calibration FILE)");
  }
  if (options.quantize === undefined && options.calibration !== undefined) {
    throw new ConvertOptionError("calibration data is used only to quantize a float model; add the quantize option (--quantize int8)");
  }
  const scheme = options.scheme ?? (options.quantize === undefined ? DEFAULT_SCHEME : POST_TRAINING_SCHEME);
  if (!(SCHEME_NAMES as readonly string[]).includes(scheme)) {
    throw new ConvertOptionError(`requantization scheme "${scheme}" is unknown; use one of ${SCHEME_NAMES.join(", ")}`);
  }
  const memoryFormat = options.memoryFormat ?? "contiguous";
  if (!(MEMORY_FORMATS as readonly string[]).includes(memoryFormat)) {
    throw new ConvertOptionError(`memory format "${memoryFormat}" is unknown; use ${MEMORY_FORMATS.join(" or ")}`);
  }
  const floatBias = options.floatBias === undefined ? new Map<string, Float32Array>() : parseFloatBias(options.floatBias);
  if (options.quantizedIo !== undefined && typeof options.quantizedIo !== "boolean") {
    throw new ConvertOptionError(`the quantizedIo option must be true or false, got ${String(options.quantizedIo)}`);
  }
  return { scheme, memoryFormat, floatBias, calibration: options.calibration, quantizedIo: options.quantizedIo === true };
}

/**
 * Checks a float bias object, such as JSON.parse gives for a --float-bias
 * file, and returns its values by key. Every value must be a finite number
 * that float32 represents exactly, because PyTorch stores the bias as
 * float32 and a value that is not float32 comes from some other source.
 * Throws ConvertOptionError naming the key and index.
 */
export function parseFloatBias(value: unknown): Map<string, Float32Array> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new ConvertOptionError(`the float bias must be an object mapping layer names to arrays of numbers, but it is ${kind}`);
  }
  const result = new Map<string, Float32Array>();
  for (const [key, list] of Object.entries(value)) {
    if (!Array.isArray(list)) {
      throw new ConvertOptionError(`float bias "${key}" must be an array of numbers, but it is ${list === null ? "null" : `a ${typeof list}`}`);
    }
    const values = new Float32Array(list.length);
    list.forEach((element: unknown, index) => {
      if (typeof element !== "number" || !Number.isFinite(element) || Math.fround(element) !== element) {
        const elementText = typeof element === "number" ? String(element) : (JSON.stringify(element) ?? String(element));
        throw new ConvertOptionError(
          `float bias "${key}" index ${index} is ${elementText}, which is not a float32 number; ` +
            "write the bias values exactly as PyTorch stores them (m.bias().tolist() of the quantized module)",
        );
      }
      values[index] = element;
    });
    result.set(key, values);
  }
  return result;
}
