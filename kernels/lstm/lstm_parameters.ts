// Prepare-time validation and derived parameters of the int8
// UNIDIRECTIONAL_SEQUENCE_LSTM, as TFLM's unidirectional_sequence_lstm.cc
// and lstm_eval_common.cc (tflite-micro commit 90b983c2) build them:
//   - each gate is FC(input) + FC(hidden state), both fully connected
//     products with int16 outputs in units of 2^-12 (Q3.12), no bias on
//     the hidden-state product;
//   - gate outputs are in units of 2^-15 (Q0.15);
//   - the cell state is int16 with a power-of-two scale;
//   - the op's intermediate tensors and the output tensor's quantization
//     play no part in the arithmetic.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { QuantizedMultiplier, quantizeMultiplier, roundHalfAwayFromZero } from "../../runtime/quantize_multiplier.js";
import { Activation, ACTIVATION_NAMES } from "../../runtime/schema/options.js";
import { readUnidirectionalSequenceLstmOptions } from "../../runtime/schema/options_lstm.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { checkPerTensorQuantization, checkZeroPoint, describeTensor } from "../common.js";
import { PrepareContext } from "../kernel.js";
import { Int16InputRescale } from "../activations/int16_sigmoid_table.js";
import { cellStateTanhScaling } from "./int16_activations.js";

/** Operator input slots, as in TFLM's lstm_shared.h. */
const INPUT = 0;
const INPUT_TO_GATE_WEIGHTS = [1, 2, 3, 4]; // input, forget, cell, output gates
const RECURRENT_TO_GATE_WEIGHTS = [5, 6, 7, 8];
const PEEPHOLE_WEIGHTS = [9, 10, 11];
const GATE_BIASES = [12, 13, 14, 15];
const PROJECTION_WEIGHTS = 16;
const PROJECTION_BIAS = 17;
const HIDDEN_STATE = 18;
const CELL_STATE = 19;
const LAYER_NORM_COEFFICIENTS = [20, 21, 22, 23];
const INPUT_COUNT = 24;

/** Names of the input slots, TFLM's tensor names without the "kLstm" prefix, for messages. */
const SLOT_NAMES = [
  "input",
  "input-to-input weights", "input-to-forget weights", "input-to-cell weights", "input-to-output weights",
  "recurrent-to-input weights", "recurrent-to-forget weights", "recurrent-to-cell weights", "recurrent-to-output weights",
  "cell-to-input peephole weights", "cell-to-forget peephole weights", "cell-to-output peephole weights",
  "input gate bias", "forget gate bias", "cell gate bias", "output gate bias",
  "projection weights", "projection bias",
  "hidden state", "cell state",
  "input layer norm coefficients", "forget layer norm coefficients", "cell layer norm coefficients", "output layer norm coefficients",
];

/** Scale of the fully connected outputs, the inputs of the gate activations: 2^-12. */
const GATE_INPUT_SCALE = 0.000244140625;
/** Scale of the gate activation outputs: 2^-15. */
const GATE_OUTPUT_SCALE = 0.000030517578125;

/** The two fully connected products of one gate. */
export interface GateParameters {
  /** Zero-copy views of the [units, inputDepth] and [units, units] weights. */
  readonly inputWeights: Int8Array;
  readonly recurrentWeights: Int8Array;
  /** Bias minus inputZeroPoint times each weight row's sum, wrapped to int32. */
  readonly inputBias: Int32Array;
  /** Minus hiddenZeroPoint times each recurrent weight row's sum, wrapped to int32. */
  readonly recurrentBias: Int32Array;
  /** Rescale of each product to units of 2^-12. */
  readonly inputMultiplier: QuantizedMultiplier;
  readonly recurrentMultiplier: QuantizedMultiplier;
}

/** A validated int8 LSTM with everything invoke needs. */
export interface LstmParameters {
  readonly timeMajor: boolean;
  readonly batches: number;
  readonly timeSteps: number;
  readonly inputDepth: number;
  /** State dimension: cells per batch, and the width of the hidden state and output. */
  readonly units: number;
  readonly inputGate: GateParameters;
  readonly forgetGate: GateParameters;
  readonly cellGate: GateParameters;
  readonly outputGate: GateParameters;
  /** forget gate (2^-15) times cell state, to the cell state scale. */
  readonly forgetTimesCell: QuantizedMultiplier;
  /** input gate (2^-15) times cell gate (2^-15), to the cell state scale. */
  readonly inputTimesCellGate: QuantizedMultiplier;
  /** tanh of the cell state (2^-15) times output gate (2^-15), to the hidden state scale. */
  readonly outputTimesTanhCell: QuantizedMultiplier;
  readonly hiddenZeroPoint: number;
  /** Bound of the cell state in int16 units, or -1 when the cell state is not clipped. */
  readonly cellClip: number;
  readonly cellTanh: Int16InputRescale;
  readonly indices: {
    readonly input: number;
    readonly hiddenState: number;
    readonly cellState: number;
    readonly output: number;
  };
}

/** Validates the operator and derives its parameters; throws UnsupportedError or InvalidModelError. */
export function prepareLstmParameters(context: PrepareContext, op: OperatorDef): LstmParameters {
  checkOperandCounts(op);
  if (context.scheme.name !== "tflm") {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}): microq computes the LSTM only with TFLM's integer arithmetic, but the ` +
        `model uses the "${context.scheme.name}" requantization scheme; run it with the "tflm" scheme`,
    );
  }
  const options = readUnidirectionalSequenceLstmOptions(context.reader, op);
  checkOptions(op, options.activation, options.diagonalRecurrentTensors);
  if (Number.isNaN(options.cellClip)) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) has cell_clip NaN; expected 0 for no clipping or a positive bound, so the file is corrupted`,
    );
  }
  rejectVariantTensors(op);

  const input = requiredTensor(context, op, INPUT);
  const hiddenState = requiredTensor(context, op, HIDDEN_STATE);
  const cellState = requiredTensor(context, op, CELL_STATE);
  const output = context.tensor(op.outputs[0]);
  checkTypes(op, input, hiddenState, cellState, output);

  // Sizes, as TFLM's CreateLstmSizeInfo reads them.
  checkTensorRank(op, input, INPUT, 3);
  checkTensorRank(op, hiddenState, HIDDEN_STATE, 2);
  const timeMajor = options.timeMajor;
  const batches = timeMajor ? input.shape[1] : input.shape[0];
  const timeSteps = timeMajor ? input.shape[0] : input.shape[1];
  const inputDepth = input.shape[2];
  const units = hiddenState.shape[1];
  checkStateAndOutputSizes(op, input, hiddenState, cellState, output, batches * units, units);

  checkPerTensorQuantization(op, input, SLOT_NAMES[INPUT]);
  checkPerTensorQuantization(op, hiddenState, SLOT_NAMES[HIDDEN_STATE]);
  checkPerTensorQuantization(op, cellState, SLOT_NAMES[CELL_STATE]);
  const inputZeroPoint = checkZeroPoint(op, input, SLOT_NAMES[INPUT]);
  const hiddenZeroPoint = checkZeroPoint(op, hiddenState, SLOT_NAMES[HIDDEN_STATE]);
  // NOTE: TFLM treats the cell state as symmetric and ignores its zero point, and so does this kernel.
  const cellScale = cellState.scale[0];

  const gate = (slot: number): GateParameters =>
    prepareGate(context, op, slot, input, hiddenState, inputZeroPoint, hiddenZeroPoint, inputDepth, units);
  const inputGate = gate(0);
  const forgetGate = gate(1);
  const cellGate = gate(2);
  const outputGate = gate(3);

  const cellStateScalePower = checkedLog2(cellScale);
  if (cellStateScalePower > 2 || cellStateScalePower < -43) {
    throw new UnsupportedError(
      `cell state ${describeTensor(cellState)} has scale ${cellScale}, about 2^${cellStateScalePower}; ` +
        `the int16 tanh of TFLM's LSTM works for cell state scales from 2^-43 to 2^2, so requantize the model`,
    );
  }

  const subject = `operator ${op.index} (${op.name})`;
  return {
    timeMajor,
    batches,
    timeSteps,
    inputDepth,
    units,
    inputGate,
    forgetGate,
    cellGate,
    outputGate,
    forgetTimesCell: interGateMultiplier(GATE_OUTPUT_SCALE, cellScale, cellScale, `${subject} forget gate times cell state`),
    inputTimesCellGate: interGateMultiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cellScale, `${subject} input gate times cell gate`),
    outputTimesTanhCell: interGateMultiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hiddenState.scale[0], `${subject} output gate times tanh(cell state)`),
    hiddenZeroPoint,
    cellClip: options.cellClip > 0 ? quantizedCellClip(options.cellClip, cellScale) : -1,
    cellTanh: cellStateTanhScaling(cellStateScalePower),
    indices: { input: op.inputs[INPUT], hiddenState: op.inputs[HIDDEN_STATE], cellState: op.inputs[CELL_STATE], output: op.outputs[0] },
  };
}

function checkOperandCounts(op: OperatorDef): void {
  if (op.inputs.length !== INPUT_COUNT) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) has ${op.inputs.length} inputs; TFLM's LSTM kernel needs all ${INPUT_COUNT} ` +
        `input slots (omitted ones as -1), so convert the model with a current TFLite converter`,
    );
  }
  if (op.outputs.length !== 1) {
    throw new InvalidModelError(`operator ${op.index} (${op.name}) has ${op.outputs.length} outputs, expected 1; the file is corrupted`);
  }
}

function checkOptions(op: OperatorDef, activation: number, diagonalRecurrentTensors: boolean): void {
  // TFLM's gates run only sigmoid or tanh, and the schema's activations
  // include no sigmoid, so TANH is the one cell gate activation that works.
  if (activation !== Activation.TANH) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) has cell gate activation ${ACTIVATION_NAMES[activation] ?? activation}; ` +
        `TFLM's LSTM kernel computes only TANH there, so convert the model from an LSTM with a tanh activation`,
    );
  }
  if (diagonalRecurrentTensors) {
    throw new UnsupportedError(
      `operator ${op.index} (${op.name}) stores diagonal recurrent weights; TFLM's LSTM kernel needs full ` +
        `[units, units] recurrent weight matrices, so convert the model without diagonal_recurrent_tensors`,
    );
  }
}

/** Rejects the peephole, projection and layer-norm inputs, which TFLM's kernel does not compute. */
function rejectVariantTensors(op: OperatorDef): void {
  const variants: Array<[number[], string]> = [
    [PEEPHOLE_WEIGHTS, "peephole connections; convert the model from an LSTM without peepholes"],
    [[PROJECTION_WEIGHTS, PROJECTION_BIAS], "a projection layer; convert the model from an LSTM without projection"],
    [LAYER_NORM_COEFFICIENTS, "layer normalization; convert the model from an LSTM without layer normalization"],
  ];
  for (const [slots, remedy] of variants) {
    for (const slot of slots) {
      if (op.inputs[slot] >= 0) {
        throw new UnsupportedError(
          `operator ${op.index} (${op.name}) has ${SLOT_NAMES[slot]} (input ${slot}, tensor ${op.inputs[slot]}): ` +
            `TFLM's LSTM kernel does not compute ${remedy}`,
        );
      }
    }
  }
  for (const slot of [INPUT_TO_GATE_WEIGHTS[0], RECURRENT_TO_GATE_WEIGHTS[0]]) {
    if (op.inputs[slot] < 0) {
      throw new UnsupportedError(
        `operator ${op.index} (${op.name}) omits the ${SLOT_NAMES[slot]} (input ${slot}), which makes it a coupled ` +
          `input-forget gate (CIFG) LSTM; TFLM's LSTM kernel needs the input gate, so convert the model without CIFG`,
      );
    }
  }
}

function requiredTensor(context: PrepareContext, op: OperatorDef, slot: number): TensorDef {
  if (op.inputs[slot] < 0) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}) omits its ${SLOT_NAMES[slot]} (input ${slot}), which is required; the file is corrupted`,
    );
  }
  return context.tensor(op.inputs[slot]);
}

function checkTypes(op: OperatorDef, input: TensorDef, hiddenState: TensorDef, cellState: TensorDef, output: TensorDef): void {
  if (input.type !== TensorType.INT8) {
    throw new UnsupportedError(
      `input ${describeTensor(input)} of operator ${op.index} (${op.name}) is ${tensorTypeName(input.type)}; ` +
        `only the int8 LSTM (int8 weights, int16 cell state) is implemented, so quantize the model to int8`,
    );
  }
  for (const [tensor, slot] of [[hiddenState, HIDDEN_STATE], [output, -1]] as Array<[TensorDef, number]>) {
    if (tensor.type !== input.type) {
      const role = slot < 0 ? "output" : SLOT_NAMES[slot];
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): ${role} ${describeTensor(tensor)} is ${tensorTypeName(tensor.type)}, ` +
          `expected int8 like the input; the file is corrupted`,
      );
    }
  }
  if (cellState.type !== TensorType.INT16) {
    throw new UnsupportedError(
      `cell state ${describeTensor(cellState)} of operator ${op.index} (${op.name}) is ${tensorTypeName(cellState.type)}; ` +
        `TFLM's int8 LSTM needs an int16 cell state, so quantize the model with the TFLite converter's int8 LSTM support`,
    );
  }
  for (const [tensor, slot] of [[hiddenState, HIDDEN_STATE], [cellState, CELL_STATE]] as Array<[TensorDef, number]>) {
    if (!tensor.isVariable) {
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): ${SLOT_NAMES[slot]} ${describeTensor(tensor)} is not a variable tensor, ` +
          `but the LSTM updates it in place; the file is corrupted`,
      );
    }
  }
}

function checkTensorRank(op: OperatorDef, tensor: TensorDef, slot: number, rank: number): void {
  if (tensor.shape.length !== rank) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${SLOT_NAMES[slot]} ${describeTensor(tensor)} has shape [${tensor.shape}], ` +
        `expected ${rank} dimensions; the file is corrupted`,
    );
  }
}

function checkStateAndOutputSizes(
  op: OperatorDef,
  input: TensorDef,
  hiddenState: TensorDef,
  cellState: TensorDef,
  output: TensorDef,
  stateElements: number,
  units: number,
): void {
  // Each state has one row of units per batch. TFLM accepts any shape with that element count.
  for (const [tensor, slot] of [[hiddenState, HIDDEN_STATE], [cellState, CELL_STATE]] as Array<[TensorDef, number]>) {
    if (tensor.elementCount !== stateElements) {
      throw new InvalidModelError(
        `operator ${op.index} (${op.name}): ${SLOT_NAMES[slot]} ${describeTensor(tensor)} has ${tensor.elementCount} ` +
          `elements, expected ${stateElements} (batches times units); the file is corrupted`,
      );
    }
  }
  const shape = output.shape;
  if (shape.length !== 3 || shape[0] !== input.shape[0] || shape[1] !== input.shape[1] || shape[2] !== units) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): output ${describeTensor(output)} has shape [${shape}], expected ` +
        `[${input.shape[0]},${input.shape[1]},${units}]; the file is corrupted`,
    );
  }
}

function prepareGate(
  context: PrepareContext,
  op: OperatorDef,
  gate: number,
  input: TensorDef,
  hiddenState: TensorDef,
  inputZeroPoint: number,
  hiddenZeroPoint: number,
  inputDepth: number,
  units: number,
): GateParameters {
  const inputWeights = weightMatrix(context, op, INPUT_TO_GATE_WEIGHTS[gate], units, inputDepth);
  const recurrentWeights = weightMatrix(context, op, RECURRENT_TO_GATE_WEIGHTS[gate], units, units);

  const biasSlot = GATE_BIASES[gate];
  const bias = requiredTensor(context, op, biasSlot);
  if (bias.type !== TensorType.INT32) {
    throw new UnsupportedError(
      `${SLOT_NAMES[biasSlot]} ${describeTensor(bias)} of operator ${op.index} (${op.name}) is ${tensorTypeName(bias.type)}; ` +
        `the int8 LSTM needs int32 biases`,
    );
  }
  if (bias.shape.length !== 1 || bias.shape[0] !== units) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${SLOT_NAMES[biasSlot]} ${describeTensor(bias)} has shape [${bias.shape}], ` +
        `expected [${units}]; the file is corrupted`,
    );
  }
  if (!context.isConstant(op.inputs[biasSlot])) {
    throw new UnsupportedError(`${SLOT_NAMES[biasSlot]} ${describeTensor(bias)} is computed at run time; ${op.name} needs a constant bias here`);
  }

  // TFLM accumulates sum(w * (x - zeroPoint)) + bias in int32, wrapping.
  // The zero point's share, -zeroPoint * sum(w), is the same for every
  // input, so it moves into the bias. Sums modulo 2^32 keep the result exact.
  const inputBias = context.constantInt32(op.inputs[biasSlot]);
  const recurrentBias = new Int32Array(units);
  context.notePersistentBytes(recurrentBias.byteLength);
  for (let unit = 0; unit < units; unit++) {
    inputBias[unit] = (inputBias[unit] - inputZeroPoint * rowSum(inputWeights.data, unit, inputDepth)) | 0;
    recurrentBias[unit] = (-hiddenZeroPoint * rowSum(recurrentWeights.data, unit, units)) | 0;
  }

  const subject = `operator ${op.index} (${op.name}) ${SLOT_NAMES[INPUT_TO_GATE_WEIGHTS[gate]]}`;
  return {
    inputWeights: inputWeights.data,
    recurrentWeights: recurrentWeights.data,
    inputBias,
    recurrentBias,
    inputMultiplier: fullyConnectedMultiplier(input.scale[0], inputWeights.scale, subject),
    recurrentMultiplier: fullyConnectedMultiplier(hiddenState.scale[0], recurrentWeights.scale, `${subject} (recurrent)`),
  };
}

/** Checks one int8 weight matrix of shape [rows, columns] and returns a view of its data and its scale. */
function weightMatrix(
  context: PrepareContext,
  op: OperatorDef,
  slot: number,
  rows: number,
  columns: number,
): { data: Int8Array; scale: number } {
  const weights = requiredTensor(context, op, slot);
  const role = SLOT_NAMES[slot];

  if (weights.type !== TensorType.INT8) {
    throw new UnsupportedError(
      `${role} ${describeTensor(weights)} of operator ${op.index} (${op.name}) are ${tensorTypeName(weights.type)}; ` +
        `the int8 LSTM needs int8 weights, so quantize the model to int8`,
    );
  }
  if (weights.shape.length !== 2 || weights.shape[0] !== rows || weights.shape[1] !== columns) {
    throw new InvalidModelError(
      `operator ${op.index} (${op.name}): ${role} ${describeTensor(weights)} have shape [${weights.shape}], ` +
        `expected [${rows},${columns}]; the file is corrupted`,
    );
  }
  if (!context.isConstant(op.inputs[slot])) {
    throw new UnsupportedError(`${role} ${describeTensor(weights)} are computed at run time; ${op.name} needs constant weights here`);
  }

  // TFLM's LSTM reads only the per-tensor multiplier of its fully connected
  // parameters, which per-channel weights leave unset.
  if (weights.scale.length !== 1) {
    throw new UnsupportedError(
      `${role} ${describeTensor(weights)} of operator ${op.index} (${op.name}) have ${weights.scale.length} scales; ` +
        `TFLM's LSTM needs per-tensor weight quantization, so convert the model without per-channel LSTM weights`,
    );
  }
  checkPerTensorQuantization(op, weights, role);
  if (weights.zeroPoint.length > 0 && weights.zeroPoint[0] !== 0) {
    throw new UnsupportedError(
      `${role} ${describeTensor(weights)} of operator ${op.index} (${op.name}) have zero point ${weights.zeroPoint[0]}; ` +
        `TFLM's int8 LSTM needs symmetric weights (zero point 0)`,
    );
  }

  const bytes = context.constantBytes(op.inputs[slot]);
  return { data: new Int8Array(bytes.buffer, bytes.byteOffset, rows * columns), scale: weights.scale[0] };
}

function rowSum(weights: Int8Array, row: number, columns: number): number {
  let sum = 0;
  for (let i = row * columns, end = i + columns; i < end; i++) sum += weights[i];
  return sum;
}

/**
 * Multiplier of a gate's fully connected product: input scale times weight
 * scale in float32, divided in double by the 2^-12 output scale, as TFLM's
 * GetQuantizedConvolutionMultipler computes it.
 */
function fullyConnectedMultiplier(inputScale: number, weightScale: number, subject: string): QuantizedMultiplier {
  return quantizeMultiplier(Math.fround(inputScale * weightScale) / GATE_INPUT_SCALE, subject);
}

/** Multiplier of an elementwise product, all in double, as TFLM's CreateInterGateMulParams. */
function interGateMultiplier(input1Scale: number, input2Scale: number, outputScale: number, subject: string): QuantizedMultiplier {
  return quantizeMultiplier((input1Scale * input2Scale) / outputScale, subject);
}

/**
 * Returns the exponent of the power of two nearest to a scale, computed in
 * float32 as TFLM's CheckedLog2 does: round(logf(x) * (1 / logf(2))). TFLM's LSTM uses the
 * result without checking that the scale is a power of two.
 * NOTE: Math.log rounded to float32 may differ from a C library's logf in
 * the last bit, which changes the result only for a scale almost exactly
 * halfway between two powers of two.
 */
export function checkedLog2(x: number): number {
  const inverseLog2 = Math.fround(1 / Math.fround(Math.log(2)));
  const log2 = Math.fround(Math.fround(Math.log(x)) * inverseLog2);
  return roundHalfAwayFromZero(log2);
}

/**
 * Converts the cell clip to int16 units: cell_clip / scale in double, clamped to the
 * int16 range and truncated toward zero, as TFLM's CreateLstmCellStateInfo.
 */
function quantizedCellClip(cellClip: number, cellScale: number): number {
  return Math.trunc(Math.min(Math.max(cellClip / cellScale, -32768), 32767));
}
