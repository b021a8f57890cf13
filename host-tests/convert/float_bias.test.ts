// The floatBias option: PyTorch module names derived from torch.onnx node
// names, the float32 bias written in place of the .onnx's, and the checks
// that reject a float bias that does not fit the model or leaves out a
// layer with a bias.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { parseModel } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { ConvertOptionError, convertGraph, moduleNameOfNode, parseFloatBias } from "../../tools/convert/convert.js";
import { TestGraph } from "./graph_builder.js";

test("module names from node names", () => {
  const cases: Array<[string, string | undefined]> = [
    ["/conv1/Conv", "conv1"],
    ["/fc/Gemm_1", "fc"],
    // torch.onnx repeats the parent's name in the scope of a numbered child.
    ["/features/features.0/Conv", "features.0"],
    ["/features/features.0/features.0.1/Conv", "features.0.1"],
    ["/layer1/layer1.0/conv1/Conv", "layer1.0.conv1"],
    ["/features/0/Conv", "features.0"],
    // An op of the root module, and names without scopes.
    ["/Flatten", undefined],
    ["Conv_3", undefined],
    ["", undefined],
    ["//Conv", undefined],
  ];
  for (const [nodeName, expected] of cases) assert.is(moduleNameOfNode(nodeName), expected, nodeName);
});

/**
 * Builds a Conv of a [1, 1, 2, 2] uint8 input (scale 0.5, zero point 0)
 * with one weight 3 (scale 0.25), so the accumulator scale is 0.125. Its
 * int32 bias is -7 with scale 0.125, -0.875 in real units, and the output
 * has scale 0.25 and zero point 5. The Conv node is named as torch.onnx
 * names module "block.conv".
 */
function convGraph(): TestGraph {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 1, 2, 2]);
  const x = g.dequantize("x", 0.5, 0, "uint8");
  const [conv] = g.node("Conv", [x, g.weights("int8", [1, 1, 1, 1], [3], 0.25, 0), g.weights("int32", [1], [-7], 0.125, 0)], 1, {}, "/block/conv/Conv");
  g.quantize(conv, 0.25, 5, "uint8", "y");
  g.output("y", "uint8");
  return g;
}

/** Builds a graph whose only layer is a MatMul without bias, named as torch.onnx names module "head". */
function convAndMatMulGraph(): TestGraph {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 4]);
  const x = g.dequantize("x", 0.5, 0, "uint8");
  const [product] = g.node("MatMul", [x, g.weights("int8", [4, 2], [1, 2, 3, 4, 5, 6, 7, 8], 0.25, 0)], 1, {}, "/head/MatMul");
  g.quantize(product, 0.25, 5, "uint8", "y");
  g.output("y", "uint8");
  return g;
}

function biasOf(model: Uint8Array): { type: number; values: number[] } {
  const parsed = parseModel(model);
  const conv = parsed.operators.find((op) => op.name === "CONV_2D")!;
  const bias = parsed.tensors[conv.inputs[2]];
  const view = new DataView(model.buffer, model.byteOffset + bias.dataOffset, bias.byteLength);
  const values = Array.from({ length: bias.elementCount }, (_, i) => (bias.type === TensorType.FLOAT32 ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true)));
  return { type: bias.type, values };
}

function rejects(floatBias: Record<string, readonly number[]>, pattern: RegExp, graph = convGraph()): void {
  assert.throws(
    () => convertGraph(graph.build(), { floatBias }),
    (error: unknown) => error instanceof ConvertOptionError && pattern.test(error.message),
    String(pattern),
  );
}

test("float bias: float32 in real units for every scheme", () => {
  // -0.84375 is -6.75 units of 0.125; the .onnx's -7 is within 1 of it.
  for (const scheme of ["onnx", "tflm", "pytorch-qnnpack", "pytorch-onednn"]) {
    assert.equal(biasOf(convertGraph(convGraph().build(), { scheme, floatBias: { "block.conv": [-0.84375] } })), { type: TensorType.FLOAT32, values: [-0.84375] }, scheme);
  }
});

test("float bias: by module or node name", () => {
  const byModule = convertGraph(convGraph().build(), { floatBias: { "block.conv": [-0.84375] } });
  const byNode = convertGraph(convGraph().build(), { floatBias: { "/block/conv/Conv": [-0.84375] } });
  assert.equal(byNode, byModule);
});

test("float bias: model outputs", () => {
  // y = round((0.125 * 3x - 0.84375) / 0.25) + 5 = round(1.5x - 3.375) + 5. Schemes that first round the bias
  // to -7 units compute round(1.5x - 3.5) + 5 instead. For odd x neither has a tie, and both give the same y.
  const x = Uint8Array.of(1, 3, 5, 7);
  for (const scheme of ["pytorch-qnnpack", "pytorch-onednn", "onnx", "tflm"]) {
    const interpreter = new Interpreter(convertGraph(convGraph().build(), { scheme, floatBias: { "block.conv": [-0.84375] } }));
    interpreter.setInput(0, x);
    interpreter.invoke();
    assert.equal(Array.from(interpreter.outputs[0].data as Uint8Array), [3, 6, 9, 12], scheme);
  }
});

test("float bias: trunc and round of the .onnx accepted", () => {
  // The .onnx stores -7 units. A float bias of -7.5 units rounds to -7 or -8; one of -6.25 units truncates to -6.
  assert.equal(biasOf(convertGraph(convGraph().build(), { floatBias: { "block.conv": [-0.9375] } })).values, [-0.9375]);
  assert.equal(biasOf(convertGraph(convGraph().build(), { floatBias: { "block.conv": [-0.78125] } })).values, [-0.78125]);
});

test("float bias: far from the .onnx rejected", () => {
  // -0.75 is -6 units, exactly 1 from -7 and accepted; -0.71875 is -5.75 units, 1.25 from -7.
  assert.equal(biasOf(convertGraph(convGraph().build(), { floatBias: { "block.conv": [-0.75] } })).values, [-0.75]);
  rejects({ "block.conv": [-0.71875] }, /^float bias "block\.conv" channel 0 is -0\.71875, which is -5\.75 in units of the \.onnx bias scale 0\.125, but node "\/block\/conv\/Conv" \(Conv\) stores -7; they differ by more than 1/);
});

test("float bias: QLinearConv bias in accumulator units", () => {
  // The same layer as convGraph in QOperator form: B is int32 in units of 0.5 * 0.25.
  const qlinearConv = (): TestGraph => {
    const g = new TestGraph();
    g.input("x", "uint8", [1, 1, 2, 2]);
    g.node(
      "QLinearConv",
      [
        "x", g.constant("float32", [], [0.5]), g.constant("uint8", [], [0]),
        g.constant("int8", [1, 1, 1, 1], [3]), g.constant("float32", [], [0.25]), g.constant("int8", [], [0]),
        g.constant("float32", [], [0.25]), g.constant("uint8", [], [5]),
        g.constant("int32", [1], [-7]),
      ],
      ["y"],
      {},
      "/block/conv/QLinearConv",
    );
    g.output("y", "uint8");
    return g;
  };
  assert.equal(biasOf(convertGraph(qlinearConv().build(), { floatBias: { "block.conv": [-0.84375] } })), { type: TensorType.FLOAT32, values: [-0.84375] });
  rejects({ "block.conv": [-0.71875] }, /^float bias "block\.conv" channel 0 is -0\.71875, which is -5\.75 in units of the \.onnx bias scale 0\.125, but node "\/block\/conv\/QLinearConv"/, qlinearConv());
});

test("float bias: unknown key lists layers", () => {
  rejects({ "block.conv2": [1], other: [1] }, /^float bias "block\.conv2", "other" name no Conv, Gemm or MatMul layer of the model; its layers are "block\.conv" \(node "\/block\/conv\/Conv"\)$/);
  rejects({ conv: [1] }, /its layers are "head" \(node "\/head\/MatMul"\) without bias$/, convAndMatMulGraph());
});

test("float bias: layer without bias rejected", () => {
  rejects({ head: [1, 2] }, /^float bias "head" names node "\/head\/MatMul" \(MatMul\), which has no bias input; remove "head" from the float bias$/, convAndMatMulGraph());
});

test("float bias: wrong length rejected", () => {
  rejects({ "block.conv": [-0.84375, 0] }, /^float bias "block\.conv" has 2 values, but node "\/block\/conv\/Conv" \(Conv\) has 1 output channels$/);
});

test("float bias: two keys for one layer rejected", () => {
  rejects({ "block.conv": [-0.84375], "/block/conv/Conv": [-0.84375] }, /^float bias "block\.conv" and "\/block\/conv\/Conv" both name node "\/block\/conv\/Conv" \(Conv\); keep one of them$/);
});

test("float bias: partial cover rejected, naming the missing layers", () => {
  // convGraph followed by a second Conv of the same form, "block.conv2", whose int32 bias is 2 units of 0.125 * 0.25.
  const twoConvs = (): TestGraph => {
    const g = new TestGraph();
    g.input("x", "uint8", [1, 1, 2, 2]);
    const x = g.dequantize("x", 0.5, 0, "uint8");
    const [conv] = g.node("Conv", [x, g.weights("int8", [1, 1, 1, 1], [3], 0.25, 0), g.weights("int32", [1], [-7], 0.125, 0)], 1, {}, "/block/conv/Conv");
    const y = g.dequantize(g.quantize(conv, 0.25, 5, "uint8"), 0.25, 5, "uint8");
    const [conv2] = g.node("Conv", [y, g.weights("int8", [1, 1, 1, 1], [2], 0.125, 0), g.weights("int32", [1], [2], 0.03125, 0)], 1, {}, "/block/conv2/Conv");
    g.quantize(conv2, 0.25, 5, "uint8", "z");
    g.output("z", "uint8");
    return g;
  };
  rejects(
    { "block.conv": [-0.84375] },
    /^the float bias covers 1 of the 2 layers with a bias; it lacks "block\.conv2" \(node "\/block\/conv2\/Conv"\)\. Add their biases/,
    twoConvs(),
  );
  rejects({ "/block/conv2/Conv": [0.0625] }, /it lacks "block\.conv" \(node "\/block\/conv\/Conv"\)\./, twoConvs());
  // Both layers covered: accepted.
  assert.ok(convertGraph(twoConvs().build(), { floatBias: { "block.conv": [-0.84375], "block.conv2": [0.0625] } }).length > 0);
});

test("float bias: values must be float32 numbers", () => {
  const invalid: Array<[unknown, RegExp]> = [
    [{ conv1: [0.5, 0.1] }, /^float bias "conv1" index 1 is 0\.1, which is not a float32 number/],
    [{ conv1: [Number.NaN] }, /^float bias "conv1" index 0 is NaN, which is not a float32 number/],
    [{ conv1: [1e39] }, /^float bias "conv1" index 0 is 1e\+39, which is not a float32 number/],
    [{ conv1: ["0.5"] }, /^float bias "conv1" index 0 is "0\.5", which is not a float32 number/],
    [{ conv1: 0.5 }, /^float bias "conv1" must be an array of numbers, but it is a number$/],
    [[0.5], /^the float bias must be an object mapping layer names to arrays of numbers, but it is an array$/],
    [null, /but it is null$/],
  ];
  for (const [value, pattern] of invalid) {
    assert.throws(() => parseFloatBias(value), (error: unknown) => error instanceof ConvertOptionError && pattern.test(error.message), String(pattern));
  }
  assert.equal(parseFloatBias({ conv1: [0.5, -0.84375] }), new Map([["conv1", Float32Array.of(0.5, -0.84375)]]));
  // The option is checked like the file.
  rejects({ "block.conv": [0.1] }, /^float bias "block\.conv" index 0 is 0\.1, which is not a float32 number/);
});

test.run();
