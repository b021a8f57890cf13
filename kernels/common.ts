// Helpers shared by kernels at prepare time: type and quantization checks,
// padding, activation ranges and per-channel multipliers. Nothing here runs
// inside invoke().

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { quantizeMultiplier } from "../runtime/quantize_multiplier.js";
import { roundHalfAwayFromZero } from "../runtime/quantize_multiplier.js";
import { Activation, ACTIVATION_NAMES, Padding } from "../runtime/schema/options.js";
import { TensorType, tensorTypeName } from "../runtime/tensor_types.js";
import { PrepareContext } from "./kernel.js";

/** Describes a tensor for messages: `tensor 3 "conv/weights"`. */
export function describeTensor(tensor: TensorDef): string {
  return `tensor ${tensor.index} "${tensor.name}"`;
}

export function checkInputCount(op: OperatorDef, min: number, max: number): void {
  const n = op.inputs.length;
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new InvalidModelError(`operator ${op.index} (${op.name}) has ${n} inputs, expected ${expected}; the file is corrupted`);
  }
}

export function checkOutputCount(op: OperatorDef, expected: number): void {
  if (op.outputs.length !== expected) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) has ${op.outputs.length} outputs, expected ${expected}; the file is corrupted`,
    );
  }
}

/** Throws UnsupportedError unless the tensor has one of the given types. */
export function checkType(op: OperatorDef, tensor: TensorDef, role: string, allowed: readonly number[]): void {
  if (!allowed.includes(tensor.type)) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} is ${tensorTypeName(tensor.type)}; ${op.name} supports ` +
        `${allowed.map(tensorTypeName).join(" or ")} here`,
    );
  }
}

export function checkRank(op: OperatorDef, tensor: TensorDef, role: string, rank: number): void {
  if (tensor.shape.length !== rank) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has shape [${tensor.shape}], ` +
        `expected ${rank} dimensions; the file is corrupted`,
    );
  }
}

export function checkShape(op: OperatorDef, tensor: TensorDef, role: string, expected: readonly number[]): void {
  const shape = tensor.shape;
  let same = shape.length === expected.length;
  for (let i = 0; same && i < shape.length; i++) same = shape[i] === expected[i];
  if (!same) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has shape [${shape}], ` +
        `expected [${expected}]; the file is corrupted`,
    );
  }
}

/** Per-tensor quantization: exactly one scale and zero point. */
export function checkPerTensorQuantization(op: OperatorDef, tensor: TensorDef, role: string): void {
  if (tensor.scale.length !== 1) {
    throw new UnsupportedError(
      `${role} ${describeTensor(tensor)} has ${tensor.scale.length} quantization scales; ` +
        `${op.name} needs one per-tensor scale and zero point`,
    );
  }
  if (!(tensor.scale[0] > 0)) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has scale ${tensor.scale[0]}, expected a positive scale; the file is corrupted`,
    );
  }
}

/** Returns the [min, max] value range of a quantized type. */
export function typeRange(type: number): [number, number] {
  switch (type) {
    case TensorType.INT8:
      return [-128, 127];
    case TensorType.UINT8:
      return [0, 255];
    case TensorType.INT16:
      return [-32768, 32767];
    default:
      return [-0x80000000, 0x7fffffff];
  }
}

export function checkZeroPoint(op: OperatorDef, tensor: TensorDef, role: string): number {
  const zeroPoint = tensor.zeroPoint.length > 0 ? tensor.zeroPoint[0] : 0;
  const [min, max] = typeRange(tensor.type);
  if (zeroPoint < min || zeroPoint > max) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} has zero point ${zeroPoint}, ` +
        `outside the ${tensorTypeName(tensor.type)} range [${min}, ${max}]; the file is corrupted`,
    );
  }
  return zeroPoint;
}

/**
 * Weight quantization for conv-like operators: one scale, or one per output
 * channel along `channelDimension`; zero points must all be 0 (symmetric).
 */
export function checkWeightQuantization(op: OperatorDef, weights: TensorDef, channels: number, channelDimension: number): void {
  const n = weights.scale.length;
  if (n !== 1 && n !== channels) {
    throw new UnsupportedError(
      `weights ${describeTensor(weights)} have ${n} scales; ${op.name} needs 1 or one per output channel (${channels})`,
    );
  }
  if (n > 1 && weights.quantizedDimension !== channelDimension) {
    throw new UnsupportedError(
      `weights ${describeTensor(weights)} are quantized along dimension ${weights.quantizedDimension}; ` +
        `${op.name} needs per-channel scales along dimension ${channelDimension}`,
    );
  }
  for (let i = 0; i < weights.zeroPoint.length; i++) {
    if (weights.zeroPoint[i] !== 0) {
      throw new UnsupportedError(
        `weights ${describeTensor(weights)} have zero point ${weights.zeroPoint[i]} at channel ${i}; ` +
          `int8 ${op.name} needs symmetric weights (zero point 0)`,
      );
    }
  }
}

/**
 * Per-channel Q31 multipliers and shifts for in_scale * w_scale[c] / out_scale,
 * each product and quotient in double as TFLM's conv and depthwise conv do.
 */
export function perChannelMultipliers(
  op: OperatorDef,
  inputScale: number,
  weightScales: ArrayLike<number>,
  outputScale: number,
  channels: number,
): { multipliers: Int32Array; shifts: Int32Array } {
  const multipliers = new Int32Array(channels);
  const shifts = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const weightScale = weightScales.length > 1 ? weightScales[c] : weightScales[0];
    const effectiveScale = (inputScale * weightScale) / outputScale;
    const q = quantizeMultiplier(effectiveScale, `operator ${op.index} (${op.name}) channel ${c}`);
    multipliers[c] = q.multiplierQ31;
    shifts[c] = q.shift;
  }
  return { multipliers, shifts };
}

/**
 * Clamp range of the fused activation in the output's quantized domain:
 * zero_point + round(f / scale), with the division in float32 and rounding
 * half away from zero, as TFLM's CalculateActivationRangeQuantized.
 */
export function activationRange(op: OperatorDef, activation: number, output: TensorDef): [number, number] {
  const scale = output.scale.length > 0 ? output.scale[0] : 1;
  const zeroPoint = output.zeroPoint.length > 0 ? output.zeroPoint[0] : 0;
  return fusedActivationRange(op, activation, output.type, (f) => zeroPoint + roundHalfAwayFromZero(Math.fround(f / scale)));
}

/**
 * Clamp range of a fused activation in the integer domain of `type`: the
 * type's range intersected with the activation's bounds, each mapped by
 * `quantize` from real to quantized values.
 */
export function fusedActivationRange(
  op: OperatorDef,
  activation: number,
  type: number,
  quantize: (real: number) => number,
): [number, number] {
  const [qmin, qmax] = typeRange(type);
  switch (activation) {
    case Activation.NONE:
      return [qmin, qmax];
    case Activation.RELU:
      return [Math.max(qmin, quantize(0)), qmax];
    case Activation.RELU6:
      return [Math.max(qmin, quantize(0)), Math.min(qmax, quantize(6))];
    case Activation.RELU_N1_TO_1:
      return [Math.max(qmin, quantize(-1)), Math.min(qmax, quantize(1))];
    default:
      throw new UnsupportedError(
        `fused activation ${ACTIVATION_NAMES[activation] ?? activation} is not supported on a quantized ${op.name}; ` +
          `use NONE, RELU, RELU6 or RELU_N1_TO_1`,
      );
  }
}

/** Output size and leading padding of one spatial dimension, as TFLM computes them. */
export interface SpatialPadding {
  outputSize: number;
  /** Padding before the first input element (top or left). */
  before: number;
}

export function computePadding(
  op: OperatorDef,
  padding: number,
  inputSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
  axis: string,
): SpatialPadding {
  if (stride <= 0 || dilation <= 0 || filterSize <= 0) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${axis} stride ${stride}, dilation ${dilation} and filter size ${filterSize} ` +
        `must all be positive; the file is corrupted`,
    );
  }
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  let outputSize: number;
  if (padding === Padding.SAME) {
    outputSize = Math.floor((inputSize + stride - 1) / stride);
  } else if (padding === Padding.VALID) {
    outputSize = Math.floor((inputSize + stride - effectiveFilter) / stride);
  } else {
    throw new InvalidModelError(`operator ${op.index} (${op.name}) has padding type ${padding}; the file is corrupted`);
  }
  // Total padding is split with the odd pixel after the data, so "before"
  // is the floor of half the total.
  const totalPadding = Math.max((outputSize - 1) * stride + effectiveFilter - inputSize, 0);
  return { outputSize: Math.max(outputSize, 0), before: Math.floor(totalPadding / 2) };
}

/** Reads the optional int32 bias input; returns zeros when it is omitted. */
export function readBias(context: PrepareContext, op: OperatorDef, inputIndex: number, channels: number): Int32Array {
  const tensorIndex = op.inputs.length > inputIndex ? op.inputs[inputIndex] : -1;
  if (tensorIndex < 0) {
    const zeros = new Int32Array(channels);
    context.notePersistentBytes(zeros.byteLength);
    return zeros;
  }
  const bias = context.tensor(tensorIndex);
  checkType(op, bias, "bias", [TensorType.INT32]);
  if (bias.elementCount !== channels) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): bias ${describeTensor(bias)} has ${bias.elementCount} elements, ` +
        `expected ${channels} (one per output channel); the file is corrupted`,
    );
  }
  return context.constantInt32(tensorIndex);
}

/**
 * True for the operators the int8 kernels were built for: scheme "tflm",
 * int8 activations and, when the operator has weights, int8 weights with
 * zero points of 0 (TFLM's symmetric weight quantization) and no float32
 * bias. Omitted or
 * malformed tensor indices count as accepted so that the int8 kernel's own
 * validation reports them.
 */
export function isTflmInt8Operator(context: PrepareContext, op: OperatorDef, weightInput: number): boolean {
  if (context.scheme.name !== "tflm") return false;
  const activations = [op.inputs[0], op.outputs[0]];
  for (const index of activations) {
    if (!isTensorIndex(context, index)) continue;
    if (context.tensor(index).type !== TensorType.INT8) return false;
  }
  if (weightInput >= 0 && isTensorIndex(context, op.inputs[weightInput])) {
    const weights = context.tensor(op.inputs[weightInput]);
    if (weights.type !== TensorType.INT8) return false;
    for (const zeroPoint of weights.zeroPoint) if (zeroPoint !== 0) return false;
    // The bias follows the weights; a float32 bias is the affine kernels' to requantize.
    const biasIndex = op.inputs[weightInput + 1];
    if (isTensorIndex(context, biasIndex) && context.tensor(biasIndex).type === TensorType.FLOAT32) return false;
  }
  return true;
}

function isTensorIndex(context: PrepareContext, index: number | undefined): index is number {
  if (index === undefined || index < 0) return false;
  try {
    context.tensor(index);
    return true;
  } catch {
    return false;
  }
}
