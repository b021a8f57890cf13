// Builds a .tflite model from a PyTorch quantized operator case of an
// elementwise, pooling or reshaping op (add, add_relu, cat, avg_pool2d,
// adaptive_avg_pool2d, max_pool2d, hardswish, sigmoid, flatten, reshape),
// following microq's model-file conventions:
// - 4-D activations are NHWC: the case's NCHW tensors are transposed, and
//   cat's dim becomes the matching NHWC axis;
// - avg_pool2d with padding and count_include_pad becomes PAD (filled with
//   the zero point) and a VALID pool, so every window divides by the full
//   kernel area;
// - max_pool2d's padding becomes PADV2 filled with the type minimum, which
//   never wins a max;
// - adaptive_avg_pool2d to 1x1 is a VALID pool over the whole image;
// - flatten and reshape of an NCHW tensor first TRANSPOSE the NHWC tensor
//   back to NCHW, so that the row-major order is torch's;
// - metadata names the engine's scheme ("microq_requantization") and the
//   input's memory format ("microq_memory_format").

import { ModelSpec, OperatorSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { CaseTensor, OpCase, nchwToNhwc, schemeForEngine } from "./op_case_model.js";

/** The ops this builder handles. */
export const ELEMENTWISE_OPS = [
  "add",
  "add_relu",
  "cat",
  "avg_pool2d",
  "adaptive_avg_pool2d",
  "max_pool2d",
  "hardswish",
  "sigmoid",
  "flatten",
  "reshape",
] as const;

/** Attributes of the ops above, as the case files store them. */
interface ElementwiseAttrs {
  fused_relu?: boolean;
  dim?: number;
  kernel_size?: number[];
  stride?: number[];
  padding?: number[];
  dilation?: number[];
  ceil_mode?: boolean;
  count_include_pad?: boolean;
  divisor_override?: number | null;
  output_size?: number[];
  shape?: number[];
  start_dim?: number;
  end_dim?: number;
}

export interface ElementwiseModel {
  model: Uint8Array;
  /** Values of each graph input in the model's layout. */
  inputs: number[][];
  /** Expected output values in the model's layout. */
  expected: number[];
  /** Builtin names of the model's operators, in order. */
  operators: string[];
}

/** NCHW dimension to NHWC axis. */
const NHWC_AXIS_OF_NCHW_DIM = [0, 3, 1, 2];

/** Builds the model of one case; throws for attributes the conventions do not cover. */
export function buildElementwiseModel(opCase: OpCase): ElementwiseModel {
  const attrs = opCase.attrs as ElementwiseAttrs;
  const builder = new GraphBuilder();
  const inputs = opCase.inputs.map((tensor) => builder.addActivation(tensor.name, tensor, nhwcShape(tensor.shape)));
  const output = opCase.output;
  const outputShape = nhwcShape(output.shape);
  let outputIndex: number;

  switch (opCase.op) {
    case "add":
    case "add_relu": {
      outputIndex = builder.addActivation("out", output, outputShape);
      builder.operators.push({
        op: "ADD",
        inputs: [inputs[0], inputs[1]],
        outputs: [outputIndex],
        options: { type: "AddOptions", fields: { fused_activation_function: attrs.fused_relu ? "RELU" : "NONE" } },
      });
      break;
    }
    case "cat": {
      const dim = attrs.dim!;
      const rank = output.shape.length;
      const nonNegativeDim = dim < 0 ? dim + rank : dim;
      const axis = rank === 4 ? NHWC_AXIS_OF_NCHW_DIM[nonNegativeDim] : nonNegativeDim;
      outputIndex = builder.addActivation("out", output, outputShape);
      builder.operators.push({
        op: "CONCATENATION",
        inputs,
        outputs: [outputIndex],
        options: { type: "ConcatenationOptions", fields: { axis } },
      });
      break;
    }
    case "avg_pool2d":
    case "max_pool2d": {
      const isAverage = opCase.op === "avg_pool2d";
      checkPoolAttrs(opCase, attrs, isAverage);
      const [kernelHeight, kernelWidth] = attrs.kernel_size!;
      const [strideHeight, strideWidth] = attrs.stride!;
      const poolInput = builder.addPadding(inputs[0], opCase.inputs[0], attrs.padding!, isAverage ? "zero-point" : "type-minimum");
      outputIndex = builder.addActivation("out", output, outputShape);
      builder.addPool(isAverage ? "AVERAGE_POOL_2D" : "MAX_POOL_2D", poolInput, outputIndex, [kernelHeight, kernelWidth], [strideHeight, strideWidth]);
      break;
    }
    case "adaptive_avg_pool2d": {
      const [outHeight, outWidth] = attrs.output_size!;
      if (outHeight !== 1 || outWidth !== 1) {
        throw new Error(`op case ${opCase.case}: adaptive_avg_pool2d to ${attrs.output_size} is not covered; only 1x1 is`);
      }
      const [, , height, width] = opCase.inputs[0].shape;
      outputIndex = builder.addActivation("out", output, outputShape);
      builder.addPool("AVERAGE_POOL_2D", inputs[0], outputIndex, [height, width], [1, 1]);
      break;
    }
    case "hardswish":
    case "sigmoid": {
      outputIndex = builder.addActivation("out", output, outputShape);
      builder.operators.push({ op: opCase.op === "hardswish" ? "HARD_SWISH" : "LOGISTIC", inputs, outputs: [outputIndex] });
      break;
    }
    case "flatten":
    case "reshape": {
      const x = opCase.inputs[0];
      let reshapeInput = inputs[0];
      if (x.shape.length === 4) {
        const perm = builder.add({ name: "perm", type: "int32", shape: [4], data: int32Bytes([0, 3, 1, 2]) });
        reshapeInput = builder.addActivation("x_nchw", x, x.shape);
        builder.operators.push({ op: "TRANSPOSE", inputs: [inputs[0], perm], outputs: [reshapeInput] });
      }
      outputIndex = builder.addActivation("out", output, output.shape);
      builder.operators.push({
        op: "RESHAPE",
        inputs: [reshapeInput],
        outputs: [outputIndex],
        options: { type: "ReshapeOptions", fields: { new_shape: output.shape } },
      });
      break;
    }
    default:
      throw new Error(`op case ${opCase.case}: op "${opCase.op}" is not built here`);
  }

  const memoryFormat = opCase.inputs[0].memory_format;
  const spec: ModelSpec = {
    tensors: builder.tensors,
    operators: builder.operators,
    inputs,
    outputs: [outputIndex],
    metadata: {
      microq_requantization: new TextEncoder().encode(schemeForEngine(opCase.engine)),
      microq_memory_format: new TextEncoder().encode(memoryFormat),
    },
  };
  const isReshape = opCase.op === "flatten" || opCase.op === "reshape";
  return {
    model: writeModel(spec),
    inputs: opCase.inputs.map((tensor) => toModelLayout(tensor.values, tensor.shape)),
    expected: isReshape ? output.values : toModelLayout(output.values, output.shape),
    operators: builder.operators.map((operator) => operator.op),
  };
}

function checkPoolAttrs(opCase: OpCase, attrs: ElementwiseAttrs, isAverage: boolean): void {
  const problems: string[] = [];
  if (attrs.ceil_mode) problems.push("ceil_mode");
  if (isAverage && attrs.count_include_pad === false && attrs.padding!.some((p) => p !== 0)) problems.push("count_include_pad=False with padding");
  if (isAverage && attrs.divisor_override !== null && attrs.divisor_override !== undefined) problems.push("divisor_override");
  if (!isAverage && attrs.dilation!.some((d) => d !== 1)) problems.push("dilation");
  if (problems.length > 0) throw new Error(`op case ${opCase.case}: ${problems.join(", ")} not covered by the conventions`);
}

function nhwcShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[0], shape[2], shape[3], shape[1]] : [...shape];
}

function toModelLayout(values: readonly number[], shape: readonly number[]): number[] {
  return shape.length === 4 ? nchwToNhwc(values, shape) : [...values];
}

function tensorType(tensor: CaseTensor): TensorTypeName {
  return tensor.dtype === "quint8" ? "uint8" : "int8";
}

function int32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

/** Tensors and operators of the model under construction. */
class GraphBuilder {
  readonly tensors: TensorSpec[] = [];
  readonly operators: OperatorSpec[] = [];

  add(tensor: TensorSpec): number {
    return this.tensors.push(tensor) - 1;
  }

  /** Adds an activation tensor with the case tensor's type and per-tensor quantization. */
  addActivation(name: string, tensor: CaseTensor, shape: readonly number[]): number {
    if (tensor.qscheme !== "per_tensor_affine" || tensor.scale === undefined || tensor.zero_point === undefined) {
      throw new Error(`tensor ${tensor.name}: activations must be per-tensor quantized`);
    }
    return this.add({ name, type: tensorType(tensor), shape, scale: [tensor.scale], zeroPoint: [tensor.zero_point] });
  }

  /**
   * Pads an NHWC tensor by torch's [padH, padW] on both sides: PAD (zero
   * point) or PADV2 with the type minimum. Returns the padded tensor, or the
   * input itself when the padding is 0.
   */
  addPadding(input: number, tensor: CaseTensor, padding: readonly number[], fill: "zero-point" | "type-minimum"): number {
    const [padHeight, padWidth] = padding;
    if (padHeight === 0 && padWidth === 0) return input;
    const [batches, channels, height, width] = tensor.shape;
    const paddings = this.add({
      name: "paddings",
      type: "int32",
      shape: [4, 2],
      data: int32Bytes([0, 0, padHeight, padHeight, padWidth, padWidth, 0, 0]),
    });
    const padded = this.addActivation("x_padded", tensor, [batches, height + 2 * padHeight, width + 2 * padWidth, channels]);
    if (fill === "zero-point") {
      this.operators.push({ op: "PAD", inputs: [input, paddings], outputs: [padded], options: { type: "PadOptions" } });
      return padded;
    }
    const type = tensorType(tensor);
    const minimum = type === "uint8" ? Uint8Array.of(0) : new Uint8Array(Int8Array.of(-128).buffer);
    const constant = this.add({ name: "pad_value", type, shape: [], data: minimum, scale: [tensor.scale!], zeroPoint: [tensor.zero_point!] });
    this.operators.push({ op: "PADV2", inputs: [input, paddings, constant], outputs: [padded] });
    return padded;
  }

  addPool(op: string, input: number, output: number, filter: readonly number[], stride: readonly number[]): void {
    this.operators.push({
      op,
      inputs: [input],
      outputs: [output],
      options: {
        type: "Pool2DOptions",
        fields: { padding: "VALID", filter_height: filter[0], filter_width: filter[1], stride_h: stride[0], stride_w: stride[1] },
      },
    });
  }
}
