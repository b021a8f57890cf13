// What an ONNX value has become during lowering, and the quantization
// parameters the converter reads from QuantizeLinear, DequantizeLinear and
// the QLinear operators.

import { TensorTypeName } from "../tflite/writer.js";
import { ConstantTensor, GraphNode } from "./graph.js";

/** Integer types of quantized tensors in the converted model. */
export type QuantizedType = "uint8" | "int8" | "int32";

/** Scale and zero point of a quantized value, per tensor or along an ONNX axis. */
export interface QuantParams {
  type: QuantizedType;
  /** float32 scales: one per tensor, or one per index along `axis`. */
  scale: Float32Array;
  zeroPoint: Int32Array;
  /** Non-negative ONNX axis of per-axis quantization; undefined for per-tensor. */
  axis: number | undefined;
}

/** A tensor of the .tflite model. */
export interface TensorValue {
  kind: "tensor";
  index: number;
  type: TensorTypeName;
  /** ONNX shape; a rank-4 value is stored as NHWC (layout.ts). */
  shape: number[];
  /** Quantization; undefined for float and raw int32 tensors and for integer graph inputs until a node reads them. */
  quantization: QuantParams | undefined;
  /**
   * Set on a rank-2 value flattened from NHWC storage without a TRANSPOSE:
   * the ONNX feature index of each stored feature. Only fully connected
   * layers may read such a value; they reorder their weight columns.
   */
  featureOrder?: Int32Array;
}

/** The float output of DequantizeLinear on a quantized tensor. */
export interface DequantizedValue {
  kind: "dequantized";
  /** ONNX name of the DequantizeLinear output. */
  name: string;
  source: TensorValue;
  /** The DEQUANTIZE output, once a float consumer needed one. */
  floatTensor?: TensorValue;
}

/** The float output of DequantizeLinear on a constant: quantized weights or bias. */
export interface DequantizedConstant {
  kind: "dequantizedConstant";
  data: ConstantTensor;
  quantization: QuantParams;
}

export interface ConstantValue {
  kind: "constant";
  tensor: ConstantTensor;
}

/** Output quantization and name that a QuantizeLinear gives a pending float operation. */
export interface OutputSpec {
  name: string;
  quantization: QuantParams;
}

/**
 * The float output of an operation on dequantized inputs (Conv, Gemm,
 * pooling, ...). It becomes a quantized TFLite operator when a
 * QuantizeLinear reads it, because only then is the output quantization
 * known.
 */
export interface PendingValue {
  kind: "pending";
  node: GraphNode;
  /** ONNX shape of the output. */
  shape: number[];
  /** True when a following Relu or Clip may be fused into the operator (conv, fully connected, add). */
  acceptsActivation: boolean;
  activation: FusedActivation;
  emit(output: OutputSpec, activation: FusedActivation): TensorValue;
}

/** TFLite fused activations the converter produces from Relu and Clip(0, 6). */
export type FusedActivation = "NONE" | "RELU" | "RELU6";

/** HardSigmoid(x) with alpha 1/6 and beta 0.5, waiting for Mul(x, it) to form HardSwish. */
export interface HardSigmoidValue {
  kind: "hardSigmoid";
  node: GraphNode;
  input: DequantizedValue;
}

export type LoweredValue = TensorValue | DequantizedValue | DequantizedConstant | ConstantValue | PendingValue | HardSigmoidValue;

/** Returns whether two quantizations are equal: type, axis, float32 scales and zero points. */
export function sameQuantization(a: QuantParams, b: QuantParams): boolean {
  if (a.type !== b.type || a.scale.length !== b.scale.length || a.zeroPoint.length !== b.zeroPoint.length) return false;
  if (a.scale.length > 1 && a.axis !== b.axis) return false;
  for (let i = 0; i < a.scale.length; i++) if (a.scale[i] !== b.scale[i]) return false;
  for (let i = 0; i < a.zeroPoint.length; i++) if (a.zeroPoint[i] !== b.zeroPoint[i]) return false;
  return true;
}

export function describeQuantization(q: QuantParams): string {
  const scales = Array.from(q.scale, (s) => String(s)).join(", ");
  const zeroPoints = Array.from(q.zeroPoint).join(", ");
  return `${q.type} scale ${q.scale.length > 1 ? `[${scales}]` : scales} zero point ${q.zeroPoint.length > 1 ? `[${zeroPoints}]` : zeroPoints}` +
    (q.axis !== undefined && q.scale.length > 1 ? ` axis ${q.axis}` : "");
}

/** Rounds half to even, the rounding of ONNX QuantizeLinear and of numpy. */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const difference = x - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export const TYPE_RANGES: Readonly<Record<QuantizedType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int32: [-0x80000000, 0x7fffffff],
};
