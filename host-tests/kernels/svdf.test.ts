// SVDF: bit-exact against TFLM's reference integer SVDF (svdf_common.cc,
// commit 90b983c2) on the seven SVDF layers of keyword_scrambled_8bit, whose
// output and state come from the rand0 dump with each layer from reset state.
// Hand-built operators, with int8 and int16 state and with and without bias,
// are checked over several invokes against a BigInt transcription of TFLM's
// EvalIntegerSvdfReference (svdf_cases.ts).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { svdfKernel } from "../../kernels/svdf.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { TensorType } from "../../runtime/tensor_types.js";
import {
  loadTflmModel,
  modelOperator,
  prepareLayer,
  readDumpIndex,
  readDumpTensor,
  tensorDef,
} from "./layer_harness.js";
import { INT16_CASE, INT8_CASE, ReferenceRun, SvdfCase, SvdfData, randomData, referenceSvdf, svdfSetup, svdfTensors } from "./svdf_cases.js";

const SVDF = 27;
const RELU = 1;

const isUnsupported = (error: unknown) => error instanceof UnsupportedError;
const isInvalid = (error: unknown) => error instanceof InvalidModelError;

// ---------------------------------------------------------------------------
// keyword_scrambled_8bit layers.

const KEYWORD = "keyword_scrambled_8bit";
const KEYWORD_SVDF_OPERATORS = [1, 3, 5, 7, 9, 10, 11];

test("keyword_scrambled_8bit has seven SVDF layers", () => {
  const model = loadTflmModel(KEYWORD);
  const svdfOperators = model.operators.filter((op) => op.builtinCode === SVDF).map((op) => op.index);
  assert.equal(svdfOperators, KEYWORD_SVDF_OPERATORS);
});

for (const opIndex of KEYWORD_SVDF_OPERATORS) {
  test(`keyword_scrambled_8bit SVDF ${opIndex} matches TFLM`, () => {
    const model = loadTflmModel(KEYWORD);
    const setup = modelOperator(model, opIndex);
    const [inputIndex, , , , stateIndex] = setup.op.inputs;
    const outputIndex = setup.op.outputs[0];
    const state = model.tensors[stateIndex];
    assert.ok(state.isVariable, "input 4 is the variable state");

    const layer = prepareLayer(svdfKernel, setup);
    new Uint8Array(layer.buffers.get(inputIndex)!).set(readDumpTensor(KEYWORD, inputIndex));
    // TFLM's ResetVariableTensors fills an int8 state with its zero point.
    new Int8Array(layer.buffers.get(stateIndex)!).fill(state.zeroPoint[0]);
    layer.prepared.invoke();

    const dumped = readDumpIndex(KEYWORD).find((t) => t.index === outputIndex);
    assert.is(dumped?.producer_op_index, opIndex);
    assert.equal(int8Values(layer.buffers.get(outputIndex)!), int8Values(readDumpTensor(KEYWORD, outputIndex)), "output");
    assert.equal(int8Values(layer.buffers.get(stateIndex)!), int8Values(readDumpTensor(KEYWORD, stateIndex)), "state");
  });
}

function int8Values(bytes: ArrayBuffer | Uint8Array): number[] {
  return bytes instanceof Uint8Array ? Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) : Array.from(new Int8Array(bytes));
}

// ---------------------------------------------------------------------------
// Hand-built operators against the reference.

interface KernelRun {
  outputs: number[][];
  state: number[];
}

function runSvdf(c: SvdfCase, data: SvdfData): KernelRun {
  const layer = prepareLayer(svdfKernel, svdfSetup(c));
  const StateArray = c.stateType === TensorType.INT16 ? Int16Array : Int8Array;
  new Int8Array(layer.buffers.get(1)!).set(data.weightsFeature);
  new StateArray(layer.buffers.get(2)!).set(data.weightsTime);
  if (c.hasBias) new Int32Array(layer.buffers.get(3)!).set(data.bias);
  new StateArray(layer.buffers.get(4)!).fill(c.stateType === TensorType.INT8 ? c.stateZeroPoint : 0);
  const outputs: number[][] = [];
  for (const input of data.inputs) {
    new Int8Array(layer.buffers.get(0)!).set(input);
    layer.prepared.invoke();
    outputs.push(Array.from(new Int8Array(layer.buffers.get(5)!)));
  }
  return { outputs, state: Array.from(new StateArray(layer.buffers.get(4)!)) };
}

function checkAgainstReference(c: SvdfCase, data: SvdfData): ReferenceRun {
  const expected = referenceSvdf(c, data);
  const actual = runSvdf(c, data);
  expected.outputs.forEach((output, i) => assert.equal(actual.outputs[i], output, `output of invoke ${i}`));
  assert.equal(actual.state, expected.state, "state after the last invoke");
  return expected;
}

test("svdf int8 state over 7 invokes matches reference", () => {
  // 7 invokes with memory 4 push values through every memory slot and out.
  checkAgainstReference(INT8_CASE, randomData(INT8_CASE, 7, 11));
});

test("svdf int8 state without bias matches reference", () => {
  const c = { ...INT8_CASE, hasBias: false, batches: 1, rank: 1, units: 4 };
  checkAgainstReference(c, randomData(c, 5, 23));
});

test("svdf int16 state over 7 invokes matches reference", () => {
  checkAgainstReference(INT16_CASE, randomData(INT16_CASE, 7, 37));
});

test("svdf int16 state with a zero point matches reference", () => {
  // TFLM subtracts the state zero point for int16 too, though its converter writes 0.
  const c = { ...INT16_CASE, stateZeroPoint: -1234, hasBias: false };
  checkAgainstReference(c, randomData(c, 6, 41));
});

test("svdf saturates features and wraps the state like TFLM", () => {
  // A feature rescale of 1/32 saturates most feature values at 127, and
  // zero point 100 makes 100 + value overflow int8, which TFLM's cast wraps.
  const c = { ...INT8_CASE, inputScale: Math.fround(0.5), weightsFeatureScale: Math.fround(0.5), stateScale: Math.fround(8), stateZeroPoint: 100 };
  const run = checkAgainstReference(c, randomData(c, 5, 53));
  assert.ok(run.featureClamps > 0, "some feature values saturate");
  assert.ok(run.stateWraps > 0, "some state values wrap");
});

test("svdf saturates the output to int8", () => {
  const c = { ...INT8_CASE, outputScale: Math.fround(0.0005) };
  const data = randomData(c, 4, 67);
  const run = checkAgainstReference(c, data);
  const flat = run.outputs.flat();
  assert.ok(flat.includes(127), "some outputs reach 127");
  assert.ok(flat.includes(-128), "some outputs reach -128");
});

test("svdf int32 sums wrap like TFLM's", () => {
  // int16 time weights near the limit over a long memory with a large bias
  // push the per-unit sum past int32, which TFLM's int32 arithmetic wraps.
  const c = { ...INT16_CASE, memorySize: 600, rank: 3, units: 2, batches: 1, inputScale: Math.fround(2), stateScale: Math.fround(0.01) };
  const data = randomData(c, 20, 79, 2 ** 31 - 1);
  data.weightsTime = data.weightsTime.map((w) => (w < 0 ? -32768 : 32767));
  const run = checkAgainstReference(c, data);
  assert.ok(run.sumWraps > 0, "some sums wrap");
});

test("svdf ignores the fused activation like TFLM", () => {
  // With RELU and output zero point 3, TFLM still writes values below 3.
  const c = { ...INT8_CASE, activation: RELU };
  const run = checkAgainstReference(c, randomData(c, 3, 83));
  assert.ok(run.outputs.flat().some((v) => v < c.outputZeroPoint), "some outputs lie below the zero point");
});

test("svdf multiplies scales in float32", () => {
  // Scales whose float32 and double quotients give feature multipliers 165
  // apart (2126966016 and 2126965851): about 0.0025 at the int16 limit, so
  // roughly one feature value in 400 rounds differently. With a memory as
  // long as the run, the final state contains all 5120 feature values.
  const c: SvdfCase = {
    ...INT16_CASE,
    inputSize: 40,
    units: 32,
    memorySize: 40,
    inputScale: 0.07731980830430984,
    weightsFeatureScale: 0.006639628205448389,
    stateScale: 0.0010366541100665927,
    weightsTimeScale: Math.fround(1 / 32768),
    inputZeroPoint: 0,
  };
  const data = randomData(c, 40, 97);
  const inDouble = referenceSvdf(c, data, "double");
  const run = checkAgainstReference(c, data);
  assert.not.equal(run.state, inDouble.state, "the case separates float32 from double scales");
});

// ---------------------------------------------------------------------------
// Prepare.

test("svdf rejects a state that is not a variable tensor", () => {
  const tensors = svdfTensors(INT8_CASE);
  tensors[4] = { ...tensors[4], isVariable: false };
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isInvalid);
});

test("svdf rejects state and weights_time of different types", () => {
  const tensors = svdfTensors(INT8_CASE);
  tensors[2] = tensorDef(2, TensorType.INT16, tensors[2].shape, [INT8_CASE.weightsTimeScale], [0]);
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isUnsupported);
});

test("svdf rejects another requantization scheme", () => {
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE), "onnx"), (error: Error) => isUnsupported(error) && /"tflm"/.test(error.message));
});

test("svdf rejects float32 input", () => {
  const tensors = svdfTensors(INT8_CASE);
  tensors[0] = tensorDef(0, TensorType.FLOAT32, tensors[0].shape);
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isUnsupported);
});

test("svdf rejects a rank that does not divide the filters", () => {
  // 6 filters: rank 4 does not divide them, and rank 0 is invalid.
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, svdfTensors(INT8_CASE), 4)), isInvalid);
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, svdfTensors(INT8_CASE), 0)), isInvalid);
});

test("svdf rejects inconsistent shapes", () => {
  const shapes: Array<[number, number[]]> = [
    [1, [6, 4]], // weights_feature depth differs from the input size 5
    [2, [5, 4]], // weights_time filter count differs from 6
    [3, [4]], // bias length differs from 3 units
    [4, [2, 23]], // state is not memory * filters = 24 wide
    [5, [2, 4]], // output is not [batches, units]
    [0, [10]], // input is not two-dimensional
  ];
  for (const [index, shape] of shapes) {
    const tensors = svdfTensors(INT8_CASE);
    const original = tensors[index];
    tensors[index] = { ...tensorDef(index, original.type, shape, Array.from(original.scale), Array.from(original.zeroPoint)), isVariable: original.isVariable };
    assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isInvalid, `tensor ${index} shape [${shape}]`);
  }
});

test("svdf rejects a bias scale TFLM rejects", () => {
  const tensors = svdfTensors(INT8_CASE);
  tensors[3] = tensorDef(3, TensorType.INT32, [INT8_CASE.units], [0.01], [0]);
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isInvalid);
});

test("svdf rejects asymmetric weights", () => {
  const tensors = svdfTensors(INT8_CASE);
  tensors[1] = tensorDef(1, TensorType.INT8, tensors[1].shape, [INT8_CASE.weightsFeatureScale], [3]);
  assert.throws(() => prepareLayer(svdfKernel, svdfSetup(INT8_CASE, tensors)), isUnsupported);
});

test("svdf rejects a missing input", () => {
  const setup = svdfSetup(INT8_CASE);
  const fourInputs = { ...setup, op: { ...setup.op, inputs: setup.op.inputs.slice(0, 4) } };
  assert.throws(() => prepareLayer(svdfKernel, fourInputs), isInvalid);
});

test.run();
