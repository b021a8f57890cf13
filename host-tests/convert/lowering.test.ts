// Lowering of small QDQ and QOperator graphs, run with the Interpreter and
// compared with integer references computed here in NCHW order. Scales are
// powers of two chosen so that every requantization multiplier is 1 or 2.
// The expected output is then an exact integer expression without rounding
// ties, so these tests check layout, padding and operator choice
// independently of any scheme's rounding.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { OperatorDef, parseModel } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { ConvertOptionError, convertGraph } from "../../tools/convert/convert.js";
import { castTensor } from "../../tools/convert/fold_constants.js";
import { UnsupportedNodeError } from "../../tools/convert/graph.js";
import { TestGraph, attr, randomIntegers } from "./graph_builder.js";
import { nchwToNhwc, nhwcToNchw } from "./onnx_fixtures.js";

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function operatorNames(model: Uint8Array): string[] {
  return parseModel(model).operators.map((op) => op.name);
}

/** Runs a one-input, one-output model on NCHW uint8 data and returns the output in NCHW order. */
function runNchw(model: Uint8Array, input: number[], inputShape: number[], outputShape: number[]): number[] {
  const interpreter = new Interpreter(model);
  interpreter.setInput(0, Uint8Array.from(inputShape.length === 4 ? nchwToNhwc(input, inputShape) : input));
  interpreter.invoke();
  const output = interpreter.outputs[0].data as ArrayLike<number>;
  return outputShape.length === 4 ? nhwcToNchw(output, outputShape) : Array.from(output);
}

interface ConvReference {
  x: number[];
  xShape: number[];
  xZeroPoint: number;
  w: number[];
  wShape: number[];
  bias: number[];
  groups: number;
  stride: number;
  pads: [number, number, number, number];
  /** Requantization multiplier of each output channel: sx * sw[c] / sy. */
  multipliers: number[];
  yZeroPoint: number;
  relu: boolean;
}

/** Integer reference of a quantized 2-D convolution in NCHW/OIHW order. */
function referenceConv(r: ConvReference): { values: number[]; shape: number[] } {
  const [n, c, h, w] = r.xShape;
  const [o, i, kh, kw] = r.wShape;
  const [top, left, bottom, right] = r.pads;
  const oh = Math.floor((h + top + bottom - kh) / r.stride) + 1;
  const ow = Math.floor((w + left + right - kw) / r.stride) + 1;
  const outputsPerGroup = o / r.groups;
  const values: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let out = 0; out < o; out++) {
      const group = Math.floor(out / outputsPerGroup);
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          let acc = 0;
          for (let channel = 0; channel < i; channel++) {
            for (let dy = 0; dy < kh; dy++) {
              for (let dx = 0; dx < kw; dx++) {
                const iy = y * r.stride + dy - top;
                const ix = x * r.stride + dx - left;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const input = r.x[((b * c + group * i + channel) * h + iy) * w + ix];
                acc += (input - r.xZeroPoint) * r.w[((out * i + channel) * kh + dy) * kw + dx];
              }
            }
          }
          const q = (acc + r.bias[out]) * r.multipliers[out] + r.yZeroPoint;
          values.push(clamp(q, r.relu ? r.yZeroPoint : 0, 255));
        }
      }
    }
  }
  return { values, shape: [n, o, oh, ow] };
}

test("Conv QDQ: asymmetric pads, stride 2, per-channel, Relu", () => {
  const xShape = [1, 2, 5, 5];
  const wShape = [2, 2, 3, 3];
  const x = randomIntegers(50, 0, 9, 1);
  const w = randomIntegers(36, -3, 3, 2);
  const bias = [-20, 13];
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  const xf = g.dequantize("x", 0.5, 3, "uint8");
  const wf = g.weights("int8", wShape, w, [0.25, 0.5], [0, 0], 0);
  const bf = g.weights("int32", [2], bias, [0.125, 0.25], [0, 0], 0);
  const [conv] = g.node("Conv", [xf, wf, bf], 1, { pads: attr.ints([1, 0, 0, 1]), strides: attr.ints([2, 2]), kernel_shape: attr.ints([3, 3]) });
  const [relu] = g.node("Relu", [conv]);
  g.quantize(relu, 0.125, 7, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["PAD", "CONV_2D"]);
  const expected = referenceConv({ x, xShape, xZeroPoint: 3, w, wShape, bias, groups: 1, stride: 2, pads: [1, 0, 0, 1], multipliers: [1, 2], yZeroPoint: 7, relu: true });
  assert.equal(expected.shape, [1, 2, 2, 2]);
  assert.equal(runNchw(model, x, xShape, expected.shape), expected.values);
});

test("Conv QDQ: depthwise, multiplier 2, SAME_UPPER", () => {
  const xShape = [1, 2, 4, 4];
  const wShape = [4, 1, 3, 3];
  const x = randomIntegers(32, 0, 9, 3);
  const w = randomIntegers(36, -4, 4, 4);
  const bias = [5, -5, 0, 9];
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  const xf = g.dequantize("x", 0.5, 4, "uint8");
  const wf = g.weights("int8", wShape, w, 0.25, 0);
  const bf = g.weights("int32", [4], bias, 0.125, 0);
  const [conv] = g.node("Conv", [xf, wf, bf], 1, { group: attr.int(2), auto_pad: attr.string("SAME_UPPER"), strides: attr.ints([2, 2]) });
  g.quantize(conv, 0.125, 100, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  // SAME_UPPER over 4 pixels with a 3-wide window and stride 2: 1 pixel of padding, at the end.
  assert.equal(operatorNames(model), ["PAD", "DEPTHWISE_CONV_2D"]);
  const expected = referenceConv({ x, xShape, xZeroPoint: 4, w, wShape, bias, groups: 2, stride: 2, pads: [0, 0, 1, 1], multipliers: [1, 1, 1, 1], yZeroPoint: 100, relu: false });
  assert.equal(runNchw(model, x, xShape, expected.shape), expected.values);
});

test("QLinearConv: uint8 weights with zero point, grouped", () => {
  const xShape = [1, 4, 3, 3];
  const wShape = [2, 2, 2, 2];
  const x = randomIntegers(36, 0, 20, 5);
  const w = randomIntegers(16, 120, 136, 6);
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  g.node(
    "QLinearConv",
    [
      "x", g.constant("float32", [], [0.5]), g.constant("uint8", [], [10]),
      g.constant("uint8", wShape, w), g.constant("float32", [], [0.5]), g.constant("uint8", [], [128]),
      g.constant("float32", [], [0.25]), g.constant("uint8", [], [90]),
    ],
    ["y"],
    { group: attr.int(2) },
  );
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["CONV_2D"]);
  const centered = w.map((value) => value - 128);
  const expected = referenceConv({ x, xShape, xZeroPoint: 10, w: centered, wShape, bias: [0, 0], groups: 2, stride: 1, pads: [0, 0, 0, 0], multipliers: [1, 1], yZeroPoint: 90, relu: false });
  assert.equal(runNchw(model, x, xShape, expected.shape), expected.values);
});

/** Flatten (NCHW order) then Gemm with transB, as an integer reference. */
function referenceFlattenGemm(x: number[], xZeroPoint: number, weights: number[], units: number, bias: number[], yZeroPoint: number): number[] {
  const depth = x.length;
  return Array.from({ length: units }, (_, unit) => {
    let acc = bias[unit];
    for (let j = 0; j < depth; j++) acc += (x[j] - xZeroPoint) * weights[unit * depth + j];
    return clamp(acc + yZeroPoint, 0, 255);
  });
}

test("Flatten then Gemm: FC columns absorb NHWC order", () => {
  const xShape = [1, 3, 2, 2];
  const x = randomIntegers(12, 0, 15, 7);
  const weights = randomIntegers(48, -5, 5, 8);
  const bias = [1, -2, 3, -4];
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  const [flat] = g.node("Flatten", [g.dequantize("x", 0.5, 6, "uint8")], 1, { axis: attr.int(1) });
  const flatQdq = g.qdq(flat, 0.5, 6);
  const wf = g.weights("int8", [4, 12], weights, 0.25, 0);
  const bf = g.weights("int32", [4], bias, 0.125, 0);
  const [gemm] = g.node("Gemm", [flatQdq, wf, bf], 1, { transB: attr.int(1) });
  g.quantize(gemm, 0.125, 50, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["RESHAPE", "FULLY_CONNECTED"], "no TRANSPOSE");
  assert.equal(runNchw(model, x, xShape, [1, 4]), referenceFlattenGemm(x, 6, weights, 4, bias, 50));
});

test("Gemm without transB: per-column weight scales", () => {
  const x = [9, 0, 4];
  const weights = [1, -2, 3, 0, -1, 2]; // [K = 3, N = 2]
  const g = new TestGraph();
  g.input("x", "uint8", [1, 3]);
  const wf = g.weights("int8", [3, 2], weights, [0.25, 0.5], [0, 0], 1);
  const [gemm] = g.node("Gemm", [g.dequantize("x", 0.5, 2, "uint8"), wf]);
  g.quantize(gemm, 0.125, 30, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["FULLY_CONNECTED"]);
  const fcWeights = parseModel(model).tensors.find((t) => t.name.endsWith("/weights"))!;
  assert.equal([fcWeights.shape, Array.from(fcWeights.scale), fcWeights.quantizedDimension], [[2, 3], [0.25, 0.5], 0]);
  // Multipliers sx * sw[n] / sy are 1 and 2.
  const expected = [0, 1].map((n) => clamp([0, 1, 2].reduce((acc, k) => acc + (x[k] - 2) * weights[k * 2 + n], 0) * (n + 1) + 30, 0, 255));
  assert.equal(runNchw(model, x, [1, 3], [1, 2]), expected);
});

test("Flatten to a graph output: TRANSPOSE keeps NCHW order", () => {
  const xShape = [1, 3, 2, 2];
  const x = randomIntegers(12, 0, 255, 9);
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  const [flat] = g.node("Flatten", [g.dequantize("x", 0.5, 6, "uint8")]);
  const q = g.quantize(flat, 0.5, 6);
  g.node("DequantizeLinear", [q, g.constant("float32", [], [0.5]), g.constant("uint8", [], [6])], ["y"]);
  g.output("y", "float32");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["TRANSPOSE", "RESHAPE", "DEQUANTIZE"]);
  assert.equal(runNchw(model, x, xShape, [1, 12]), x.map((value) => (value - 6) * 0.5));
});

test("Reshape rank 4 to rank 4: NCHW element order kept", () => {
  const xShape = [1, 3, 2, 2];
  const x = randomIntegers(12, 0, 255, 10);
  const g = new TestGraph();
  g.input("x", "uint8", xShape);
  const [reshaped] = g.node("Reshape", [g.dequantize("x", 1, 0, "uint8"), g.constant("int64", [4], [1, 2, 3, 2])]);
  g.quantize(reshaped, 1, 0, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["TRANSPOSE", "RESHAPE", "TRANSPOSE"]);
  // ONNX Reshape keeps row-major NCHW order, so the NCHW output values are the input values.
  assert.equal(runNchw(model, x, xShape, [1, 2, 3, 2]), x);
});

test("Transpose rank 4: ONNX perm mapped to stored axes", () => {
  const [c, h, w] = [2, 3, 4];
  const x = randomIntegers(c * h * w, 0, 255, 18);
  const g = new TestGraph();
  g.input("x", "uint8", [1, c, h, w]);
  const [transposed] = g.node("Transpose", [g.dequantize("x", 1, 0, "uint8")], 1, { perm: attr.ints([0, 2, 3, 1]) });
  g.quantize(transposed, 1, 0, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["TRANSPOSE"]);
  // Output [1, h, w, c] with out[0][y][x][k] = in[0][k][y][x].
  const expected: number[] = [];
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) expected.push(x[(k * h + y) * w + xx]);
  assert.equal(runNchw(model, x, [1, c, h, w], [1, h, w, c]), expected);
});

/** Integer reference of 2-D pooling over a padded NCHW input. `pad` fills padded positions. */
function referencePool(x: number[], shape: number[], kernel: number, stride: number, pads: number, pad: number, reduce: (window: number[]) => number): number[] {
  const [n, c, h, w] = shape;
  const oh = Math.floor((h + 2 * pads - kernel) / stride) + 1;
  const ow = Math.floor((w + 2 * pads - kernel) / stride) + 1;
  const values: number[] = [];
  for (let b = 0; b < n * c; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const window: number[] = [];
        for (let dy = 0; dy < kernel; dy++) {
          for (let dx = 0; dx < kernel; dx++) {
            const iy = y * stride + dy - pads;
            const ix = xx * stride + dx - pads;
            window.push(iy < 0 || iy >= h || ix < 0 || ix >= w ? pad : x[(b * h + iy) * w + ix]);
          }
        }
        values.push(reduce(window));
      }
    }
  }
  return values;
}

test("MaxPool with pads: PADV2 with the type minimum", () => {
  const shape = [1, 2, 5, 5];
  const x = randomIntegers(50, 0, 255, 11);
  const g = new TestGraph();
  g.input("x", "uint8", shape);
  const [pool] = g.node("MaxPool", [g.dequantize("x", 0.1, 128, "uint8")], 1, { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) });
  g.quantize(pool, 0.1, 128, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["PADV2", "MAX_POOL_2D"]);
  const expected = referencePool(x, shape, 3, 2, 1, 0, (window) => Math.max(...window));
  assert.equal(runNchw(model, x, shape, [1, 2, 3, 3]), expected);
});

test("AveragePool count_include_pad: PAD then VALID", () => {
  const shape = [1, 2, 4, 4];
  const x = randomIntegers(32, 0, 255, 12);
  const g = new TestGraph();
  g.input("x", "uint8", shape);
  const attributes = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), count_include_pad: attr.int(1) };
  const [pool] = g.node("AveragePool", [g.dequantize("x", 0.5, 20, "uint8")], 1, attributes);
  g.quantize(pool, 0.5, 20, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["PAD", "AVERAGE_POOL_2D"]);
  // A 9-element window sum / 9 is never exactly halfway, so the rounding rule does not matter.
  const expected = referencePool(x, shape, 3, 1, 1, 20, (window) => clamp(Math.round(window.reduce((sum, v) => sum + v - 20, 0) / 9) + 20, 0, 255));
  assert.equal(runNchw(model, x, shape, [1, 2, 4, 4]), expected);
});

test("GlobalAveragePool: one window over H x W", () => {
  const shape = [1, 3, 3, 3];
  const x = randomIntegers(27, 0, 255, 13);
  const g = new TestGraph();
  g.input("x", "uint8", shape);
  const [pool] = g.node("GlobalAveragePool", [g.dequantize("x", 0.25, 0, "uint8")]);
  g.quantize(pool, 0.25, 0, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["AVERAGE_POOL_2D"]);
  const expected = [0, 1, 2].map((c) => Math.round(x.slice(9 * c, 9 * c + 9).reduce((sum, v) => sum + v, 0) / 9));
  assert.equal(runNchw(model, x, shape, [1, 3, 1, 1]), expected);
});

test("Add then Relu: ADD with fused RELU", () => {
  const shape = [1, 2, 2, 3];
  const a = randomIntegers(12, 0, 255, 14);
  const b = randomIntegers(12, 0, 255, 15);
  const g = new TestGraph();
  g.input("a", "uint8", shape);
  g.input("b", "uint8", shape);
  const [sum] = g.node("Add", [g.dequantize("a", 0.5, 100, "uint8"), g.dequantize("b", 0.5, 140, "uint8")]);
  const [relu] = g.node("Relu", [sum]);
  g.quantize(relu, 0.5, 60, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  assert.equal(operatorNames(model), ["ADD"]);
  const interpreter = new Interpreter(model);
  interpreter.setInput(0, Uint8Array.from(nchwToNhwc(a, shape)));
  interpreter.setInput(1, Uint8Array.from(nchwToNhwc(b, shape)));
  interpreter.invoke();
  const expected = a.map((value, i) => clamp(value - 100 + b[i] - 140 + 60, 60, 255));
  assert.equal(nhwcToNchw(interpreter.outputs[0].data as Uint8Array, shape), expected);
});

test("Concat along channels: axis 1 becomes NHWC axis 3", () => {
  const shapeA = [1, 1, 2, 2];
  const shapeB = [1, 2, 2, 2];
  const a = randomIntegers(4, 0, 255, 16);
  const b = randomIntegers(8, 0, 255, 17);
  const g = new TestGraph();
  g.input("a", "uint8", shapeA);
  g.input("b", "uint8", shapeB);
  const [joined] = g.node("Concat", [g.dequantize("a", 0.5, 10, "uint8"), g.dequantize("b", 0.5, 10, "uint8")], 1, { axis: attr.int(1) });
  g.quantize(joined, 0.5, 10, "uint8", "y");
  g.output("y", "uint8");
  const model = convertGraph(g.build());

  const concatenation = parseModel(model).operators[0];
  assert.is(concatenation.name, "CONCATENATION");
  const interpreter = new Interpreter(model);
  interpreter.setInput(0, Uint8Array.from(nchwToNhwc(a, shapeA)));
  interpreter.setInput(1, Uint8Array.from(nchwToNhwc(b, shapeB)));
  interpreter.invoke();
  assert.equal(nhwcToNchw(interpreter.outputs[0].data as Uint8Array, [1, 3, 2, 2]), [...a, ...b]);
});

test("x * HardSigmoid(x): one HARD_SWISH", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 8]);
  const xf = g.dequantize("x", 0.05, 128, "uint8");
  const [gate] = g.node("HardSigmoid", [xf], 1, { alpha: attr.float(Math.fround(1 / 6)), beta: attr.float(0.5) });
  const [product] = g.node("Mul", [xf, gate]);
  g.quantize(product, 0.03, 20, "uint8", "y");
  g.output("y", "uint8");
  assert.equal(operatorNames(convertGraph(g.build())), ["HARD_SWISH"]);
});

test("Sigmoid: one LOGISTIC", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 8]);
  const [sigmoid] = g.node("Sigmoid", [g.dequantize("x", 0.05, 128, "uint8")]);
  g.quantize(sigmoid, 1 / 256, 0, "uint8", "y");
  g.output("y", "uint8");
  assert.equal(operatorNames(convertGraph(g.build())), ["LOGISTIC"]);
});

/** Builds a QDQ conv graph with one output channel, for scheme and metadata checks. */
function smallConvGraph(): TestGraph {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 1, 2, 2]);
  const [conv] = g.node("Conv", [g.dequantize("x", 0.5, 0, "uint8"), g.weights("int8", [1, 1, 1, 1], [3], 0.25, 0), g.weights("int32", [1], [-7], 0.125, 0)]);
  g.quantize(conv, 0.25, 5, "uint8", "y");
  g.output("y", "uint8");
  return g;
}

function biasOf(model: Uint8Array): { type: number; scale: number[]; value: number } {
  const parsed = parseModel(model);
  const conv = parsed.operators.find((op: OperatorDef) => op.name === "CONV_2D")!;
  const bias = parsed.tensors[conv.inputs[2]];
  const view = new DataView(model.buffer, model.byteOffset + bias.dataOffset, 4);
  return { type: bias.type, scale: [...bias.scale], value: bias.type === TensorType.FLOAT32 ? view.getFloat32(0, true) : view.getInt32(0, true) };
}

test("bias: int32 by default, float32 for pytorch-onednn", () => {
  assert.equal(biasOf(convertGraph(smallConvGraph().build())), { type: TensorType.INT32, scale: [0.125], value: -7 });
  assert.equal(biasOf(convertGraph(smallConvGraph().build(), { scheme: "pytorch-onednn" })), { type: TensorType.FLOAT32, scale: [], value: -0.875 });
});

test("metadata: scheme and memory format", () => {
  const model = parseModel(convertGraph(smallConvGraph().build(), { scheme: "qnnpack-precise", memoryFormat: "channels_last" }));
  const text = (name: string) => new TextDecoder().decode(model.metadata.get(name));
  assert.is(text("microq_requantization"), "qnnpack-precise");
  assert.is(text("microq_memory_format"), "channels_last");
  assert.is(text("microq_requantization"), new Interpreter(convertGraph(smallConvGraph().build(), { scheme: "qnnpack-precise" })).requantization);
});

test("options: unknown scheme or memory format rejected", () => {
  assert.throws(() => convertGraph(smallConvGraph().build(), { scheme: "fbgemm" }), (error: unknown) => error instanceof ConvertOptionError && /"fbgemm" is unknown; use one of tflm, single/.test(String(error)));
  assert.throws(() => convertGraph(smallConvGraph().build(), { memoryFormat: "nhwc" }), /memory format "nhwc" is unknown/);
});

function unsupported(build: (g: TestGraph) => void, pattern: RegExp): void {
  const g = new TestGraph();
  build(g);
  assert.throws(() => convertGraph(g.build()), (error: unknown) => error instanceof UnsupportedNodeError && pattern.test(error.message), String(pattern));
}

test("errors: unsupported nodes named with the reason", () => {
  unsupported((g) => {
    g.input("x", "uint8", [1, 4]);
    g.node("Softmax", [g.dequantize("x", 0.1, 0, "uint8")], ["y"], {}, "head/softmax");
    g.output("y", "float32");
  }, /^node "head\/softmax" \(Softmax\): op type Softmax is not supported; the converter handles .*Conv.*QLinearConv/);
  unsupported((g) => {
    g.input("x", "uint8", [1, 4]);
    g.node("Relu", [g.dequantize("x", 0.1, 0, "uint8")], ["y"], {}, "lonely");
    g.output("y", "float32");
  }, /^node "lonely" \(Relu\): .*supported only directly after a float Conv, Gemm, MatMul or Add/);
  unsupported((g) => {
    g.input("x", "uint8", [1, 4]);
    g.node("Cast", ["x"], ["y"], { to: attr.int(3) }, "narrow");
    g.output("y", "int8");
  }, /^node "narrow" \(Cast\): casts uint8 to int8/);
  unsupported((g) => {
    g.input("x", "float32", [1, 4]);
    g.input("s", "float32", []);
    g.node("QuantizeLinear", ["x", "s"], ["y"], {}, "dynamic");
    g.output("y", "uint8");
  }, /^node "dynamic" \(QuantizeLinear\): output scale \(input 1, "s"\) must be a constant/);
  unsupported((g) => {
    g.input("x", "uint8", [1, 1, 2, 2]);
    g.input("w", "int8", [1, 1, 1, 1]);
    g.node("Conv", [g.dequantize("x", 0.5, 0, "uint8"), g.dequantize("w", 0.5, 0, "int8")], 1, {}, "conv");
    g.output("conv_out0", "float32");
  }, /^node "conv" \(Conv\): weights \(input 1\) are the float output of a DequantizeLinear; they must be an int8 or uint8 constant/);
});

test("Cast of a constant: float to int truncates toward zero", () => {
  const cast = castTensor({ type: "float32", dims: [4], values: Float32Array.of(-1.7, 2.9, -0.5, 255.5) }, "int32", "test");
  assert.equal([cast.type, Array.from(cast.values)], ["int32", [-1, 2, 0, 255]]);
});

test.run();
