// Builds a one-layer .tflite model from a PyTorch quantized operator case
// (JSON of format "pytorch-quantized-op-case/1") for conv2d and linear,
// following microq's model-file conventions:
// - activations NHWC: the case's NCHW input and output are transposed;
// - conv weights OIHW become OHWI (CONV_2D, groups = input depth / filter
//   depth), or [1, H, W, C * M] for groups == in_channels (DEPTHWISE_CONV_2D);
// - explicit padding becomes a PAD operator (filled with the input zero
//   point, as a quantized PAD does) before a VALID conv, or, on request and
//   only where it gives the same sums, the conv's own SAME padding;
// - bias stays a float32 tensor, as torch stores it; a fused ReLU becomes
//   the RELU activation;
// - metadata "microq_requantization" names the engine's scheme.

import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { ModelSpec, OperatorSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { FIXTURES } from "../fixtures.js";

export const PYTORCH_OPS = resolve(FIXTURES, "pytorch", "ops");

/** A quantized tensor of a case. */
export interface CaseTensor {
  name: string;
  dtype: "quint8" | "qint8";
  shape: number[];
  memory_format: string;
  qscheme: "per_tensor_affine" | "per_channel_affine";
  scale?: number;
  zero_point?: number;
  axis?: number;
  scales?: number[];
  zero_points?: number[];
  values: number[];
}

export interface OpCase {
  format: string;
  case: string;
  engine: "qnnpack" | "onednn";
  task?: string;
  op: string;
  attrs: {
    in_channels?: number;
    out_channels?: number;
    kernel_size?: number[];
    stride?: number[];
    padding?: number[];
    dilation?: number[];
    groups?: number;
    fused_relu?: boolean;
    in_features?: number;
    out_features?: number;
  };
  inputs: CaseTensor[];
  weight?: CaseTensor;
  bias?: { values: number[]; hex: string[] } | null;
  output: CaseTensor;
  output_clamp: [number, number];
  arithmetic_check: {
    models: Record<string, { mismatches: number; total: number; max_abs_diff: number }>;
    exact_models: string[];
  };
  statistics_33_inputs?: unknown;
}

/** File names of the cases of the given ops, sorted. */
export function opCaseFiles(ops: readonly string[]): string[] {
  return readdirSync(PYTORCH_OPS)
    .filter((name) => name.endsWith(".json") && name.includes("__"))
    .filter((name) => ops.includes(readOpCase(name).op))
    .sort();
}

export function readOpCase(fileName: string): OpCase {
  return JSON.parse(readFileSync(resolve(PYTORCH_OPS, fileName), "utf8")) as OpCase;
}

/** Returns the name of the requantization scheme that reproduces an engine's integers. */
export function schemeForEngine(engine: string): string {
  if (engine === "qnnpack") return "pytorch-qnnpack";
  if (engine === "onednn") return "pytorch-onednn";
  throw new Error(`op case engine "${engine}" has no matching scheme`);
}

/** Form of a conv's explicit padding in the model: a PAD operator, or the conv's SAME padding. */
export type PaddingForm = "pad-operator" | "same";

export interface BuiltCase {
  model: Uint8Array;
  /** The input values in the model's layout (NHWC for conv). */
  input: number[];
  /** The expected output values in the model's layout. */
  expected: number[];
  /** Builtin names of the model's operators, in order. */
  operators: string[];
}

/** Transposes NCHW values to NHWC. */
export function nchwToNhwc(values: readonly number[], shape: readonly number[]): number[] {
  const [n, c, h, w] = shape;
  const result = new Array<number>(values.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) result[((b * h + y) * w + x) * c + ch] = values[((b * c + ch) * h + y) * w + x];
      }
    }
  }
  return result;
}

/** True when PyTorch's symmetric padding p equals TFLite's SAME padding on this axis. */
export function paddingIsSame(inputSize: number, kernel: number, stride: number, dilation: number, padding: number): boolean {
  const effective = (kernel - 1) * dilation + 1;
  const torchOutput = Math.floor((inputSize + 2 * padding - effective) / stride) + 1;
  const sameOutput = Math.ceil(inputSize / stride);
  const sameTotal = Math.max((sameOutput - 1) * stride + effective - inputSize, 0);
  return torchOutput === sameOutput && sameTotal === 2 * padding;
}

/**
 * Builds the model of a conv2d or linear case. With `padding` "same" the
 * conv uses SAME padding instead of a PAD operator; the caller checks
 * paddingIsSame first, because other paddings would give other sums.
 */
export function buildOpCaseModel(opCase: OpCase, padding: PaddingForm = "pad-operator"): BuiltCase {
  if (opCase.op === "conv2d") return buildConv(opCase, padding);
  if (opCase.op === "linear") return buildLinear(opCase);
  throw new Error(`op case ${opCase.case}: op "${opCase.op}" is not built here (conv2d and linear only)`);
}

function activationTensor(name: string, tensor: CaseTensor, shape: readonly number[]): TensorSpec {
  if (tensor.qscheme !== "per_tensor_affine" || tensor.scale === undefined || tensor.zero_point === undefined) {
    throw new Error(`tensor ${tensor.name}: activations must be per-tensor quantized`);
  }
  return { name, type: tensorType(tensor), shape, scale: [tensor.scale], zeroPoint: [tensor.zero_point] };
}

function tensorType(tensor: CaseTensor): TensorTypeName {
  return tensor.dtype === "quint8" ? "uint8" : "int8";
}

/** Weight quantization, with per-channel scales along `dimension`. */
function weightQuantization(weight: CaseTensor, dimension: number): Pick<TensorSpec, "scale" | "zeroPoint" | "quantizedDimension"> {
  if (weight.qscheme === "per_channel_affine") {
    return { scale: weight.scales!, zeroPoint: weight.zero_points!, quantizedDimension: dimension };
  }
  return { scale: [weight.scale!], zeroPoint: [weight.zero_point!] };
}

function quantizedBytes(values: readonly number[], type: TensorTypeName): Uint8Array {
  return type === "uint8" ? Uint8Array.from(values) : new Uint8Array(Int8Array.from(values).buffer);
}

function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function int32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

function metadata(opCase: OpCase): Record<string, Uint8Array> {
  return { microq_requantization: new TextEncoder().encode(schemeForEngine(opCase.engine)) };
}

function buildConv(opCase: OpCase, paddingForm: PaddingForm): BuiltCase {
  const x = opCase.inputs[0];
  const weight = opCase.weight!;
  const [batches, inChannels, inHeight, inWidth] = x.shape;
  const [outChannels, filterDepth, kernelHeight, kernelWidth] = weight.shape;
  const [strideH, strideW] = opCase.attrs.stride!;
  const [padH, padW] = opCase.attrs.padding!;
  const [dilationH, dilationW] = opCase.attrs.dilation!;
  const groups = opCase.attrs.groups!;
  const [, , outHeight, outWidth] = opCase.output.shape;
  const weightType = tensorType(weight);

  const tensors: TensorSpec[] = [];
  const operators: OperatorSpec[] = [];
  const add = (tensor: TensorSpec): number => tensors.push(tensor) - 1;

  const inputIndex = add(activationTensor("x", x, [batches, inHeight, inWidth, inChannels]));
  let convInput = inputIndex;
  let convPadding = "VALID";
  if (padH !== 0 || padW !== 0) {
    const sameFits =
      paddingIsSame(inHeight, kernelHeight, strideH, dilationH, padH) && paddingIsSame(inWidth, kernelWidth, strideW, dilationW, padW);
    if (paddingForm === "same" && !sameFits) {
      throw new Error(`op case ${opCase.case}: padding [${padH}, ${padW}] is not TFLite's SAME padding for this conv`);
    }
    if (paddingForm === "same") {
      convPadding = "SAME";
    } else {
      const paddings = add({
        name: "paddings",
        type: "int32",
        shape: [4, 2],
        data: int32Bytes([0, 0, padH, padH, padW, padW, 0, 0]),
      });
      convInput = add(activationTensor("x_padded", x, [batches, inHeight + 2 * padH, inWidth + 2 * padW, inChannels]));
      operators.push({ op: "PAD", inputs: [inputIndex, paddings], outputs: [convInput], options: { type: "PadOptions" } });
    }
  }

  const depthwise = groups === inChannels && groups > 1 && filterDepth === 1;
  // OIHW to OHWI; for depthwise, [C * M, 1, H, W] to [1, H, W, C * M].
  const filterValues = new Array<number>(weight.values.length);
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < filterDepth; i++) {
      for (let y = 0; y < kernelHeight; y++) {
        for (let xx = 0; xx < kernelWidth; xx++) {
          const source = ((o * filterDepth + i) * kernelHeight + y) * kernelWidth + xx;
          const target = depthwise
            ? (y * kernelWidth + xx) * outChannels + o
            : ((o * kernelHeight + y) * kernelWidth + xx) * filterDepth + i;
          filterValues[target] = weight.values[source];
        }
      }
    }
  }
  const filterIndex = add({
    name: "weight",
    type: weightType,
    shape: depthwise ? [1, kernelHeight, kernelWidth, outChannels] : [outChannels, kernelHeight, kernelWidth, filterDepth],
    data: quantizedBytes(filterValues, weightType),
    ...weightQuantization(weight, depthwise ? 3 : 0),
  });
  const biasIndex = opCase.bias ? add({ name: "bias", type: "float32", shape: [outChannels], data: float32Bytes(opCase.bias.values) }) : -1;
  const outputIndex = add(activationTensor("out", opCase.output, [batches, outHeight, outWidth, outChannels]));

  const common = {
    padding: convPadding,
    stride_w: strideW,
    stride_h: strideH,
    dilation_w_factor: dilationW,
    dilation_h_factor: dilationH,
    fused_activation_function: opCase.attrs.fused_relu ? "RELU" : "NONE",
  };
  operators.push(
    depthwise
      ? {
          op: "DEPTHWISE_CONV_2D",
          inputs: [convInput, filterIndex, biasIndex],
          outputs: [outputIndex],
          options: { type: "DepthwiseConv2DOptions", fields: { ...common, depth_multiplier: outChannels / inChannels } },
        }
      : {
          op: "CONV_2D",
          inputs: [convInput, filterIndex, biasIndex],
          outputs: [outputIndex],
          options: { type: "Conv2DOptions", fields: common },
        },
  );

  const spec: ModelSpec = { tensors, operators, inputs: [inputIndex], outputs: [outputIndex], metadata: metadata(opCase) };
  return {
    model: writeModel(spec),
    input: nchwToNhwc(x.values, x.shape),
    expected: nchwToNhwc(opCase.output.values, opCase.output.shape),
    operators: operators.map((operator) => operator.op),
  };
}

function buildLinear(opCase: OpCase): BuiltCase {
  const x = opCase.inputs[0];
  const weight = opCase.weight!;
  const [outFeatures] = weight.shape;
  const weightType = tensorType(weight);
  const tensors: TensorSpec[] = [
    activationTensor("x", x, x.shape),
    { name: "weight", type: weightType, shape: weight.shape, data: quantizedBytes(weight.values, weightType), ...weightQuantization(weight, 0) },
    activationTensor("out", opCase.output, opCase.output.shape),
  ];
  const inputs = [0, 1, -1];
  if (opCase.bias) {
    tensors.push({ name: "bias", type: "float32", shape: [outFeatures], data: float32Bytes(opCase.bias.values) });
    inputs[2] = 3;
  }
  const operators: OperatorSpec[] = [
    {
      op: "FULLY_CONNECTED",
      inputs,
      outputs: [2],
      options: {
        type: "FullyConnectedOptions",
        fields: { fused_activation_function: opCase.attrs.fused_relu ? "RELU" : "NONE", keep_num_dims: x.shape.length > 2 },
      },
    },
  ];
  const spec: ModelSpec = { tensors, operators, inputs: [0], outputs: [2], metadata: metadata(opCase) };
  return { model: writeModel(spec), input: x.values, expected: opCase.output.values, operators: ["FULLY_CONNECTED"] };
}
