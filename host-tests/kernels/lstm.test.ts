// UNIDIRECTIONAL_SEQUENCE_LSTM (int8). The LSTM layers of TFLM's
// trained_lstm_int8 and dtln_noise_suppression must match TFLM's rand0 dumps
// (commit 90b983c2). Hand-built layers must match the BigInt transcription
// of TFLM's LSTM in lstm_reference.ts: both time layouts, several batches
// and time steps, cell clipping, saturating products, and state carried
// across invokes. The last tests cover the prepare-time rejections.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { unidirectionalSequenceLstmKernel } from "../../kernels/lstm/unidirectional_sequence_lstm.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { TensorType, tensorTypeBytes } from "../../runtime/tensor_types.js";
import { readFixture } from "../fixtures.js";
import { OperatorSetup, loadTflmModel, modelOperator, prepareLayer, readDumpIndex, readDumpTensor, scalarTable } from "./layer_harness.js";
import { ReferenceLstm, referenceLstm } from "./lstm_reference.js";
import { Xorshift32 } from "./test_data.js";

const LSTM = 44;
const LSTM_OPTIONS = 71;
const TANH = 4;

// ---------------------------------------------------------------------------
// TFLM dumps: each LSTM runs once per invoke from reset state, so the dumped
// state tensors are the state right after the operator.

const DUMPED_LAYERS: ReadonlyArray<[string, number]> = [
  ["trained_lstm_int8", 0],
  ["dtln_noise_suppression", 0],
  ["dtln_noise_suppression", 1],
];

for (const [modelName, opIndex] of DUMPED_LAYERS) {
  test(`${modelName} operator ${opIndex} matches TFLM`, () => {
    const model = loadTflmModel(modelName);
    const setup = modelOperator(model, opIndex);
    assert.is(setup.op.name, "UNIDIRECTIONAL_SEQUENCE_LSTM");
    const dumped = new Set(readDumpIndex(modelName).map((t) => t.index));
    const [inputIndex, hiddenIndex, cellIndex, outputIndex] = [setup.op.inputs[0], setup.op.inputs[18], setup.op.inputs[19], setup.op.outputs[0]];
    for (const index of [inputIndex, hiddenIndex, cellIndex, outputIndex]) assert.ok(dumped.has(index), `the dump has tensor ${index}`);

    const layer = prepareLayer(unidirectionalSequenceLstmKernel, setup);
    new Uint8Array(layer.buffers.get(inputIndex)!).set(readDumpTensor(modelName, inputIndex));
    // TFLM's reset sets an int8 state to its zero point and the int16 cell state to 0.
    new Int8Array(layer.buffers.get(hiddenIndex)!).fill(model.tensors[hiddenIndex].zeroPoint[0]);
    new Int16Array(layer.buffers.get(cellIndex)!).fill(0);
    layer.prepared.invoke();

    const int8 = (bytes: ArrayBuffer | Uint8Array) => Array.from(new Int8Array(bytes instanceof Uint8Array ? bytes.slice().buffer : bytes));
    const int16 = (bytes: ArrayBuffer | Uint8Array) => Array.from(new Int16Array(bytes instanceof Uint8Array ? bytes.slice().buffer : bytes));
    assert.equal(int8(layer.buffers.get(outputIndex)!), int8(readDumpTensor(modelName, outputIndex)), "output");
    assert.equal(int8(layer.buffers.get(hiddenIndex)!), int8(readDumpTensor(modelName, hiddenIndex)), "hidden state");
    assert.equal(int16(layer.buffers.get(cellIndex)!), int16(readDumpTensor(modelName, cellIndex)), "cell state");
  });
}

test("trained_lstm_int8 classifies MNIST samples", () => {
  // TFLM's trained_lstm example ships one MNIST image per digit; each must
  // score highest for its own digit.
  const interpreter = new Interpreter(readFixture("models/trained_lstm_int8.tflite"));
  for (let digit = 0; digit < 10; digit++) {
    interpreter.resetState();
    interpreter.inputs[0].bytes.set(readFixture(`cases/trained_lstm_int8/real_mnist_sample${digit}_in0.bin`));
    interpreter.invoke();
    const scores = Array.from(interpreter.outputs[0].data as Int8Array);
    assert.is(scores.indexOf(Math.max(...scores)), digit, `sample ${digit} scores [${scores}]`);
  }
});

// ---------------------------------------------------------------------------
// Hand-built layers.

interface LstmCase {
  name: string;
  timeMajor: boolean;
  batches: number;
  timeSteps: number;
  inputDepth: number;
  units: number;
  inputScale: number;
  inputZeroPoint: number;
  hiddenScale: number;
  hiddenZeroPoint: number;
  cellScale: number;
  cellClip: number;
  /** Weight scales are drawn from [min, max]. */
  weightScales: [number, number];
  biasMagnitude: number;
  seed: number;
}

const CASES: LstmCase[] = [
  {
    name: "batch-major, 2 batches, 3 steps",
    timeMajor: false, batches: 2, timeSteps: 3, inputDepth: 5, units: 4,
    inputScale: 0.05, inputZeroPoint: -3, hiddenScale: 1 / 128, hiddenZeroPoint: 5,
    cellScale: 2 ** -11, cellClip: 0, weightScales: [0.005, 0.03], biasMagnitude: 3000, seed: 11,
  },
  {
    name: "time-major, 3 batches, 4 steps, clipped cell",
    timeMajor: true, batches: 3, timeSteps: 4, inputDepth: 7, units: 6,
    inputScale: 0.04, inputZeroPoint: 17, hiddenScale: 0.0075, hiddenZeroPoint: -2,
    cellScale: 2 ** -13, cellClip: 0.6, weightScales: [0.01, 0.05], biasMagnitude: 8000, seed: 12,
  },
  {
    name: "time-major, 2 batches, saturating products",
    timeMajor: true, batches: 2, timeSteps: 5, inputDepth: 3, units: 2,
    inputScale: 0.5, inputZeroPoint: -100, hiddenScale: 0.05, hiddenZeroPoint: 30,
    cellScale: 2 ** -15, cellClip: 0, weightScales: [0.1, 0.3], biasMagnitude: 100000, seed: 13,
  },
  {
    name: "batch-major, 3 batches, non-power-of-two cell scale",
    timeMajor: false, batches: 3, timeSteps: 2, inputDepth: 9, units: 5,
    inputScale: 0.02, inputZeroPoint: 0, hiddenScale: 0.009, hiddenZeroPoint: 0,
    cellScale: 0.0003, cellClip: 3, weightScales: [0.002, 0.02], biasMagnitude: 20000, seed: 14,
  },
  {
    name: "one step, 33 inputs, 16 units",
    timeMajor: false, batches: 1, timeSteps: 1, inputDepth: 33, units: 16,
    inputScale: 0.0686, inputZeroPoint: -128, hiddenScale: 0.00765, hiddenZeroPoint: -4,
    cellScale: 2 ** -12, cellClip: 10, weightScales: [0.015, 0.045], biasMagnitude: 1000, seed: 15,
  },
];

/** Tensor indices of the hand-built layers. */
const T = { input: 0, inputWeights: [1, 2, 3, 4], recurrentWeights: [5, 6, 7, 8], biases: [9, 10, 11, 12], hidden: 13, cell: 14, output: 15 };

interface HandLayer {
  setup: OperatorSetup;
  reference: ReferenceLstm;
}

function constantTensor(index: number, name: string, type: number, shape: number[], dataOffset: number, scale: number[], zeroPoint: number[]): TensorDef {
  const elementCount = shape.reduce((a, b) => a * b, 1);
  return {
    index, name, type, shape, elementCount, byteLength: elementCount * tensorTypeBytes(type), dataOffset, isVariable: false,
    scale: Float32Array.from(scale), zeroPoint: Int32Array.from(zeroPoint), quantizedDimension: 0,
  };
}

/** Builds the layer of a case: random weights and biases, the operator, and the matching reference description. */
function buildLayer(c: LstmCase): HandLayer {
  const random = new Xorshift32(c.seed);
  const { batches, timeSteps, inputDepth, units } = c;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const place = (bytes: Uint8Array): number => {
    const at = offset;
    chunks.push(bytes);
    offset += (bytes.byteLength + 3) & ~3;
    if (offset > at + bytes.byteLength) chunks.push(new Uint8Array(offset - at - bytes.byteLength));
    return at;
  };

  const f32 = Math.fround;
  const tensors: TensorDef[] = [];
  const inputShape = c.timeMajor ? [timeSteps, batches, inputDepth] : [batches, timeSteps, inputDepth];
  tensors[T.input] = constantTensor(T.input, "input", TensorType.INT8, inputShape, -1, [c.inputScale], [c.inputZeroPoint]);

  const inputWeights: Int8Array[] = [];
  const recurrentWeights: Int8Array[] = [];
  const inputWeightScales: number[] = [];
  const recurrentWeightScales: number[] = [];
  const biases: Int32Array[] = [];
  for (let gate = 0; gate < 4; gate++) {
    const w = random.int8Array(units * inputDepth);
    const r = random.int8Array(units * units);
    const ws = f32(random.uniform(c.weightScales[0], c.weightScales[1]));
    const rs = f32(random.uniform(c.weightScales[0], c.weightScales[1]));
    const bias = Int32Array.from({ length: units }, () => random.integer(-c.biasMagnitude, c.biasMagnitude));
    inputWeights.push(w);
    recurrentWeights.push(r);
    inputWeightScales.push(ws);
    recurrentWeightScales.push(rs);
    biases.push(bias);
    tensors[T.inputWeights[gate]] = constantTensor(T.inputWeights[gate], `w${gate}`, TensorType.INT8, [units, inputDepth],
      place(new Uint8Array(w.buffer)), [ws], [0]);
    tensors[T.recurrentWeights[gate]] = constantTensor(T.recurrentWeights[gate], `r${gate}`, TensorType.INT8, [units, units],
      place(new Uint8Array(r.buffer)), [rs], [0]);
    tensors[T.biases[gate]] = constantTensor(T.biases[gate], `b${gate}`, TensorType.INT32, [units],
      place(new Uint8Array(bias.buffer)), [f32(c.inputScale * ws)], [0]);
  }
  tensors[T.hidden] = { ...constantTensor(T.hidden, "hidden", TensorType.INT8, [batches, units], -1, [c.hiddenScale], [c.hiddenZeroPoint]), isVariable: true };
  tensors[T.cell] = { ...constantTensor(T.cell, "cell", TensorType.INT16, [batches, units], -1, [c.cellScale], [0]), isVariable: true };
  const outputShape = c.timeMajor ? [timeSteps, batches, units] : [batches, timeSteps, units];
  tensors[T.output] = constantTensor(T.output, "output", TensorType.INT8, outputShape, -1, [c.hiddenScale], [c.hiddenZeroPoint]);

  const constantBytes = new Uint8Array(offset);
  let position = 0;
  for (const chunk of chunks) {
    constantBytes.set(chunk, position);
    position += chunk.byteLength;
  }

  const options = scalarTable([["int32", TANH], ["float32", c.cellClip], ["float32", 0], ["int32", c.timeMajor ? 1 : 0]], "lstm options");
  const op: OperatorDef = {
    index: 0,
    builtinCode: LSTM,
    name: "UNIDIRECTIONAL_SEQUENCE_LSTM",
    version: 1,
    inputs: [T.input, ...T.inputWeights, ...T.recurrentWeights, -1, -1, -1, ...T.biases, -1, -1, T.hidden, T.cell, -1, -1, -1, -1],
    outputs: [T.output],
    intermediates: [],
    optionsType: LSTM_OPTIONS,
    options: options.table,
  };

  const reference: ReferenceLstm = {
    timeMajor: c.timeMajor, batches, timeSteps, inputDepth, units,
    inputScale: f32(c.inputScale), inputZeroPoint: c.inputZeroPoint,
    hiddenScale: f32(c.hiddenScale), hiddenZeroPoint: c.hiddenZeroPoint,
    cellScale: f32(c.cellScale), cellClip: f32(c.cellClip),
    inputWeights, inputWeightScales, recurrentWeights, recurrentWeightScales, biases,
  };
  return { setup: { reader: options.reader, tensors, op, constantBytes }, reference };
}

for (const c of CASES) {
  test(`LSTM ${c.name} matches TFLM transcription`, () => {
    const { setup, reference } = buildLayer(c);
    const layer = prepareLayer(unidirectionalSequenceLstmKernel, setup);
    const input = new Int8Array(layer.buffers.get(T.input)!);
    const hidden = new Int8Array(layer.buffers.get(T.hidden)!);
    const cell = new Int16Array(layer.buffers.get(T.cell)!);
    const output = new Int8Array(layer.buffers.get(T.output)!);
    hidden.fill(c.hiddenZeroPoint);
    cell.fill(0);
    const referenceHidden = new Int8Array(hidden.length).fill(c.hiddenZeroPoint);
    const referenceCell = new Int16Array(cell.length);

    // Three invokes: the state carries over from one to the next.
    const random = new Xorshift32(c.seed + 1000);
    for (let invoke = 0; invoke < 3; invoke++) {
      input.set(random.int8Array(input.length));
      const expected = referenceLstm(reference, input, referenceHidden, referenceCell);
      output.fill(0x55);
      layer.prepared.invoke();
      assert.equal(Array.from(output), Array.from(expected), `output, invoke ${invoke}`);
      assert.equal(Array.from(hidden), Array.from(referenceHidden), `hidden state, invoke ${invoke}`);
      assert.equal(Array.from(cell), Array.from(referenceCell), `cell state, invoke ${invoke}`);
    }
  });
}

test("hand-built cases reach the saturation and clipping paths", () => {
  // The cases above must exercise what they claim: the clipped case hits
  // its clip bound and the saturating case saturates the int16 cell state.
  const hits = (c: LstmCase, predicate: (cell: Int16Array) => boolean): boolean => {
    const { reference } = buildLayer(c);
    const random = new Xorshift32(c.seed + 1000);
    const hidden = new Int8Array(c.batches * c.units).fill(c.hiddenZeroPoint);
    const cell = new Int16Array(c.batches * c.units);
    let hit = false;
    for (let invoke = 0; invoke < 3; invoke++) {
      referenceLstm(reference, random.int8Array(c.batches * c.timeSteps * c.inputDepth), hidden, cell);
      hit ||= predicate(cell);
    }
    return hit;
  };
  const clipped = CASES[1];
  const clipBound = Math.trunc(Math.fround(clipped.cellClip) / Math.fround(clipped.cellScale));
  assert.ok(hits(clipped, (cell) => cell.some((v) => Math.abs(v) === clipBound)), "cell state reaches the clip bound");
  assert.ok(hits(CASES[2], (cell) => cell.some((v) => v === 32767 || v === -32768)), "cell state saturates");
});

// ---------------------------------------------------------------------------
// Rejections.

function expectRejection(name: string, mutate: (setup: OperatorSetup) => OperatorSetup, errorClass: Function, pattern: RegExp, scheme = "tflm") {
  test(`LSTM rejects ${name}`, () => {
    const setup = mutate(buildLayer(CASES[0]).setup);
    try {
      prepareLayer(unidirectionalSequenceLstmKernel, setup, scheme);
      assert.unreachable("prepare should throw");
    } catch (error) {
      assert.instance(error, errorClass);
      assert.match((error as Error).message, pattern);
    }
  });
}

function withInput(setup: OperatorSetup, slot: number, tensorIndex: number): OperatorSetup {
  const inputs = [...setup.op.inputs];
  inputs[slot] = tensorIndex;
  return { ...setup, op: { ...setup.op, inputs } };
}

function withTensor(setup: OperatorSetup, index: number, change: Partial<TensorDef>): OperatorSetup {
  const tensors = [...setup.tensors];
  tensors[index] = { ...tensors[index], ...change };
  return { ...setup, tensors };
}

expectRejection("peephole weights", (s) => withInput(s, 10, T.biases[1]), UnsupportedError, /peephole/);
expectRejection("projection weights", (s) => withInput(s, 16, T.recurrentWeights[0]), UnsupportedError, /projection/);
expectRejection("layer norm coefficients", (s) => withInput(s, 21, T.biases[1]), UnsupportedError, /layer normalization/);
expectRejection("CIFG without input gate", (s) => withInput(withInput(s, 1, -1), 5, -1), UnsupportedError, /CIFG/);
expectRejection("missing forget weights", (s) => withInput(s, 2, -1), InvalidModelError, /input-to-forget weights/);
expectRejection("20 inputs", (s) => ({ ...s, op: { ...s.op, inputs: s.op.inputs.slice(0, 20) } }), UnsupportedError, /24 input slots/);
expectRejection("int16 activations", (s) => withTensor(s, T.input, { type: TensorType.INT16, byteLength: s.tensors[T.input].elementCount * 2 }),
  UnsupportedError, /only the int8 LSTM/);
expectRejection("float32 cell state", (s) => withTensor(s, T.cell, { type: TensorType.FLOAT32 }), UnsupportedError, /int16 cell state/);
expectRejection("non-variable cell state", (s) => withTensor(s, T.cell, { isVariable: false }), InvalidModelError, /not a variable tensor/);
expectRejection("per-channel weights", (s) => withTensor(s, T.inputWeights[2], { scale: Float32Array.from([0.01, 0.02, 0.03, 0.04]), zeroPoint: new Int32Array(4) }),
  UnsupportedError, /per-tensor weight quantization/);
expectRejection("asymmetric weights", (s) => withTensor(s, T.recurrentWeights[3], { zeroPoint: Int32Array.from([3]) }), UnsupportedError, /zero point 3/);
expectRejection("wrong weight shape", (s) => withTensor(s, T.recurrentWeights[1], { shape: [4, 5], elementCount: 20, byteLength: 20 }),
  InvalidModelError, /expected \[4,4\]/);
expectRejection("wrong output shape", (s) => withTensor(s, T.output, { shape: [2, 3, 5], elementCount: 30, byteLength: 30 }),
  InvalidModelError, /expected \[2,3,4\]/);
expectRejection("cell activation RELU", (s) => {
  const options = scalarTable([["int32", 1], ["float32", 0], ["float32", 0], ["int32", 0]], "lstm options");
  return { ...s, reader: options.reader, op: { ...s.op, options: options.table } };
}, UnsupportedError, /activation RELU/);
expectRejection("missing options (activation NONE)", (s) => ({ ...s, op: { ...s.op, options: null, optionsType: 0 } }), UnsupportedError, /activation NONE/);
expectRejection("cell_clip NaN", (s) => {
  const options = scalarTable([["int32", 4], ["float32", Number.NaN], ["float32", 0], ["int32", 0]], "lstm options");
  return { ...s, reader: options.reader, op: { ...s.op, options: options.table } };
}, InvalidModelError, /cell_clip NaN/);
expectRejection("another requantization scheme", (s) => s, UnsupportedError, /"tflm" scheme/, "onnx");

test.run();
