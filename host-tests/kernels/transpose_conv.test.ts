// TRANSPOSE_CONV against TFLM: the seanet transpose_conv cases (16x8, TFLM's
// own output), and random int8 and 16x8 layers. The random layers are
// checked against a BigInt transcription of reference_integer_ops::
// TransposeConv and the prepare step of micro/kernels/transpose_conv.cc
// (tflite-micro commit 90b983c2). It scatters into a scratch tensor of the
// output's shape in TFLM's loop order, then adds the bias and requantizes.

import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType, tensorTypeBytes } from "../../runtime/tensor_types.js";
import { transposeConvKernel } from "../../kernels/transpose_conv/transpose_conv.js";
import { TFLM_FIXTURES } from "../fixtures.js";
import { OperatorSetup, prepareLayer, runLayer, scalarTable } from "./layer_harness.js";
import { Random, bytesOfArray, referencePadding } from "./conv16x8_reference.js";
import { ACTIVATIONS, TransposeConvCase, describeCase, randomCase, referenceTransposeConv } from "./transpose_conv_cases.js";

/** Builds the operator's tensors, with constants packed into one byte array, and its options table. */
function setupOf(c: TransposeConvCase): OperatorSetup {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const place = (bytes: Uint8Array): number => {
    const start = (offset + 15) & ~15;
    chunks.push(new Uint8Array(start - offset), bytes);
    offset = start + bytes.byteLength;
    return start;
  };
  const tensor = (
    index: number,
    type: number,
    shape: number[],
    data: Uint8Array | null,
    scale: number[] = [],
    zeroPoint: number[] = [],
  ): TensorDef => {
    const elementCount = shape.reduce((a, b) => a * b, 1);
    return {
      index,
      name: `t${index}`,
      type,
      shape,
      elementCount,
      byteLength: elementCount * tensorTypeBytes(type),
      dataOffset: data === null ? -1 : place(data),
      isVariable: false,
      scale: Float32Array.from(scale),
      zeroPoint: Int32Array.from(zeroPoint),
      quantizedDimension: 0,
    };
  };

  const activationType = c.kind === "int8" ? TensorType.INT8 : TensorType.INT16;
  const outputShape = [c.batches, c.outputHeight, c.outputWidth, c.outputChannels];
  const tensors: TensorDef[] = [
    tensor(0, TensorType.INT32, [4], c.constantOutputShape ? bytesOfArray(Int32Array.from(outputShape)) : null),
    tensor(
      1,
      TensorType.INT8,
      [c.outputChannels, c.filterHeight, c.filterWidth, c.inputChannels],
      bytesOfArray(c.weights),
      c.weightScales,
      c.weightScales.map(() => 0),
    ),
    tensor(2, activationType, [c.batches, c.inputHeight, c.inputWidth, c.inputChannels], null, [c.inputScale], [c.inputZeroPoint]),
  ];
  const inputs = [0, 1, 2];
  if (c.biasType !== null) {
    let data: ArrayBufferView = Int16Array.from(c.bias.map(Number));
    let type: number = TensorType.INT16;
    if (c.biasType === "int64") {
      data = BigInt64Array.from(c.bias);
      type = TensorType.INT64;
    } else if (c.biasType === "int32") {
      data = Int32Array.from(c.bias.map(Number));
      type = TensorType.INT32;
    }
    tensors.push(tensor(3, type, [c.outputChannels], bytesOfArray(data)));
    inputs.push(3);
  } else {
    tensors.push(tensor(3, TensorType.INT32, [1], null));
    if (c.biasOmittedIndex) inputs.push(-1);
  }
  tensors.push(tensor(4, activationType, outputShape, null, [c.outputScale], [c.outputZeroPoint]));

  const constantBytes = new Uint8Array(offset);
  let position = 0;
  for (const chunk of chunks) {
    constantBytes.set(chunk, position);
    position += chunk.byteLength;
  }
  const { reader, table } = scalarTable(
    [
      ["int32", c.padding === "SAME" ? 0 : 1],
      ["int32", c.strides[1]],
      ["int32", c.strides[0]],
      ["int32", ACTIVATIONS[c.activation]],
      ["int32", TensorType.FLOAT32],
    ],
    "TransposeConvOptions",
  );
  const op: OperatorDef = {
    index: 0,
    builtinCode: 67,
    name: "TRANSPOSE_CONV",
    version: 1,
    inputs,
    outputs: [4],
    intermediates: [],
    optionsType: 49,
    options: table,
  };
  return { reader, tensors, op, constantBytes };
}

function runTransposeConv(c: TransposeConvCase): number[] {
  const inputs = new Map<number, Uint8Array>([[2, bytesOfArray(c.input)]]);
  if (!c.constantOutputShape) inputs.set(0, bytesOfArray(Int32Array.from([c.batches, c.outputHeight, c.outputWidth, c.outputChannels])));
  const bytes = runLayer(transposeConvKernel, setupOf(c), inputs).get(4)!;
  return Array.from(c.kind === "int8" ? new Int8Array(bytes.buffer) : new Int16Array(bytes.buffer));
}

function assertSameOutputs(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.is(actual.length, expected.length, `${label}: output length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

test("seanet transpose_conv: TFLM's output exactly", () => {
  const directory = resolve(TFLM_FIXTURES, "seanet", "transpose_conv");
  const names = readdirSync(directory).filter((f) => f.endsWith(".tflite")).map((f) => f.slice(0, -".tflite".length));
  assert.is(names.length, 5);
  for (const name of names) {
    const interpreter = new Interpreter(new Uint8Array(readFileSync(resolve(directory, `${name}.tflite`))));
    // Input 0 is the int32 output shape, input 1 the int16 data.
    for (let i = 0; i < 2; i++) interpreter.setInput(i, new Uint8Array(readFileSync(resolve(directory, `${name}_in${i}.bin`))));
    interpreter.invoke();
    const oracle = new Uint8Array(readFileSync(resolve(directory, `${name}_oracle_out0.bin`)));
    assertSameOutputs(interpreter.outputs[0].data as Int16Array, new Int16Array(oracle.buffer, oracle.byteOffset, oracle.byteLength / 2), name);
  }
});

for (const kind of ["int8", "16x8"] as const) {
  test(`random ${kind} transpose conv`, () => {
    const random = new Random(kind === "int8" ? 8 : 16);
    const [typeMin, typeMax] = kind === "int8" ? [-128, 127] : [-32768, 32767];
    let outputs = 0;
    let inRange = 0;
    for (let i = 0; i < 250; i++) {
      const c = randomCase(random, kind);
      const expected = referenceTransposeConv(c);
      assertSameOutputs(runTransposeConv(c), expected, `case ${i} ${describeCase(c)}`);
      outputs += expected.length;
      inRange += expected.filter((v) => v !== c.outputZeroPoint && v > typeMin && v < typeMax).length;
    }
    // The cases exercise the requantization, not only the clamps.
    assert.ok(inRange > 0.4 * outputs, `only ${inRange} of ${outputs} outputs are unsaturated and not the zero point`);
  });
}

test("16x8 transpose conv: deep input beyond int32", () => {
  // 600 channels of (-32768) * (-128) sum to 600 * 2^22 per tap, beyond 2^31,
  // which the int64 scratch of TFLM keeps.
  const random = new Random(21);
  const base = randomCase(random, "16x8");
  const c: TransposeConvCase = {
    ...base,
    batches: 1,
    inputHeight: 2,
    inputWidth: 2,
    inputChannels: 600,
    outputHeight: 4,
    outputWidth: 4,
    outputChannels: 5,
    filterHeight: 3,
    filterWidth: 3,
    strides: [2, 2],
    padding: "SAME",
    activation: "NONE",
    biasType: "int64",
    input: new Int16Array(2 * 2 * 600).fill(-32768),
    // Channels 0 and 4 (in a block of four and left over) get the extreme weight.
    weights: Int8Array.from({ length: 5 * 9 * 600 }, (_, i) => (i < 9 * 600 || i >= 4 * 9 * 600 ? -128 : 127)),
    bias: [-(1n << 20n), 1n << 32n, 0n, 7n, 1n << 20n],
    weightScales: [Math.fround(0.01)],
    inputScale: Math.fround(0.001),
    outputScale: Math.fround(0.001 * 0.01 * 2 ** 22),
  };
  const expected = referenceTransposeConv(c);
  assert.ok(expected.some((v) => v > 600), "the expected outputs need the full int64 sum");
  assertSameOutputs(runTransposeConv(c), expected, "deep input");
});

test("transpose conv: VALID padding of an output narrower than the filter", () => {
  // TFLM's C division truncates (1 + 5 - 8) / 5 to 0, which gives a left
  // padding of 1 where a flooring division would report an error and 0.
  const random = new Random(33);
  const base = randomCase(random, "int8");
  const c: TransposeConvCase = {
    ...base,
    batches: 1,
    inputHeight: 1,
    inputWidth: 2,
    inputChannels: 2,
    outputHeight: 1,
    outputWidth: 1,
    outputChannels: 2,
    filterHeight: 1,
    filterWidth: 8,
    strides: [1, 5],
    padding: "VALID",
    activation: "NONE",
    biasType: null,
    inputZeroPoint: 10,
    outputZeroPoint: -5,
    input: Int8Array.from([50, -70, 90, 11]),
    weights: Int8Array.from({ length: 2 * 8 * 2 }, (_, i) => ((i * 37) % 255) - 127),
    weightScales: [Math.fround(0.01)],
    inputScale: Math.fround(0.002),
    outputScale: Math.fround(0.002 * 0.01 * 50),
  };
  assert.equal(referencePadding("VALID", [1, 5], [1, 1], [1, 1], [1, 8]), [0, 1]);
  const expected = referenceTransposeConv(c);
  assert.ok(expected.every((v) => v > -128 && v < 127), `outputs ${expected} must not saturate`);
  assertSameOutputs(runTransposeConv(c), expected, "narrow output");
});

test("transpose conv: invoke twice gives the same output", () => {
  const random = new Random(3);
  const c = randomCase(random, "int8");
  const setup = setupOf(c);
  const layer = prepareLayer(transposeConvKernel, setup);
  new Uint8Array(layer.buffers.get(2)!).set(bytesOfArray(c.input));
  layer.prepared.invoke();
  const first = new Int8Array(layer.buffers.get(4)!.slice(0));
  layer.prepared.invoke();
  assertSameOutputs(new Int8Array(layer.buffers.get(4)!), first, "second invoke");
});

test("transpose conv: rejected operands", () => {
  const random = new Random(11);
  const c = randomCase(random, "16x8");
  const wrongShape = setupOf({ ...c, constantOutputShape: true });
  (wrongShape.constantBytes as Uint8Array).set(bytesOfArray(Int32Array.from([c.batches, c.outputHeight + 1, c.outputWidth, c.outputChannels])), wrongShape.tensors[0].dataOffset);
  assert.throws(() => prepareLayer(transposeConvKernel, wrongShape), (e: unknown) => e instanceof InvalidModelError && /output shape/.test((e as Error).message));

  const int32Bias = setupOf({ ...c, biasType: "int32", bias: c.bias.map(() => 1n) });
  assert.throws(() => prepareLayer(transposeConvKernel, int32Bias), (e: unknown) => e instanceof UnsupportedError && /bias/.test((e as Error).message));

  const zeroPoint = setupOf({ ...c, outputZeroPoint: 3 });
  assert.throws(() => prepareLayer(transposeConvKernel, zeroPoint), (e: unknown) => e instanceof UnsupportedError && /zero point 3/.test((e as Error).message));
});

test.run();
