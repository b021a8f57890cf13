// The quantizedIo option: a float input's QuantizeLinear and a float
// output's DequantizeLinear are dropped, so the model takes and returns the
// quantized integers with their scale and zero point. Without the option the
// float input and output stay. Inputs and outputs it cannot make quantized
// are rejected with a message naming them.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { QuantizedIoError, convertGraph } from "../../tools/convert/convert.js";
import { TestGraph } from "./graph_builder.js";

/**
 * Builds x float [1, 4] -> QuantizeLinear (scale 0.5, zero point 3) ->
 * MatMul with int8 weights [[1, 2], [3, 4], [5, 6], [7, 8]] * 0.25 ->
 * QuantizeLinear (scale 0.25, zero point 5) -> DequantizeLinear -> y float.
 * `inputType` sets the type of the input's zero point.
 */
function matMulGraph(inputType: "uint8" | "int8" = "uint8"): TestGraph {
  const g = new TestGraph();
  g.input("x", "float32", [1, 4]);
  const x = g.qdq("x", 0.5, 3, inputType);
  const [product] = g.node("MatMul", [x, g.weights("int8", [4, 2], [1, 2, 3, 4, 5, 6, 7, 8], 0.25, 0)], 1, {}, "/head/MatMul");
  const q = g.quantize(product, 0.25, 5, "uint8");
  g.node("DequantizeLinear", [q, g.constant("float32", [], [0.25]), g.constant("uint8", [], [5])], ["y"]);
  g.output("y", "float32");
  return g;
}

/** Runs a converted model once and returns the interpreter after the invoke. */
function runOnce(model: Uint8Array, input: ArrayBufferView): Interpreter {
  const interpreter = new Interpreter(model);
  interpreter.setInput(0, input);
  interpreter.invoke();
  return interpreter;
}

function rejects(graph: TestGraph, pattern: RegExp): void {
  assert.throws(
    () => convertGraph(graph.build(), { quantizedIo: true }),
    (error: unknown) => error instanceof QuantizedIoError && pattern.test(error.message),
    String(pattern),
  );
}

test("quantized io: integer input and output", () => {
  const interpreter = runOnce(convertGraph(matMulGraph().build(), { quantizedIo: true }), Uint8Array.of(5, 7, 3, 3));
  assert.equal(interpreter.operators.map((op) => op.name), ["FULLY_CONNECTED"]);

  const input = interpreter.model.tensors[interpreter.model.inputs[0]];
  assert.equal([input.type, input.name, [...input.scale], [...input.zeroPoint]], [TensorType.UINT8, "x", [0.5], [3]]);
  const output = interpreter.model.tensors[interpreter.model.outputs[0]];
  assert.equal([output.type, output.name, [...output.scale], [...output.zeroPoint]], [TensorType.UINT8, "y", [0.25], [5]]);

  // Real input (q - 3) * 0.5 = [1, 2, 0, 0]; outputs 1 * 0.25 + 2 * 0.75 = 1.75 and 1 * 0.5 + 2 * 1 = 2.5, so q = 7 + 5 and 10 + 5.
  assert.equal(Array.from(interpreter.outputs[0].data as Uint8Array), [12, 15]);
});

test("quantized io: default keeps float input and output", () => {
  const interpreter = runOnce(convertGraph(matMulGraph().build()), Float32Array.of(1, 2, 0, 0));
  assert.equal(interpreter.operators.map((op) => op.name), ["QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"]);
  assert.is(interpreter.model.tensors[interpreter.model.inputs[0]].type, TensorType.FLOAT32);
  assert.equal(Array.from(interpreter.outputs[0].data as Float32Array), [1.75, 2.5]);
});

test("quantized io: int8 input from the zero point type", () => {
  const interpreter = runOnce(convertGraph(matMulGraph("int8").build(), { quantizedIo: true }), Int8Array.of(5, 7, 3, 3));
  const input = interpreter.model.tensors[interpreter.model.inputs[0]];
  assert.equal([input.type, [...input.scale], [...input.zeroPoint]], [TensorType.INT8, [0.5], [3]]);
  assert.equal(Array.from(interpreter.outputs[0].data as Uint8Array), [12, 15]);
});

test("quantized io: integer graphs unchanged", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 4]);
  const x = g.dequantize("x", 0.5, 3, "uint8");
  const [product] = g.node("MatMul", [x, g.weights("int8", [4, 2], [1, 2, 3, 4, 5, 6, 7, 8], 0.25, 0)], 1, {}, "/head/MatMul");
  g.quantize(product, 0.25, 5, "uint8", "y");
  g.output("y", "uint8");
  assert.equal(convertGraph(g.build(), { quantizedIo: true }), convertGraph(g.build()));
});

test("quantized io: float input read as float rejected", () => {
  const g = matMulGraph();
  g.node("Relu", ["x"], ["r"], {}, "activation");
  g.output("r", "float32");
  rejects(g, /^--quantized-io: float graph input "x" is read by node "activation" \(Relu\); the option needs every float input to be read only by QuantizeLinear nodes/);
});

test("quantized io: two input quantizations rejected", () => {
  const g = matMulGraph();
  const second = g.quantize("x", 0.25, 3, "uint8", "x2");
  g.output(second, "uint8");
  rejects(g, /^--quantized-io: float graph input "x" is quantized with different scales or zero points by node "quantizelinear\d+" \(QuantizeLinear\) and node "quantizelinear\d+" \(QuantizeLinear\)/);
});

test("quantized io: float output of another node rejected", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 4]);
  const x = g.dequantize("x", 0.5, 3, "uint8");
  g.node("Flatten", [x], ["y"], {}, "flatten");
  g.output("y", "float32");
  rejects(g, /^--quantized-io: graph output "y" is the float output of node "flatten" \(Flatten\); the option needs every float output to come from a DequantizeLinear/);
});

test("quantized io: output also read as float rejected", () => {
  const g = matMulGraph();
  g.node("Identity", ["y"], ["z"], {}, "copy");
  g.output("z", "float32");
  rejects(g, /^--quantized-io: graph output "y" is also read as a float by node "copy" \(Identity\), so its DequantizeLinear cannot be removed$/);
});

test.run();
