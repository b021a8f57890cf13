// Hostile and corrupted ONNX files. Each must give a typed error that names
// the value and the tensor or node. The error must come before the converter
// allocates storage of the size a bad shape requests. microq convert must
// exit with status 1 (invalid model) or 2 (a model the runtime cannot run)
// and write no file. Deep chains of nodes must convert without overflowing
// the call stack.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UnsupportedError } from "../../runtime/errors.js";
import { parseModel } from "../../runtime/model.js";
import { ConvertedModelError, convertGraph, convertOnnxModel } from "../../tools/convert/convert.js";
import { Attribute, ConstantBudget, OnnxGraph, OnnxModelError, UnsupportedNodeError } from "../../tools/convert/graph.js";
import { tensorFromMessage } from "../../tools/convert/onnx_graph.js";
import { TensorMessage } from "../../tools/convert/onnx_proto.js";
import { assertOneLineError, microq } from "../cli/run_cli.js";
import { TestGraph, attr, encodeGraph } from "./graph_builder.js";

const folder = mkdtempSync(join(tmpdir(), "microq-hostile-onnx-"));

test.after(() => rmSync(folder, { recursive: true, force: true }));

interface ConvOptions {
  xShape?: number[];
  wDims?: number[];
  /** Weight values; 54 ones by default, independent of wDims. */
  wValues?: number[];
}

/** Builds a QDQ 3x3 convolution with pads 1 from x (uint8 [1,3,5,5]) to the graph output y, with the weights in initializer "w". */
function convGraph(options: ConvOptions = {}): TestGraph {
  const g = new TestGraph();
  g.input("x", "uint8", options.xShape ?? [1, 3, 5, 5]);
  const xf = g.dequantize("x", 0.02, 128, "uint8");
  g.constant("int8", options.wDims ?? [2, 3, 3, 3], options.wValues ?? new Array(54).fill(1), "w");
  const wf = g.dequantize("w", 0.01, 0, "int8");
  const [conv] = g.node("Conv", [xf, wf], 1, { pads: attr.ints([1, 1, 1, 1]) });
  g.quantize(conv, 0.1, 100, "uint8", "y");
  g.output("y", "uint8");
  return g;
}

/** Adds ConstantOfShape(shape) with output "big", and returns the graph. */
function withConstantOfShape(g: TestGraph, shape: number[], attributes: Record<string, Attribute> = {}): TestGraph {
  const shapeName = g.constant("int64", [shape.length], shape, "big_shape");
  g.node("ConstantOfShape", [shapeName], ["big"], attributes, "big_node");
  return g;
}

function operatorNames(model: Uint8Array): string[] {
  return parseModel(model).operators.map((op) => op.name);
}

/** Asserts that `convert` throws an OnnxModelError (not an unsupported node) whose message matches `pattern`. */
function assertModelError(convert: () => unknown, pattern: RegExp): void {
  assert.throws(convert, (error: unknown) => {
    assert.instance(error, OnnxModelError);
    assert.not.instance(error, UnsupportedNodeError);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

/** Writes `onnx` and runs microq convert on it; returns the result and the output path. */
function convertFile(name: string, onnx: Uint8Array, ...options: string[]): { result: ReturnType<typeof microq>; output: string } {
  const model = join(folder, `${name}.onnx`);
  writeFileSync(model, onnx);
  const output = join(folder, `${name}.tflite`);
  return { result: microq("convert", model, "-o", output, ...options), output };
}

/** Asserts that microq convert exits with status 1 with one line matching `pattern` after the file name, and writes nothing. */
function assertCliModelError(name: string, onnx: Uint8Array, pattern: RegExp): void {
  const { result, output } = convertFile(name, onnx);
  assertOneLineError(result, new RegExp(`^microq: .*${name}\\.onnx: ${pattern.source}`));
  assert.not.ok(existsSync(output), `${name}: no output written`);
}

test("graph input: dimension of 2^40 rejected", () => {
  const onnx = encodeGraph(convGraph({ xShape: [1, 3, 2 ** 40, 5] }).build());
  const pattern = /graph input "x" has shape \[1,3,1099511627776,5\], whose dimension 2 is 1099511627776; a dimension must be an integer from 0 to 2\^31 - 1, so the file is corrupted$/;
  assertModelError(() => convertOnnxModel(onnx), pattern);
  assertCliModelError("input-2p40", onnx, pattern);
});

test("graph input: 2^31, negative and huge shapes rejected", () => {
  assertModelError(() => convertGraph(convGraph({ xShape: [1, 3, 2 ** 31, 5] }).build()), /graph input "x" has shape \[1,3,2147483648,5\], whose dimension 2 is 2147483648;/);
  assertModelError(
    () => convertOnnxModel(encodeGraph(convGraph({ xShape: [1, 3, -5, 5] }).build())),
    /^graph input "x" has dimension 2 of -5; a dimension must be a non-negative integer, or a name \(dim_param\) for a dynamic one$/,
  );
  assertModelError(
    () => convertGraph(convGraph({ xShape: [1, 3, 100000, 100000] }).build()),
    /^graph input "x" has shape \[1,3,100000,100000\] with 30000000000 elements, more than the limit of 67108864 \(2\^26\) per tensor; the file is corrupted or the model is far too large for a microcontroller$/,
  );
});

test("computed shape: padding beyond the tensor limit rejected", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 3, 5, 5]);
  const xf = g.dequantize("x", 0.02, 128, "uint8");
  const wf = g.weights("int8", [2, 3, 3, 3], new Array(54).fill(1), 0.01, 0);
  const [conv] = g.node("Conv", [xf, wf], 1, { pads: attr.ints([100000, 100000, 100000, 100000]) }, "conv");
  g.quantize(conv, 0.1, 100, "uint8", "y");
  g.output("y", "uint8");
  assertModelError(() => convertGraph(g.build()), /^tensor "conv\/padded" has shape \[1,200005,200005,3\] with 120006000075 elements, more than the limit of 67108864/);
});

test("initializer: negative dimension rejected", () => {
  const onnx = encodeGraph(convGraph({ wDims: [-2, 3, 3, 3] }).build());
  const pattern = /initializer "w" has shape \[-2,3,3,3\], whose dimension 0 is -2; a dimension must be an integer from 0 to 2\^31 - 1, so the file is corrupted$/;
  assertModelError(() => convertOnnxModel(onnx), pattern);
  assertCliModelError("init-negative", onnx, pattern);
});

test("initializer: size checked before allocation", () => {
  // 2^60 elements, and 5 raw_data bytes.
  const huge = encodeGraph(convGraph({ wDims: [2 ** 30, 2 ** 30], wValues: [1, 2, 3, 4, 5] }).build());
  const pattern = /initializer "w" has shape \[1073741824,1073741824\] with \d+ elements, more than the limit of 67108864 \(2\^26\) per tensor; the file is corrupted or the model is far too large for a microcontroller$/;
  assertModelError(() => convertOnnxModel(huge), pattern);
  assertCliModelError("init-huge", huge, pattern);

  // Exactly the element limit, but 5 raw_data bytes: the length check comes before the 64 MiB allocation.
  const short = encodeGraph(convGraph({ wDims: [2 ** 26], wValues: [1, 2, 3, 4, 5] }).build());
  assertModelError(() => convertOnnxModel(short), /^initializer "w" has 5 raw_data bytes, but 67108864 int8 elements need 67108864$/);
});

function tensorMessage(fields: Partial<TensorMessage> & { dims: string[]; data_type: number }): TensorMessage {
  return {
    float_data: [],
    int32_data: [],
    string_data: [],
    int64_data: [],
    name: "t",
    raw_data: new Uint8Array(0),
    double_data: [],
    uint64_data: [],
    external_data: [],
    data_location: 0,
    ...fields,
  };
}

test("tensor data: typed field of a huge shape rejected", () => {
  assertModelError(
    () => tensorFromMessage(tensorMessage({ dims: ["2000000000"], data_type: 1, float_data: [1] }), "initializer \"t\""),
    /^initializer "t" has shape \[2000000000\] with 2000000000 elements, more than the limit of 67108864/,
  );
  assertModelError(() => tensorFromMessage(tensorMessage({ dims: ["1000"], data_type: 1, float_data: [1] }), "initializer \"t\""), /^initializer "t" has 1 values for shape \[1000\] \(1000 elements\)$/);
});

test("constant budget: total over the limit rejected", () => {
  const budget = new ConstantBudget(100);
  assert.is(budget.reserve("float32", [5, 4], "first"), 20);
  assertModelError(() => budget.reserve("uint8", [21], "second"), /^second \(uint8 \[21\], 21 bytes\) brings the model's constants to 101 bytes, more than the limit of 100;/);
  assert.is(budget.reserve("uint8", [20], "third"), 20);
});

test("ConstantOfShape: unused node not evaluated", () => {
  // An unused ConstantOfShape of 2e9 float32 zeros used to take 16 s and 8 GB.
  const onnx = encodeGraph(withConstantOfShape(convGraph(), [2e9]).build());
  const start = Date.now();
  const model = convertOnnxModel(onnx);
  assert.ok(Date.now() - start < 5000, `converted in ${Date.now() - start} ms`);
  assert.equal(operatorNames(model), ["PAD", "CONV_2D"]);
});

test("ConstantOfShape: huge output rejected", () => {
  const used = (shape: number[], attributes: Record<string, Attribute> = {}): OnnxGraph => {
    const g = withConstantOfShape(convGraph(), shape, attributes);
    g.output("big", "float32");
    return g.build();
  };
  const pattern = /node "big_node" \(ConstantOfShape\) output "big" has shape \[2000000000\] with 2000000000 elements, more than the limit of 67108864 \(2\^26\) per tensor; the file is corrupted or the model is far too large for a microcontroller$/;
  assertModelError(() => convertOnnxModel(encodeGraph(used([2e9]))), pattern);
  assertCliModelError("constant-of-shape", encodeGraph(used([2e9])), pattern);

  assertModelError(() => convertGraph(used([100000, 100000])), /^node "big_node" \(ConstantOfShape\) output "big" has shape \[100000,100000\] with 10000000000 elements, more than the limit/);
  assertModelError(() => convertGraph(used([-2, 3])), /^node "big_node" \(ConstantOfShape\) output "big" has shape \[-2,3\], whose dimension 0 is -2;/);

  // 2^26 int64 elements are within the element limit, but their 512 MiB pass the total of 256 MiB.
  const int64Fill: Attribute = { type: "tensor", value: { type: "int64", dims: [1], values: Float64Array.of(7) } };
  assertModelError(
    () => convertGraph(used([2 ** 26], { value: int64Fill })),
    /^node "big_node" \(ConstantOfShape\) output "big" \(int64 \[67108864\], 536870912 bytes\) brings the model's constants to \d+ bytes, more than the limit of 268435456; the file is corrupted or the model is far too large for a microcontroller$/,
  );
});

test("Identity chains: 30000 nodes convert", () => {
  const chain = (g: TestGraph, from: string, length: number, prefix: string): string => {
    let name = from;
    for (let i = 0; i < length; i++) name = g.node("Identity", [name], [`${prefix}${i}`], {}, `${prefix}_node${i}`)[0];
    return name;
  };

  // A Flatten read through the chain, which the check for fully connected readers follows.
  const flattenGraph = new TestGraph();
  flattenGraph.input("x", "uint8", [1, 2, 3, 3]);
  const [flat] = flattenGraph.node("Flatten", [flattenGraph.dequantize("x", 0.1, 3, "uint8")]);
  flattenGraph.quantize(chain(flattenGraph, flat, 30000, "f"), 0.1, 3, "uint8", "y");
  flattenGraph.output("y", "uint8");
  // An unused chain, which the removal of unused nodes walks.
  chain(flattenGraph, "x", 30000, "unused");
  assert.equal(operatorNames(convertGraph(flattenGraph.build())), ["TRANSPOSE", "RESHAPE"]);

  // MatMul input B behind a chain, which the constant-rank check follows back.
  const matMulGraph = new TestGraph();
  matMulGraph.input("a", "uint8", [1, 2, 2, 2]);
  matMulGraph.input("b", "uint8", [8, 4]);
  const [flatA] = matMulGraph.node("Flatten", [matMulGraph.dequantize("a", 0.5, 0, "uint8")]);
  const qa = matMulGraph.dequantize(matMulGraph.quantize(flatA, 0.5, 0), 0.5, 0, "uint8");
  const b = chain(matMulGraph, matMulGraph.dequantize("b", 0.5, 0, "uint8"), 30000, "b");
  const [product] = matMulGraph.node("MatMul", [qa, b]);
  matMulGraph.quantize(product, 4, 0, "uint8", "y");
  matMulGraph.output("y", "uint8");
  assert.equal(operatorNames(convertGraph(matMulGraph.build())), ["TRANSPOSE", "RESHAPE", "BATCH_MATMUL"]);
});

test("graph without outputs rejected", () => {
  const g = new TestGraph();
  g.input("x", "uint8", [1, 4]);
  g.quantize(g.dequantize("x", 0.1, 3, "uint8"), 0.1, 3, "uint8", "y");
  const pattern = /the ONNX graph "test" has no outputs, so there is nothing to convert; export the model with its outputs$/;
  assertModelError(() => convertGraph(g.build()), pattern);
  assertCliModelError("no-outputs", encodeGraph(g.build()), pattern);
});

/** Asserts that `convert` throws a ConvertedModelError for `scheme` that wraps the runtime's UnsupportedError, with a message matching `pattern`. */
function assertCannotRun(convert: () => unknown, scheme: string, pattern: RegExp): void {
  assert.throws(convert, (error: unknown) => {
    assert.instance(error, ConvertedModelError);
    const converted = error as ConvertedModelError;
    assert.is(converted.scheme, scheme);
    assert.instance(converted.runtimeError, UnsupportedError);
    assert.is(converted.message, `the converted model cannot run with scheme ${scheme}: ${converted.runtimeError.message}`);
    assert.match(converted.message, pattern);
    return true;
  });
}

test("runtime check: rescale factor 2 under qnnpack-q31", () => {
  // Requantization from scale 0.1 to 0.05, a factor of 2; QNNPACK's requantization needs a factor below 1.
  const g = new TestGraph();
  g.input("x", "uint8", [1, 4]);
  g.quantize(g.dequantize("x", 0.1, 128, "uint8"), 0.05, 128, "uint8", "y");
  g.output("y", "uint8");
  assert.equal(operatorNames(convertGraph(g.build(), { scheme: "onnx" })), ["QUANTIZE"]);
  assertCannotRun(() => convertGraph(g.build(), { scheme: "qnnpack-q31" }), "qnnpack-q31", /^the converted model cannot run with scheme qnnpack-q31: .*operator 0 QUANTIZE/);

  const { result, output } = convertFile("rescale", encodeGraph(g.build()), "--scheme", "qnnpack-q31");
  assert.is(result.status, 2, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, result.stderr);
  assert.match(lines[0], /^microq: .*rescale\.onnx: the converted model cannot run with scheme qnnpack-q31: .*operator 0 QUANTIZE/);
  assert.not.ok(existsSync(output), "no output written");

  const onnxScheme = convertFile("rescale-onnx", encodeGraph(g.build()), "--scheme", "onnx");
  assert.is(onnxScheme.result.status, 0, onnxScheme.result.stderr);
  assert.ok(existsSync(onnxScheme.output));
});

test("runtime check: Sigmoid under tflm", () => {
  // TFLM's fixed-point LOGISTIC takes int8 or int16, so the runtime rejects this uint8 one under tflm.
  const g = new TestGraph();
  g.input("x", "uint8", [1, 8]);
  const [sigmoid] = g.node("Sigmoid", [g.dequantize("x", 0.0625, 128, "uint8")]);
  g.quantize(sigmoid, 1 / 256, 0, "uint8", "y");
  g.output("y", "uint8");
  assert.equal(operatorNames(convertGraph(g.build(), { scheme: "onnx" })), ["LOGISTIC"]);
  assertCannotRun(() => convertGraph(g.build(), { scheme: "tflm" }), "tflm", /^the converted model cannot run with scheme tflm: .*LOGISTIC/);
});

test.run();
