// Post-training int8 quantization (convert with quantize "int8"). The
// parameter rules are checked against hand-computed cases. Small float
// graphs are quantized and run with the Interpreter, and compared with the
// float model and with an integer reference of TFLM's int8 fully connected
// arithmetic, written here in BigInt after TFLM's reference kernel and
// gemmlowp's fixedpoint.h. Unsupported graphs and bad calibration data must
// raise typed errors.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { parseModel } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { ConvertOptionError, convertGraph } from "../../tools/convert/convert.js";
import { OnnxGraph, OnnxModelError, UnsupportedNodeError } from "../../tools/convert/graph.js";
import { chooseActivationParams, quantizeWeightsPerChannel } from "../../tools/convert/post_training.js";
import { assertOneLineError, microq } from "../cli/run_cli.js";
import { TestGraph, attr, encodeGraph } from "./graph_builder.js";

const INT32_MIN = -(2 ** 31);

/** Deterministic floats in [min, max) from a 32-bit linear congruential generator. */
function randomFloats(count: number, min: number, max: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return min + ((max - min) * state) / 2 ** 32;
  });
}

// Parameter rules.

test("activation params: hand-computed ranges", () => {
  // [min, max] -> scale (float32) and zero point, by widening to 0, scale = range / 255, and the zero point from the end with the smaller error.
  const cases: Array<[number, number, number, number]> = [
    [0, 2.55, Math.fround(0.01), -128], // min end: -128 - 0 / scale
    [1, 5, Math.fround(5 / 255), -128], // widened to [0, 5]
    [-2.55, 0, Math.fround(0.01), 127], // max end: 127 - 0 / scale
    [-3, -1, Math.fround(3 / 255), 127], // widened to [-3, 0]
    [-1, 3, Math.fround(4 / 255), -64], // -128 + 63.75 = -64.25, rounded to -64
    [-3, 1, Math.fround(4 / 255), 63], // max end: 127 - 63.75 = 63.25 (error 190.75 against the min end's 319.25), rounded to 63
    [0, 0, 1, 0], // a point: scale 1 so the tensor stays valid
  ];
  for (const [min, max, scale, zeroPoint] of cases) {
    const params = chooseActivationParams(min, max);
    assert.is(params.scale, scale, `scale of [${min}, ${max}]`);
    assert.is(params.zeroPoint, zeroPoint, `zero point of [${min}, ${max}]`);
  }
});

test("weights per channel: symmetric, max to 127", () => {
  // Rows are output units (axis 0): [1, 0.4] -> scale 1/127, [0.25, 0] -> scale 0.25/127, [0, 0] -> scale 1.
  const quantized = quantizeWeightsPerChannel({ type: "float32", dims: [3, 2], values: Float32Array.of(1, 0.4, 0.25, 0, 0, 0) }, 0);
  assert.equal(Array.from(quantized.scales), [Math.fround(1 / 127), Math.fround(0.25 / 127), 1]);
  // 0.4 / (1/127) = 50.8 -> 51.
  assert.equal(Array.from(quantized.values), [127, 51, 127, 0, 0, 0]);

  // Columns are output units (axis 1, MatMul weights [K, N]): column 0 is [2, -1.1], column 1 is [-0.5, 0.5].
  const columns = quantizeWeightsPerChannel({ type: "float32", dims: [2, 2], values: Float32Array.of(2, -0.5, -1.1, 0.5) }, 1);
  assert.equal(Array.from(columns.scales), [Math.fround(2 / 127), Math.fround(0.5 / 127)]);
  // -1.1 / (2/127) = -69.85 -> -70.
  assert.equal(Array.from(columns.values), [127, -127, -70, 127]);
});

// A two-layer float MLP: x [1, 4] -> Gemm (transB 1) -> Relu -> Gemm -> y [1, 3].

const W1 = [0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.2, -0.9, 0.05, 0.4, -0.35, 0.8, 0.7, 0.15, -0.45, -0.2, 0.33, -0.66, 0.12, 0.9];
const B1 = [0.1, -0.2, 0.05, 0.3, -0.1];
const W2 = [0.4, -0.8, 0.3, 0.6, -0.2, -0.5, 0.25, 0.9, -0.7, 0.1, 0.35, -0.15, 0.45, -0.3, 0.55];
const B2 = [0.02, -0.1, 0.2];

/** The MLP graph; with `transposeB` false, dense1 stores its weights as [4, 5] and reads them with transB 0. */
function mlpGraph(transposeB = true): OnnxGraph {
  const graph = new TestGraph();
  const x = graph.input("x", "float32", ["batch", 4] as unknown as number[]);
  const weights1 = transposeB
    ? graph.constant("float32", [5, 4], W1)
    : graph.constant("float32", [4, 5], Array.from({ length: 20 }, (_, i) => W1[(i % 5) * 4 + Math.floor(i / 5)]));
  const hidden = graph.node("Gemm", [x, weights1, graph.constant("float32", [5], B1)], 1, { transB: attr.int(transposeB ? 1 : 0) }, "dense1");
  const relu = graph.node("Relu", hidden, 1, {}, "relu1");
  graph.node("Gemm", [relu[0], graph.constant("float32", [3, 5], W2), graph.constant("float32", [3], B2)], ["y"], { transB: attr.int(1) }, "dense2");
  graph.output("y", "float32");
  return graph.build("mlp");
}

function floatMlp(x: ArrayLike<number>): number[] {
  const hidden = B1.map((bias, unit) => Math.max(0, bias + [0, 1, 2, 3].reduce((sum, k) => sum + W1[unit * 4 + k] * x[k], 0)));
  return B2.map((bias, unit) => bias + [0, 1, 2, 3, 4].reduce((sum, k) => sum + W2[unit * 5 + k] * hidden[k], 0));
}

const CALIBRATION = randomFloats(4 * 64, -2, 2, 11);

/** Reads a tensor's scales, zero points and constant data from a model by tensor index. */
function tensorOf(model: Uint8Array, index: number): { scale: number[]; zeroPoint: number[]; data: Int8Array | Int32Array | undefined } {
  const parsed = parseModel(model);
  const tensor = parsed.tensors[index];
  let data: Int8Array | Int32Array | undefined;
  if (tensor.dataOffset >= 0) {
    const view = new DataView(model.buffer, model.byteOffset + tensor.dataOffset, tensor.byteLength);
    data = tensor.type === TensorType.INT8 ? Int8Array.from({ length: tensor.byteLength }, (_, i) => view.getInt8(i)) : Int32Array.from({ length: tensor.byteLength / 4 }, (_, i) => view.getInt32(4 * i, true));
  }
  return { scale: Array.from(tensor.scale), zeroPoint: Array.from(tensor.zeroPoint), data };
}

test("mlp: int8 operators and int8 input and output", () => {
  const model = convertGraph(mlpGraph(), { quantize: "int8", calibration: CALIBRATION });
  const parsed = parseModel(model);
  assert.equal(parsed.operators.map((op) => op.name), ["FULLY_CONNECTED", "FULLY_CONNECTED"]);
  const interpreter = new Interpreter(model);
  assert.is(interpreter.inputs[0].type, "int8");
  assert.equal(interpreter.inputs[0].shape, [1, 4]);
  assert.is(interpreter.outputs[0].type, "int8");
  assert.equal(interpreter.outputs[0].shape, [1, 3]);

  // The input range of the calibration data, widened to include 0, sets the input parameters.
  let min = Infinity;
  let max = -Infinity;
  for (const value of CALIBRATION) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  const expected = chooseActivationParams(min, max);
  assert.is(interpreter.inputs[0].scale, expected.scale);
  assert.is(interpreter.inputs[0].zeroPoint, expected.zeroPoint);
});

test("mlp: Gemm transB 0 gives the same model", () => {
  const transposed = convertGraph(mlpGraph(true), { quantize: "int8", calibration: CALIBRATION });
  const plain = convertGraph(mlpGraph(false), { quantize: "int8", calibration: CALIBRATION });
  assert.ok(Buffer.from(plain).equals(Buffer.from(transposed)));
});

test("mlp: within 2 LSB of the float model", () => {
  const model = convertGraph(mlpGraph(), { quantize: "int8", calibration: CALIBRATION });
  const interpreter = new Interpreter(model);
  const input = interpreter.inputs[0];
  const output = interpreter.outputs[0];
  const inputs = randomFloats(4 * 200, -2, 2, 12);
  let maxError = 0;
  for (let sample = 0; sample < 200; sample++) {
    const x = inputs.subarray(sample * 4, sample * 4 + 4);
    const q = Int8Array.from(x, (value) => Math.max(-128, Math.min(127, Math.round(value / input.scale) + input.zeroPoint)));
    interpreter.setInput(0, q);
    interpreter.invoke();
    const expected = floatMlp(x).map((value) => Math.max(-128, Math.min(127, Math.round(value / output.scale) + output.zeroPoint)));
    for (let unit = 0; unit < 3; unit++) maxError = Math.max(maxError, Math.abs(output.data[unit] - expected[unit]));
  }
  assert.ok(maxError <= 2, `max error ${maxError} LSB`);
});

// Integer reference of TFLM's int8 fully connected layer with per-channel weights.

/** gemmlowp SaturatingRoundingDoublingHighMul on int32 values, in BigInt. */
function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return 2 ** 31 - 1;
  const product = BigInt(a) * BigInt(b);
  const nudge = product >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((product + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C's does
}

/** gemmlowp RoundingDivideByPOT: divide by 2^exponent, ties away from zero. */
function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite QuantizeMultiplier: m = q * 2^(shift - 31) with q in [2^30, 2^31). */
function quantizeMultiplier(real: number): { multiplier: number; shift: number } {
  let exponent = Math.floor(Math.log2(real)) + 1;
  let fraction = real / 2 ** exponent;
  if (fraction >= 1) {
    fraction /= 2;
    exponent++;
  } else if (fraction < 0.5) {
    fraction *= 2;
    exponent--;
  }
  let q = Math.sign(fraction) * Math.round(Math.abs(fraction) * 2 ** 31); // std::round: ties away from zero
  if (q === 2 ** 31) {
    q /= 2;
    exponent++;
  }
  return { multiplier: q, shift: exponent };
}

function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x * 2 ** leftShift, multiplier), rightShift);
}

/** One int8 fully connected layer as TFLM's reference kernel computes it, per-channel multipliers from double scales. */
function referenceFullyConnected(
  input: ArrayLike<number>,
  inputScale: number,
  inputZeroPoint: number,
  weights: Int8Array,
  weightScales: number[],
  bias: Int32Array,
  outputScale: number,
  outputZeroPoint: number,
  relu: boolean,
): number[] {
  const depth = input.length;
  return Array.from(bias, (biasValue, unit) => {
    let accumulator = biasValue;
    for (let k = 0; k < depth; k++) accumulator += (input[k] - inputZeroPoint) * weights[unit * depth + k];
    const { multiplier, shift } = quantizeMultiplier((inputScale * weightScales[unit]) / outputScale);
    const value = multiplyByQuantizedMultiplier(accumulator, multiplier, shift) + outputZeroPoint;
    const low = relu ? Math.max(-128, outputZeroPoint) : -128;
    return Math.min(127, Math.max(low, value));
  });
}

test("mlp: exact against TFLM integer reference", () => {
  const model = convertGraph(mlpGraph(), { quantize: "int8", calibration: CALIBRATION });
  const operators = parseModel(model).operators;
  const [inputIndex, weights1Index, bias1Index] = operators[0].inputs;
  const hiddenIndex = operators[0].outputs[0];
  const [, weights2Index, bias2Index] = operators[1].inputs;
  const outputIndex = operators[1].outputs[0];
  const input = tensorOf(model, inputIndex);
  const weights1 = tensorOf(model, weights1Index);
  const bias1 = tensorOf(model, bias1Index);
  const hidden = tensorOf(model, hiddenIndex);
  const weights2 = tensorOf(model, weights2Index);
  const bias2 = tensorOf(model, bias2Index);
  const output = tensorOf(model, outputIndex);

  // The bias is in units of input scale x weight scale, with zero points of 0.
  bias1.scale.forEach((scale, unit) => assert.is(scale, Math.fround(input.scale[0] * weights1.scale[unit]), `bias 1 scale of unit ${unit}`));
  assert.ok(weights1.zeroPoint.every((zeroPoint) => zeroPoint === 0));

  const interpreter = new Interpreter(model);
  const inputs = randomFloats(4 * 300, -2.5, 2.5, 13);
  let compared = 0;
  for (let sample = 0; sample < 300; sample++) {
    const q = Int8Array.from(inputs.subarray(sample * 4, sample * 4 + 4), (value) => Math.max(-128, Math.min(127, Math.round(value / input.scale[0]) + input.zeroPoint[0])));
    const hiddenValues = referenceFullyConnected(q, input.scale[0], input.zeroPoint[0], weights1.data as Int8Array, weights1.scale, bias1.data as Int32Array, hidden.scale[0], hidden.zeroPoint[0], true);
    const expected = referenceFullyConnected(hiddenValues, hidden.scale[0], hidden.zeroPoint[0], weights2.data as Int8Array, weights2.scale, bias2.data as Int32Array, output.scale[0], output.zeroPoint[0], false);
    interpreter.setInput(0, q);
    interpreter.invoke();
    assert.equal(Array.from(interpreter.outputs[0].data), expected, `sample ${sample}`);
    compared++;
  }
  assert.is(compared, 300);
});

// Inputs are the calibration inputs, so no intermediate value leaves its calibrated range and saturates. The MatMul output is
// requantized at about twice the output scale, so its half-LSB rounding is worth 1 output LSB, and ADD rounds once more.
test("reshape, matmul, add with a constant: within 2 LSB", () => {
  const graph = new TestGraph();
  const x = graph.input("x", "float32", [1, 2, 3]);
  const flat = graph.node("Reshape", [x, graph.constant("int64", [2], [1, 6])], 1, {}, "reshape");
  const weights = [0.3, -0.2, 0.5, -0.7, 0.1, 0.4, 0.2, 0.6, -0.3, 0.8, -0.5, 0.05, -0.1, 0.9, 0.35, 0.45, -0.25, -0.6];
  const product = graph.node("MatMul", [flat[0], graph.constant("float32", [6, 3], weights)], 1, {}, "matmul");
  const offset = [0.5, -0.25, 0.1];
  const sum = graph.node("Add", [product[0], graph.constant("float32", [1, 3], offset)], 1, {}, "add");
  graph.node("Relu", sum, ["y"], {}, "relu");
  graph.output("y", "float32");
  const calibration = randomFloats(6 * 64, -1.5, 1.5, 21);
  const model = convertGraph(graph.build("matmul_add"), { quantize: "int8", calibration });
  assert.equal(parseModel(model).operators.map((op) => op.name), ["RESHAPE", "FULLY_CONNECTED", "ADD"]);

  const interpreter = new Interpreter(model);
  const input = interpreter.inputs[0];
  const output = interpreter.outputs[0];
  let maxError = 0;
  for (let sample = 0; sample < 64; sample++) {
    const values = calibration.subarray(sample * 6, sample * 6 + 6);
    interpreter.setInput(0, Int8Array.from(values, (value) => Math.max(-128, Math.min(127, Math.round(value / input.scale) + input.zeroPoint))));
    interpreter.invoke();
    for (let unit = 0; unit < 3; unit++) {
      let real = offset[unit];
      for (let k = 0; k < 6; k++) real += values[k] * weights[k * 3 + unit];
      const expected = Math.max(-128, Math.min(127, Math.round(Math.max(0, real) / output.scale) + output.zeroPoint));
      maxError = Math.max(maxError, Math.abs(output.data[unit] - expected));
    }
  }
  assert.ok(maxError <= 2, `max error ${maxError} LSB`);
});

// Errors.

test("errors: missing or stray calibration", () => {
  assert.throws(() => convertGraph(mlpGraph(), { quantize: "int8" }), (error: unknown) => error instanceof ConvertOptionError && /calibration/.test(error.message));
  assert.throws(() => convertGraph(mlpGraph(), { calibration: CALIBRATION }), (error: unknown) => error instanceof ConvertOptionError && /--quantize int8/.test(error.message));
  assert.throws(() => convertGraph(mlpGraph(), { quantize: "int4", calibration: CALIBRATION }), (error: unknown) => error instanceof ConvertOptionError && /"int4"/.test(error.message));
});

test("errors: calibration size and values", () => {
  assert.throws(
    () => convertGraph(mlpGraph(), { quantize: "int8", calibration: new Float32Array(6) }),
    (error: unknown) => error instanceof OnnxModelError && /6 float32 values/.test(error.message) && /4 elements/.test(error.message),
  );
  assert.throws(
    () => convertGraph(mlpGraph(), { quantize: "int8", calibration: Float32Array.of(1, 2, NaN, 4) }),
    (error: unknown) => error instanceof OnnxModelError && /calibration value 2 is NaN/.test(error.message),
  );
});

test("errors: unsupported node and lone Relu", () => {
  const sigmoid = new TestGraph();
  sigmoid.node("Sigmoid", [sigmoid.input("x", "float32", [1, 4])], ["y"], {}, "gate");
  sigmoid.output("y", "float32");
  assert.throws(
    () => convertGraph(sigmoid.build(), { quantize: "int8", calibration: CALIBRATION }),
    (error: unknown) => error instanceof UnsupportedNodeError && /"gate" \(Sigmoid\)/.test(error.message) && /Gemm/.test(error.message),
  );

  const relu = new TestGraph();
  relu.node("Relu", [relu.input("x", "float32", [1, 4])], ["y"], {}, "lone");
  relu.output("y", "float32");
  assert.throws(
    () => convertGraph(relu.build(), { quantize: "int8", calibration: CALIBRATION }),
    (error: unknown) => error instanceof UnsupportedNodeError && /"lone" \(Relu\)/.test(error.message),
  );
});

test("cli: --quantize int8 with --calibration", () => {
  const folder = mkdtempSync(join(tmpdir(), "microq-ptq-"));
  try {
    const onnx = join(folder, "mlp.onnx");
    writeFileSync(onnx, encodeGraph(mlpGraph()));
    const calibration = join(folder, "calibration.bin");
    writeFileSync(calibration, new Uint8Array(CALIBRATION.buffer));
    const output = join(folder, "mlp.tflite");
    const result = microq("convert", onnx, "-o", output, "--quantize", "int8", "--calibration", calibration);
    assert.is(result.status, 0, result.stderr);
    assert.equal(new Uint8Array(readFileSync(output)), convertGraph(mlpGraph(), { quantize: "int8", calibration: CALIBRATION }));

    const inspect = microq("inspect", output, "--json");
    assert.match(inspect.stdout, /"tflm"/);

    const missing = microq("convert", onnx, "-o", output, "--quantize", "int8");
    assert.is(missing.status, 2, "usage error");
    assert.match(missing.stderr, /--quantize needs --calibration FILE/);

    const stray = microq("convert", onnx, "-o", output, "--calibration", calibration);
    assert.is(stray.status, 2, "usage error");
    assert.match(stray.stderr, /--calibration is used only with --quantize int8/);

    writeFileSync(calibration, new Uint8Array(10));
    const ragged = microq("convert", onnx, "-o", output, "--quantize", "int8", "--calibration", calibration);
    assertOneLineError(ragged, /10 bytes, which is not a positive multiple of 4/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test.run();
