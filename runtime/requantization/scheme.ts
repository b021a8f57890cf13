// Requantization schemes: how a quantized kernel maps exact integer sums
// back to output integers. Frameworks agree on the real-valued result and
// differ in the rounding, so each scheme is one module with this shape and
// a model names the scheme it was checked against (metadata
// "microq_requantization", overridable at load).
//
// Every method that returns a function or an object runs at prepare and may
// allocate. The functions it returns run at invoke and must not allocate.

/** Names of the schemes, as stored in model metadata and accepted at load. */
export type SchemeName =
  | "tflm"
  | "single"
  | "qnnpack-q31"
  | "qnnpack-precise"
  | "pytorch-qnnpack"
  | "pytorch-onednn"
  | "onnx";

/**
 * Memory format the reference framework ran an operator in. PyTorch's
 * onednn engine rounds average pooling differently for NCHW
 * ("contiguous") and NHWC ("channels_last") inputs; other schemes ignore it.
 */
export type MemoryFormat = "contiguous" | "channels_last";

/** One convolution, depthwise convolution, fully connected or matrix product layer. */
export interface AccumulatorLayer {
  /**
   * "conv" or "fully_connected". TFLM derives conv multipliers from the
   * scales in double and fully connected ones from a float32 product of the
   * input and weight scales.
   */
  readonly kind: "conv" | "fully_connected";
  readonly inputScale: number;
  /** One scale per output channel, or a single per-tensor scale. */
  readonly weightScales: ArrayLike<number>;
  readonly outputScale: number;
  readonly outputZeroPoint: number;
  /** Output channels; weightScales has 1 or `channels` entries. */
  readonly channels: number;
  /**
   * Bias per output channel: int32 in units of inputScale * weightScale,
   * float32 in real units, or null for no bias.
   */
  readonly bias: Int32Array | Float32Array | null;
}

export interface AccumulatorRequantizer {
  /**
   * Output integer of output channel `channel` for the exact int32
   * accumulator acc = sum((x - zx) * (w - zw)): bias and output zero point
   * included, not yet clamped to the output type or activation range.
   */
  requantize(acc: number, channel: number): number;
}

/** Quantization of the two inputs and the output of an elementwise add. */
export interface AddParams {
  readonly aScale: number;
  readonly aZeroPoint: number;
  readonly bScale: number;
  readonly bZeroPoint: number;
  readonly outputScale: number;
  readonly outputZeroPoint: number;
}

export interface AddRequantizer {
  /** Output integer for stored input integers a and b, zero point included, not clamped. */
  add(a: number, b: number): number;
}

/** Quantization of one input and the output of a rescaling copy (concatenation, requantize). */
export interface RescaleParams {
  readonly inputScale: number;
  readonly inputZeroPoint: number;
  readonly outputScale: number;
  readonly outputZeroPoint: number;
}

export interface AveragePoolParams extends RescaleParams {
  readonly memoryFormat: MemoryFormat;
}

export interface AverageRequantizer {
  /**
   * Output integer for one window: centeredSum = sum(x - zx) over the
   * window, divisor = the count the framework divides by. Zero point
   * included, not clamped.
   */
  average(centeredSum: number, divisor: number): number;
}

export interface RequantizationScheme {
  readonly name: SchemeName;
  /** One line naming the framework and engine whose integers this scheme reproduces. */
  readonly description: string;
  /**
   * True when some invoke-time path computes in floating point (Math.fround
   * or doubles), which ESP32 runs in software.
   */
  readonly usesFloatAtInvoke: boolean;
  /** Requantizer of a conv, depthwise conv, fully connected or matrix product layer. */
  accumulator(layer: AccumulatorLayer): AccumulatorRequantizer;
  add(params: AddParams): AddRequantizer;
  /** Maps one stored input integer to the output integer, not clamped. Kernels tabulate it at prepare. */
  rescale(params: RescaleParams): (x: number) => number;
  averagePool(params: AveragePoolParams): AverageRequantizer;
  /**
   * The framework's rounding of a real value to a quantized integer:
   * round(real / scale) + zeroPoint with the scheme's tie rule, not clamped.
   * Used by QUANTIZE and by tables of unary functions (hard swish, logistic)
   * built at prepare.
   */
  quantizeReal(real: number, scale: number, zeroPoint: number): number;
}
