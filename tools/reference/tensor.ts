// Tensors as the float reference reads them: stored values widened to
// double, with the tensor's quantization, and their dequantized real values.
// Nothing here depends on microq's kernels, so the reference can disagree
// with them.

import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";

/** Error for a layer the reference cannot compute: an operator, type or option it does not model. */
export class FloatReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FloatReferenceError";
  }
}

/** Stored values of a tensor with its quantization parameters. */
export interface ReferenceTensor {
  /** TensorType enum value. */
  readonly type: number;
  readonly shape: readonly number[];
  /** Stored values: integers for integer types, float32 values for float32. */
  readonly values: Float64Array;
  /** Empty for an unquantized tensor, one entry per tensor, or one per channel. */
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

/** Real values of a layer's output, before requantization. */
export interface RealTensor {
  readonly shape: number[];
  readonly values: Float64Array;
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dimension of shape) count *= dimension;
  return count;
}

/** Decodes raw little-endian tensor bytes into doubles. The bytes need no alignment. */
export function decodeValues(bytes: Uint8Array, type: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = valueReader(view, type);
  const bytesPerValue = valueBytes(type);
  const values = new Float64Array(Math.floor(bytes.byteLength / bytesPerValue));
  for (let i = 0; i < values.length; i++) values[i] = read(i * bytesPerValue);
  return values;
}

function valueBytes(type: number): number {
  switch (type) {
    case TensorType.INT8:
    case TensorType.UINT8:
      return 1;
    case TensorType.INT16:
      return 2;
    case TensorType.INT32:
    case TensorType.FLOAT32:
      return 4;
    case TensorType.INT64:
      return 8;
    default:
      throw new FloatReferenceError(`tensor type ${tensorTypeName(type)} is not one the float reference reads`);
  }
}

function valueReader(view: DataView, type: number): (offset: number) => number {
  switch (type) {
    case TensorType.INT8:
      return (offset) => view.getInt8(offset);
    case TensorType.UINT8:
      return (offset) => view.getUint8(offset);
    case TensorType.INT16:
      return (offset) => view.getInt16(offset, true);
    case TensorType.INT32:
      return (offset) => view.getInt32(offset, true);
    case TensorType.FLOAT32:
      return (offset) => view.getFloat32(offset, true);
    case TensorType.INT64:
      // A double represents an int64 bias exactly up to 2^53, far beyond any real bias.
      return (offset) => Number(view.getBigInt64(offset, true));
    default:
      throw new FloatReferenceError(`tensor type ${tensorTypeName(type)} is not one the float reference reads`);
  }
}

export function isQuantized(tensor: ReferenceTensor): boolean {
  return tensor.type !== TensorType.FLOAT32 && tensor.scale.length > 0;
}

/** Scale of one channel: the per-tensor scale, or the channel's entry of a per-channel tensor. */
export function channelScale(tensor: ReferenceTensor, channel: number): number {
  return tensor.scale.length > 1 ? tensor.scale[channel] : tensor.scale[0];
}

/**
 * Throws unless the tensor's scales are per tensor or per channel along
 * `dimension`, the axis the operator treats as its output channels.
 */
export function checkChannelDimension(tensor: ReferenceTensor, dimension: number, role: string): void {
  if (tensor.scale.length > 1 && (tensor.quantizedDimension !== dimension || tensor.shape[dimension] !== tensor.scale.length)) {
    throw new FloatReferenceError(
      `${role} have ${tensor.scale.length} scales along dimension ${tensor.quantizedDimension} of shape ` +
        `[${tensor.shape}]; the reference expects one scale or one per channel of dimension ${dimension}`,
    );
  }
}

/**
 * Dequantizes every element: scale * (q - zero_point), with the scale and
 * zero point of the element's channel along quantizedDimension for a
 * per-channel tensor. Float32 tensors and unquantized integer tensors keep
 * their stored values.
 */
export function realValues(tensor: ReferenceTensor): Float64Array {
  if (!isQuantized(tensor)) return Float64Array.from(tensor.values);
  const result = new Float64Array(tensor.values.length);
  if (tensor.scale.length === 1) {
    const scale = tensor.scale[0];
    const zeroPoint = tensor.zeroPoint[0] ?? 0;
    for (let i = 0; i < result.length; i++) result[i] = scale * (tensor.values[i] - zeroPoint);
    return result;
  }

  // Elements of one channel repeat every `innerSize` elements, where
  // innerSize is the product of the dimensions after the channel axis.
  const dimension = tensor.quantizedDimension;
  const channels = tensor.shape[dimension];
  let innerSize = 1;
  for (let d = dimension + 1; d < tensor.shape.length; d++) innerSize *= tensor.shape[d];
  for (let i = 0; i < result.length; i++) {
    const channel = Math.floor(i / innerSize) % channels;
    result[i] = tensor.scale[channel] * (tensor.values[i] - (tensor.zeroPoint[channel] ?? 0));
  }
  return result;
}

/** Returns the scale of a per-tensor quantized activation and throws for an unquantized or per-channel one. */
export function perTensorScale(tensor: ReferenceTensor, role: string): number {
  if (!isQuantized(tensor) || tensor.scale.length !== 1) {
    throw new FloatReferenceError(`${role} has ${tensor.scale.length} scales; the reference needs one per-tensor scale`);
  }
  return tensor.scale[0];
}

/**
 * Real bias per output channel: bias_q * input_scale * weight_scale[channel],
 * the scale of the integer accumulator the bias is added to. The bias
 * tensor's own stored scale is ignored, as the integer kernels ignore it.
 * A missing bias is zero.
 */
export function realBias(bias: ReferenceTensor | null, inputScale: number, weights: ReferenceTensor, channels: number): Float64Array {
  const result = new Float64Array(channels);
  if (bias === null) return result;
  if (bias.values.length !== channels) {
    throw new FloatReferenceError(`bias has ${bias.values.length} elements, expected one per output channel (${channels})`);
  }
  // A float32 bias (PyTorch's, kept by the converter) is in real units
  // already; an int32 bias counts units of inputScale * weightScale.
  const isReal = bias.type === TensorType.FLOAT32;
  for (let channel = 0; channel < channels; channel++) {
    result[channel] = isReal ? bias.values[channel] : bias.values[channel] * inputScale * channelScale(weights, channel);
  }
  return result;
}
