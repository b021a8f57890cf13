// UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations, int8 weights, int32
// biases and an int16 cell state, bit-exact with TFLM's integer LstmStep
// (lstm_eval.h, tflite-micro commit 90b983c2). Per time step and batch:
//   gate     = activation(sat16(FC(input)) + sat16(FC(hidden))), saturated to int16,
//              with sigmoid for the input, forget and output gates and tanh for the cell gate
//   cell     = sat16(forget * cell + input * cellGate), then clipped to +-cellClip
//   hidden   = sat8(tanh(cell) * output + hiddenZeroPoint)
//   output[step] = hidden
// Batches never interact, so each batch runs its time steps in turn, for
// either layout (time-major [time, batch, features] or batch-major
// [batch, time, features]); TFLM steps all batches together when the input
// is time-major, which gives the same values.
//
// One pass over the units computes the four gates of a unit from the
// previous hidden state and updates its cell at once. The new hidden values
// wait in scratch memory until every unit has read the previous ones.

import { multiplyByQuantizedMultiplier } from "../../runtime/fixedpoint.js";
import { OperatorDef } from "../../runtime/model.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import { logisticInt16, tanhInt16 } from "../activations/int16_sigmoid_table.js";
import { prepareLstmParameters } from "./lstm_parameters.js";

/** The gates' activations take inputs in units of 2^-12: TFLM's power-of-two scaling, multiplier 3 and no shift. */
const GATE_ACTIVATION_MULTIPLIER = 3;
const GATE_ACTIVATION_SHIFT = 0;

export const unidirectionalSequenceLstmKernel: Kernel = {
  name: "UNIDIRECTIONAL_SEQUENCE_LSTM",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const parameters = prepareLstmParameters(context, op);
    const { timeMajor, batches, timeSteps, inputDepth, units, hiddenZeroPoint, cellClip } = parameters;
    const { inputGate, forgetGate, cellGate, outputGate, indices } = parameters;
    const scratchWords = Math.max(1, (units + 3) >> 2);
    const scratch = context.requestScratch(scratchWords * 4);

    // Weights and biases, gate by gate.
    const inputToInputWeights = inputGate.inputWeights;
    const inputToForgetWeights = forgetGate.inputWeights;
    const inputToCellWeights = cellGate.inputWeights;
    const inputToOutputWeights = outputGate.inputWeights;
    const recurrentToInputWeights = inputGate.recurrentWeights;
    const recurrentToForgetWeights = forgetGate.recurrentWeights;
    const recurrentToCellWeights = cellGate.recurrentWeights;
    const recurrentToOutputWeights = outputGate.recurrentWeights;
    const inputGateBiasValues = inputGate.inputBias;
    const forgetGateBiasValues = forgetGate.inputBias;
    const cellGateBiasValues = cellGate.inputBias;
    const outputGateBiasValues = outputGate.inputBias;
    const inputGateRecurrentBiasValues = inputGate.recurrentBias;
    const forgetGateRecurrentBiasValues = forgetGate.recurrentBias;
    const cellGateRecurrentBiasValues = cellGate.recurrentBias;
    const outputGateRecurrentBiasValues = outputGate.recurrentBias;

    // Every requantization of one unit's update, read by updateUnit in the RESCALE_* layout.
    const rescales = new Int32Array(RESCALE_COUNT);
    [inputGate, forgetGate, cellGate, outputGate].forEach((gate, g) => {
      rescales[RESCALE_GATES + 4 * g] = gate.inputMultiplier.multiplierQ31;
      rescales[RESCALE_GATES + 4 * g + 1] = gate.inputMultiplier.shift;
      rescales[RESCALE_GATES + 4 * g + 2] = gate.recurrentMultiplier.multiplierQ31;
      rescales[RESCALE_GATES + 4 * g + 3] = gate.recurrentMultiplier.shift;
    });
    rescales[RESCALE_FORGET_TIMES_CELL] = parameters.forgetTimesCell.multiplierQ31;
    rescales[RESCALE_FORGET_TIMES_CELL + 1] = parameters.forgetTimesCell.shift;
    rescales[RESCALE_INPUT_TIMES_CELL_GATE] = parameters.inputTimesCellGate.multiplierQ31;
    rescales[RESCALE_INPUT_TIMES_CELL_GATE + 1] = parameters.inputTimesCellGate.shift;
    rescales[RESCALE_OUTPUT_TIMES_TANH_CELL] = parameters.outputTimesTanhCell.multiplierQ31;
    rescales[RESCALE_OUTPUT_TIMES_TANH_CELL + 1] = parameters.outputTimesTanhCell.shift;
    rescales[RESCALE_CELL_TANH] = parameters.cellTanh.multiplier;
    rescales[RESCALE_CELL_TANH + 1] = parameters.cellTanh.rightShift;
    rescales[RESCALE_CELL_CLIP] = cellClip;
    rescales[RESCALE_HIDDEN_ZERO_POINT] = hiddenZeroPoint;
    context.notePersistentBytes(rescales.byteLength + 4 * GATE_SUM_COUNT);
    const gateSums = new Int32Array(GATE_SUM_COUNT);

    let inputData: Int8Array = new Int8Array(0);
    let hiddenData: Int8Array = new Int8Array(0);
    let cellData: Int16Array = new Int16Array(0);
    let outputData: Int8Array = new Int8Array(0);
    let nextHidden: Int8Array = new Int8Array(0);

    return {
      macs: batches * timeSteps * units * (4 * (inputDepth + units) + 3),
      bind(memory: MemoryContext): void {
        inputData = memory.int8(indices.input);
        hiddenData = memory.int8(indices.hiddenState);
        cellData = memory.int16(indices.cellState);
        outputData = memory.int8(indices.output);
        const words = memory.scratchInt32(scratch, scratchWords);
        nextHidden = new Int8Array(words.buffer, words.byteOffset, units);
      },
      invoke(): void {
        const input = inputData;
        const hidden = hiddenData;
        const cell = cellData;
        const output = outputData;
        const next = nextHidden;
        const sums = gateSums;
        // The loops below read locals rather than closure variables, as the other kernels do.
        const inputToInput = inputToInputWeights;
        const inputToForget = inputToForgetWeights;
        const inputToCell = inputToCellWeights;
        const inputToOutput = inputToOutputWeights;
        const recurrentToInput = recurrentToInputWeights;
        const recurrentToForget = recurrentToForgetWeights;
        const recurrentToCell = recurrentToCellWeights;
        const recurrentToOutput = recurrentToOutputWeights;
        const inputGateBias = inputGateBiasValues;
        const forgetGateBias = forgetGateBiasValues;
        const cellGateBias = cellGateBiasValues;
        const outputGateBias = outputGateBiasValues;
        const inputGateRecurrentBias = inputGateRecurrentBiasValues;
        const forgetGateRecurrentBias = forgetGateRecurrentBiasValues;
        const cellGateRecurrentBias = cellGateRecurrentBiasValues;
        const outputGateRecurrentBias = outputGateRecurrentBiasValues;
        for (let batch = 0; batch < batches; batch++) {
          const stateBase = batch * units;
          const stateEnd = stateBase + units;
          for (let time = 0; time < timeSteps; time++) {
            const step = timeMajor ? time * batches + batch : batch * timeSteps + time;
            const inputBase = step * inputDepth;
            const inputEnd = inputBase + inputDepth;

            for (let unit = 0; unit < units; unit++) {
              // The four input products share each input value. Each product
              // is at most 2^14 in magnitude, so a sum leaves int32 only for a
              // huge depth or a bias near the int32 limits. It then goes on as
              // an exact double, and its Int32Array store below wraps it as TFLM's int32
              // sum wraps.
              let inputSum = inputGateBias[unit];
              let forgetSum = forgetGateBias[unit];
              let cellSum = cellGateBias[unit];
              let outputSum = outputGateBias[unit];
              let w = unit * inputDepth;
              for (let i = inputBase; i < inputEnd; i++, w++) {
                const x = input[i];
                inputSum += inputToInput[w] * x;
                forgetSum += inputToForget[w] * x;
                cellSum += inputToCell[w] * x;
                outputSum += inputToOutput[w] * x;
              }

              let inputRecurrentSum = inputGateRecurrentBias[unit];
              let forgetRecurrentSum = forgetGateRecurrentBias[unit];
              let cellRecurrentSum = cellGateRecurrentBias[unit];
              let outputRecurrentSum = outputGateRecurrentBias[unit];
              w = unit * units;
              for (let i = stateBase; i < stateEnd; i++, w++) {
                const h = hidden[i];
                inputRecurrentSum += recurrentToInput[w] * h;
                forgetRecurrentSum += recurrentToForget[w] * h;
                cellRecurrentSum += recurrentToCell[w] * h;
                outputRecurrentSum += recurrentToOutput[w] * h;
              }

              // Int32Array stores wrap each sum as TFLM's int32 sum wraps.
              sums[0] = inputSum;
              sums[1] = forgetSum;
              sums[2] = cellSum;
              sums[3] = outputSum;
              sums[4] = inputRecurrentSum;
              sums[5] = forgetRecurrentSum;
              sums[6] = cellRecurrentSum;
              sums[7] = outputRecurrentSum;
              next[unit] = updateUnit(sums, rescales, cell, stateBase + unit);
            }

            const outputBase = step * units;
            for (let unit = 0; unit < units; unit++) {
              const h = next[unit];
              hidden[stateBase + unit] = h;
              output[outputBase + unit] = h;
            }
          }
        }
      },
    };
  },
};

/** Layout of the rescales table: [multiplierQ31, shift] pairs, gate pairs as input, recurrent. */
const RESCALE_GATES = 0; // 4 gates (input, forget, cell, output) x 4 entries
const RESCALE_FORGET_TIMES_CELL = 16;
const RESCALE_INPUT_TIMES_CELL_GATE = 18;
const RESCALE_OUTPUT_TIMES_TANH_CELL = 20;
const RESCALE_CELL_TANH = 22;
/** Clip bound in cell-state units, or -1 for no clipping. */
const RESCALE_CELL_CLIP = 24;
const RESCALE_HIDDEN_ZERO_POINT = 25;
const RESCALE_COUNT = 26;
/** One unit's input sums of the four gates, then its recurrent sums. */
const GATE_SUM_COUNT = 8;

/**
 * Computes one unit's gates from its eight sums, updates its cell state at
 * cell[c] and returns its new int8 hidden value. It is a separate function
 * with only object and small-integer arguments: V8 then inlines the
 * fixed-point helpers here, and no int32 value beyond its 31-bit small
 * integers crosses a call, which would allocate a heap number per call.
 */
function updateUnit(sums: Int32Array, rescales: Int32Array, cell: Int16Array, c: number): number {
  const inputGateValue = logisticInt16(gateInputAt(sums, rescales, 0), GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT);
  const forgetGateValue = logisticInt16(gateInputAt(sums, rescales, 1), GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT);
  const cellGateValue = tanhInt16(gateInputAt(sums, rescales, 2), GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT);
  const outputGateValue = logisticInt16(gateInputAt(sums, rescales, 3), GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT);

  // Gate values are below 2^15 in magnitude and the cell state is int16,
  // so each product fits int32 before its rescale.
  const keptCell = saturateInt16(
    multiplyByQuantizedMultiplier(forgetGateValue * cell[c], rescales[RESCALE_FORGET_TIMES_CELL], rescales[RESCALE_FORGET_TIMES_CELL + 1]),
  );
  const addedCell = saturateInt16(
    multiplyByQuantizedMultiplier(inputGateValue * cellGateValue, rescales[RESCALE_INPUT_TIMES_CELL_GATE], rescales[RESCALE_INPUT_TIMES_CELL_GATE + 1]),
  );
  let newCell = saturateInt16(keptCell + addedCell);
  const cellClip = rescales[RESCALE_CELL_CLIP];
  if (cellClip >= 0) {
    if (newCell > cellClip) newCell = cellClip;
    else if (newCell < -cellClip) newCell = -cellClip;
  }
  cell[c] = newCell;

  const tanhCell = tanhInt16(newCell, rescales[RESCALE_CELL_TANH], rescales[RESCALE_CELL_TANH + 1]);
  let newHidden =
    multiplyByQuantizedMultiplier(tanhCell * outputGateValue, rescales[RESCALE_OUTPUT_TIMES_TANH_CELL], rescales[RESCALE_OUTPUT_TIMES_TANH_CELL + 1]) +
    rescales[RESCALE_HIDDEN_ZERO_POINT];
  if (newHidden > 127) newHidden = 127;
  else if (newHidden < -128) newHidden = -128;
  return newHidden;
}

/** Returns gateInput for gate g (0 input, 1 forget, 2 cell, 3 output) from the sums and rescales tables. */
function gateInputAt(sums: Int32Array, rescales: Int32Array, g: number): number {
  const r = RESCALE_GATES + 4 * g;
  return gateInput(sums[g], sums[4 + g], rescales[r], rescales[r + 1], rescales[r + 2], rescales[r + 3]);
}

/**
 * Sums one gate's two products after rescaling each to int16 units of
 * 2^-12, each saturated to int16 as TFLM's fully connected output is, and
 * the sum saturated again as its AddElementWise does.
 */
function gateInput(
  inputSum: number,
  recurrentSum: number,
  inputMultiplier: number,
  inputShift: number,
  recurrentMultiplier: number,
  recurrentShift: number,
): number {
  const fromInput = saturateInt16(multiplyByQuantizedMultiplier(inputSum | 0, inputMultiplier, inputShift));
  const fromHidden = saturateInt16(multiplyByQuantizedMultiplier(recurrentSum | 0, recurrentMultiplier, recurrentShift));
  return saturateInt16(fromInput + fromHidden);
}

function saturateInt16(x: number): number {
  if (x > 32767) return 32767;
  if (x < -32768) return -32768;
  return x;
}
