// Prepare-time checks and derived values shared by the affine accumulator
// kernels: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and BATCH_MATMUL with
// uint8 or int8 activations, uint8 or int8 weights with any (per-channel)
// zero points, and an output that is either requantized by the model's
// scheme or the raw int32 accumulator.
//
// Every kernel computes the exact accumulator
//   acc = sum over k of (x[k] - zx) * (w[k] - zw)
// as
//   acc = (sum x[k] * w[k]  -  zw * sum x[k])  -  zx * sum (w[k] - zw),
// so the inner loop multiplies stored integers only. The last term depends
// on the weights alone, so prepare computes it (channelOffsets). The input
// sum is needed only when some weight zero point is not 0.
//
// Range argument. A stored 8-bit value lies in [-128, 255], so |x| <= 255,
// |w| <= 255, |x - zx| <= 255 and |w - zw| <= 255, and every product above
// is at most 255 * 255 = 65025 in magnitude. Summed over a depth of n terms:
//   |sum x * w|, |zw * sum x|, |sum x * (w - zw)|  <=  65025 * n
//   |sum zx * (w - zw)|, |acc|                     <=  65025 * n
// and these are all the values the kernels form, in this order. With
// n <= MAX_ACCUMULATOR_DEPTH = 33025, 65025 * n = 2,147,450,625 < 2^31, so
// every intermediate is an int32 (XS keeps it as an integer, and no bit is
// lost). Layers with a deeper accumulator are rejected at prepare.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { AccumulatorLayer, AccumulatorRequantizer } from "../../runtime/requantization/scheme.js";
import { Activation, ACTIVATION_NAMES } from "../../runtime/schema/options.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { checkType, describeTensor, fusedActivationRange, typeRange } from "../common.js";
import { MemoryContext, PrepareContext } from "../kernel.js";

/** Largest accumulator depth (terms per output) whose sums provably stay within int32. */
export const MAX_ACCUMULATOR_DEPTH = 33025;

/** A view of uint8 or int8 tensor data. */
export type QuantizedArray = Uint8Array | Int8Array;

/** A view of an output tensor: uint8 or int8 requantized, or int32 raw accumulators. */
export type AccumulatorOutputArray = Uint8Array | Int8Array | Int32Array;

const EIGHT_BIT_TYPES = [TensorType.UINT8, TensorType.INT8];

/** Per-tensor quantization of an activation tensor. */
export interface ActivationQuantization {
  /** 0 when the tensor has no scale (allowed only for raw int32 outputs). */
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * Checks that an input activation is uint8 or int8 with one scale and zero
 * point. With `scaleRequired` false (raw int32 output) a missing scale is
 * accepted and the zero point defaults to 0.
 */
export function readInputQuantization(
  op: OperatorDef,
  tensor: TensorDef,
  role: string,
  scaleRequired: boolean,
): ActivationQuantization {
  checkType(op, tensor, role, EIGHT_BIT_TYPES);
  const scales = tensor.scale.length;
  if (scales > 1 || tensor.zeroPoint.length > 1) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} has ${scales} scales and ${tensor.zeroPoint.length} zero points; ` +
        `${op.name} needs per-tensor quantization of its ${role} (one scale and zero point)`,
    );
  }
  if (scaleRequired && scales === 0) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} has no quantization scale; ${op.name} with a uint8 or int8 output needs one`,
    );
  }
  const scale = scales === 1 ? tensor.scale[0] : 0;
  if (scales === 1 && !(scale > 0)) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has scale ${scale}, expected a positive scale; the file is corrupted`,
    );
  }
  const zeroPoint = tensor.zeroPoint.length === 1 ? tensor.zeroPoint[0] : 0;
  checkZeroPointRange(op, tensor, role, zeroPoint, 0);
  return { scale, zeroPoint };
}

function checkZeroPointRange(op: OperatorDef, tensor: TensorDef, role: string, zeroPoint: number, channel: number): void {
  const [min, max] = typeRange(tensor.type);
  if (!Number.isInteger(zeroPoint) || zeroPoint < min || zeroPoint > max) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has zero point ${zeroPoint} at index ${channel}, ` +
        `outside the ${tensorTypeName(tensor.type)} range [${min}, ${max}]; the file is corrupted`,
    );
  }
}

/** Constant uint8 or int8 weights with their per-channel quantization. */
export interface AffineWeights {
  readonly tensor: TensorDef;
  /** Zero-copy view of the weights in the model buffer. */
  readonly data: QuantizedArray;
  /** One scale, or one per output channel; empty when the tensor has none. */
  readonly scales: ArrayLike<number>;
  /** Zero point of every output channel (a per-tensor zero point repeated). */
  readonly zeroPoints: Int32Array;
  /** True when some channel's zero point is not 0, so kernels need input sums. */
  readonly hasZeroPoints: boolean;
}

/**
 * Reads and checks the weights of a conv-like operator: uint8 or int8,
 * stored in the model, with 1 or `channels` scales and zero points along
 * dimension `channelDimension`.
 */
export function readAffineWeights(
  context: PrepareContext,
  op: OperatorDef,
  inputIndex: number,
  channels: number,
  channelDimension: number,
  scaleRequired: boolean,
): AffineWeights {
  const tensorIndex = op.inputs[inputIndex];
  const tensor = context.tensor(tensorIndex);
  checkType(op, tensor, "weights", EIGHT_BIT_TYPES);
  if (!context.isConstant(tensorIndex)) {
    throw new UnsupportedError(
      `weights ${describeTensor(tensor)} are computed at run time; ${op.name} needs weights stored in the model`,
    );
  }
  const scales = readChannelQuantization(op, tensor, "weights", channels, channelDimension, scaleRequired);
  const zeroPoints = channelZeroPoints(op, tensor, "weights", channels);
  let hasZeroPoints = false;
  for (let c = 0; c < channels; c++) if (zeroPoints[c] !== 0) hasZeroPoints = true;
  context.notePersistentBytes(zeroPoints.byteLength);
  return { tensor, data: constantView(context, tensorIndex, tensor), scales, zeroPoints, hasZeroPoints };
}

/**
 * Checks the scales of a tensor quantized per tensor or per channel along
 * `channelDimension` and returns them.
 */
export function readChannelQuantization(
  op: OperatorDef,
  tensor: TensorDef,
  role: string,
  channels: number,
  channelDimension: number,
  scaleRequired: boolean,
): ArrayLike<number> {
  const scaleCount = tensor.scale.length;
  const zeroPointCount = tensor.zeroPoint.length;
  const countIsValid = (n: number, allowNone: boolean) => n === 1 || n === channels || (allowNone && n === 0);
  if (!countIsValid(scaleCount, !scaleRequired) || !countIsValid(zeroPointCount, true)) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} have ${scaleCount} scales and ${zeroPointCount} zero points; ` +
        `${op.name} needs 1 or one per output channel (${channels})`,
    );
  }
  const perChannel = channels > 1 && (scaleCount === channels || zeroPointCount === channels);
  if (perChannel && tensor.quantizedDimension !== channelDimension) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} are quantized along dimension ${tensor.quantizedDimension}; ` +
        `${op.name} needs per-channel quantization along dimension ${channelDimension}`,
    );
  }
  for (let c = 0; c < scaleCount; c++) {
    if (!(tensor.scale[c] > 0)) {
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has scale ${tensor.scale[c]} at channel ${c}, ` +
          `expected a positive scale; the file is corrupted`,
      );
    }
  }
  return tensor.scale;
}

/** Zero point of every channel, with a per-tensor (or missing) zero point repeated. */
export function channelZeroPoints(op: OperatorDef, tensor: TensorDef, role: string, channels: number): Int32Array {
  const zeroPoints = new Int32Array(channels);
  const count = tensor.zeroPoint.length;
  for (let c = 0; c < count; c++) checkZeroPointRange(op, tensor, role, tensor.zeroPoint[c], c);
  if (count === 1) zeroPoints.fill(tensor.zeroPoint[0]);
  else if (count === channels) for (let c = 0; c < channels; c++) zeroPoints[c] = tensor.zeroPoint[c];
  return zeroPoints;
}

/** Zero-copy view of a constant uint8 or int8 tensor. */
export function constantView(context: PrepareContext, tensorIndex: number, tensor: TensorDef): QuantizedArray {
  const bytes = context.constantBytes(tensorIndex);
  return tensor.type === TensorType.INT8 ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/**
 * Reads the optional bias input: int32 in units of inputScale * weightScale,
 * float32 in real units (as PyTorch stores it), or null when omitted.
 */
export function readAffineBias(
  context: PrepareContext,
  op: OperatorDef,
  inputIndex: number,
  channels: number,
): Int32Array | Float32Array | null {
  const tensorIndex = op.inputs.length > inputIndex ? op.inputs[inputIndex] : -1;
  if (tensorIndex < 0) return null;
  const bias = context.tensor(tensorIndex);
  checkType(op, bias, "bias", [TensorType.INT32, TensorType.FLOAT32]);
  if (bias.elementCount !== channels) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): bias ${describeTensor(bias)} has ${bias.elementCount} elements, ` +
        `expected ${channels} (one per output channel); the file is corrupted`,
    );
  }
  if (!context.isConstant(tensorIndex)) {
    throw new UnsupportedError(`bias ${describeTensor(bias)} is computed at run time; ${op.name} needs a bias stored in the model`);
  }
  if (bias.type === TensorType.INT32) return context.constantInt32(tensorIndex);

  const bytes = context.constantBytes(tensorIndex);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(channels);
  for (let c = 0; c < channels; c++) values[c] = view.getFloat32(4 * c, true);
  context.notePersistentBytes(values.byteLength);
  return values;
}

/** Throws UnsupportedError when an accumulator of `depth` terms could leave int32 (see the range argument above). */
export function checkAccumulatorDepth(op: OperatorDef, depth: number, what: string): void {
  if (depth > MAX_ACCUMULATOR_DEPTH) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) sums ${depth} products per output (${what}); the int32 accumulator is exact ` +
        `for at most ${MAX_ACCUMULATOR_DEPTH}, so split the layer into smaller ones`,
    );
  }
}

/** Requantizer and clamp range of a layer's output. */
export interface OutputStage {
  /** The scheme's requantizer, or the identity for a raw int32 output. */
  readonly requantizer: AccumulatorRequantizer;
  /** Clamp range: the output type's range narrowed by the fused activation. */
  readonly min: number;
  readonly max: number;
  /** True when the output is int32 without quantization, holding raw accumulators. */
  readonly raw: boolean;
}

/** Identity "requantizer" of raw int32 outputs. */
const RAW_ACCUMULATOR: AccumulatorRequantizer = {
  requantize(acc: number): number {
    return acc;
  },
};

/** True when the output contains raw accumulators: int32 without quantization. */
export function isRawOutput(output: TensorDef): boolean {
  return output.type === TensorType.INT32;
}

/**
 * Checks the output tensor and prepares its requantization: the scheme's
 * accumulator requantizer and the clamp range of the fused activation,
 * whose bounds the scheme quantizes as the framework does. An int32 output
 * without quantization gets the raw accumulator; then the operator must have
 * no bias and no fused activation, as ONNX's ConvInteger and MatMulInteger.
 */
export function prepareOutputStage(
  context: PrepareContext,
  op: OperatorDef,
  kind: AccumulatorLayer["kind"],
  input: ActivationQuantization,
  weightScales: ArrayLike<number>,
  bias: Int32Array | Float32Array | null,
  output: TensorDef,
  channels: number,
  activation: number,
): OutputStage {
  checkType(op, output, "output", [TensorType.UINT8, TensorType.INT8, TensorType.INT32]);
  if (isRawOutput(output)) {
    if (output.scale.length > 0) {
      throw new UnsupportedError(
        `output ${describeTensor(output)} is int32 with a quantization scale; ${op.name} writes int32 outputs ` +
          `only as raw accumulators, without quantization`,
      );
    }
    if (bias !== null) {
      throw new UnsupportedError(
        `${op.name} with the raw int32 output ${describeTensor(output)} has a bias; remove the bias or add it in a later operator`,
      );
    }
    if (activation !== Activation.NONE) {
      throw new UnsupportedError(
        `${op.name} with the raw int32 output ${describeTensor(output)} has fused activation ` +
          `${ACTIVATION_NAMES[activation] ?? activation}; only NONE is supported there`,
      );
    }
    return { requantizer: RAW_ACCUMULATOR, min: -0x80000000, max: 0x7fffffff, raw: true };
  }

  const out = readInputQuantization(op, output, "output", true);
  const requantizer = context.scheme.accumulator({
    kind,
    inputScale: input.scale,
    weightScales,
    outputScale: out.scale,
    outputZeroPoint: out.zeroPoint,
    channels,
    bias,
  });
  const quantize = (real: number) => context.scheme.quantizeReal(real, out.scale, out.zeroPoint);
  const [min, max] = fusedActivationRange(op, activation, output.type, quantize);
  return { requantizer, min, max, raw: false };
}

/**
 * Returns, for each channel c, zx * sum over k of (w[c, k] - zw[c]): the
 * term of the accumulator that depends on the weights alone. Weight
 * (c, k) is at data[c * channelStride + k * depthStride]. Within int32 by
 * the range argument above.
 */
export function channelOffsets(
  weights: AffineWeights,
  channels: number,
  depth: number,
  channelStride: number,
  depthStride: number,
  inputZeroPoint: number,
): Int32Array {
  const offsets = new Int32Array(channels);
  const data = weights.data;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let k = 0; k < depth; k++) sum += data[c * channelStride + k * depthStride];
    offsets[c] = inputZeroPoint * (sum - depth * weights.zeroPoints[c]);
  }
  return offsets;
}

/** Binds a uint8 or int8 tensor with the view of its type. */
export function quantizedView(memory: MemoryContext, tensorIndex: number, type: number): QuantizedArray {
  return type === TensorType.INT8 ? memory.int8(tensorIndex) : memory.uint8(tensorIndex);
}

/** Binds an output tensor: uint8, int8 or int32. */
export function outputView(memory: MemoryContext, tensorIndex: number, type: number): AccumulatorOutputArray {
  return type === TensorType.INT32 ? memory.int32(tensorIndex) : quantizedView(memory, tensorIndex, type);
}

/** Weight rows one dotProducts call handles together. */
export const ROW_BLOCK = 4;

/**
 * Writes to sums[0, count) the dot products of source[sourceStart,
 * sourceStart + depth) with the `count` (1 to ROW_BLOCK) consecutive weight
 * rows of length `depth` that start at row `firstRow`. A full block reads
 * each source value once for four rows: on the xsnap meter, a 16x16x16
 * uint8 3x3 conv went from 34 to 25 units per MAC. Allocates nothing.
 */
export function dotProducts(
  source: QuantizedArray,
  sourceStart: number,
  weights: QuantizedArray,
  firstRow: number,
  depth: number,
  count: number,
  sums: Int32Array,
): void {
  const sourceEnd = sourceStart + depth;
  let k, x, row, dot, weightIndex;
  if (count === ROW_BLOCK) {
    let dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
    let weight0 = firstRow * depth;
    let weight1 = weight0 + depth;
    let weight2 = weight1 + depth;
    let weight3 = weight2 + depth;
    for (k = sourceStart; k < sourceEnd; k++) {
      x = source[k];
      dot0 += x * weights[weight0++];
      dot1 += x * weights[weight1++];
      dot2 += x * weights[weight2++];
      dot3 += x * weights[weight3++];
    }
    sums[0] = dot0;
    sums[1] = dot1;
    sums[2] = dot2;
    sums[3] = dot3;
    return;
  }
  for (row = 0; row < count; row++) {
    dot = 0;
    weightIndex = (firstRow + row) * depth;
    for (k = sourceStart; k < sourceEnd; k++) dot += source[k] * weights[weightIndex++];
    sums[row] = dot;
  }
}
