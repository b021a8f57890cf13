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

    // Rescales of each gate's input and recurrent products to units of 2^-12.
    const inputGateInputMultiplier = inputGate.inputMultiplier.multiplierQ31;
    const inputGateInputShift = inputGate.inputMultiplier.shift;
    const inputGateRecurrentMultiplier = inputGate.recurrentMultiplier.multiplierQ31;
    const inputGateRecurrentShift = inputGate.recurrentMultiplier.shift;
    const forgetGateInputMultiplier = forgetGate.inputMultiplier.multiplierQ31;
    const forgetGateInputShift = forgetGate.inputMultiplier.shift;
    const forgetGateRecurrentMultiplier = forgetGate.recurrentMultiplier.multiplierQ31;
    const forgetGateRecurrentShift = forgetGate.recurrentMultiplier.shift;
    const cellGateInputMultiplier = cellGate.inputMultiplier.multiplierQ31;
    const cellGateInputShift = cellGate.inputMultiplier.shift;
    const cellGateRecurrentMultiplier = cellGate.recurrentMultiplier.multiplierQ31;
    const cellGateRecurrentShift = cellGate.recurrentMultiplier.shift;
    const outputGateInputMultiplier = outputGate.inputMultiplier.multiplierQ31;
    const outputGateInputShift = outputGate.inputMultiplier.shift;
    const outputGateRecurrentMultiplier = outputGate.recurrentMultiplier.multiplierQ31;
    const outputGateRecurrentShift = outputGate.recurrentMultiplier.shift;

    const forgetTimesCellMultiplier = parameters.forgetTimesCell.multiplierQ31;
    const forgetTimesCellShift = parameters.forgetTimesCell.shift;
    const inputTimesCellGateMultiplier = parameters.inputTimesCellGate.multiplierQ31;
    const inputTimesCellGateShift = parameters.inputTimesCellGate.shift;
    const outputTimesTanhCellMultiplier = parameters.outputTimesTanhCell.multiplierQ31;
    const outputTimesTanhCellShift = parameters.outputTimesTanhCell.shift;
    const cellTanhMultiplier = parameters.cellTanh.multiplier;
    const cellTanhShift = parameters.cellTanh.rightShift;
    const clipsCell = cellClip >= 0;
    const cellClipNegative = -cellClip;

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
              // an exact double, and gateInput's | 0 wraps it as TFLM's int32
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

              const inputGateValue = logisticInt16(
                gateInput(inputSum, inputRecurrentSum, inputGateInputMultiplier, inputGateInputShift,
                  inputGateRecurrentMultiplier, inputGateRecurrentShift),
                GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT,
              );
              const forgetGateValue = logisticInt16(
                gateInput(forgetSum, forgetRecurrentSum, forgetGateInputMultiplier, forgetGateInputShift,
                  forgetGateRecurrentMultiplier, forgetGateRecurrentShift),
                GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT,
              );
              const cellGateValue = tanhInt16(
                gateInput(cellSum, cellRecurrentSum, cellGateInputMultiplier, cellGateInputShift,
                  cellGateRecurrentMultiplier, cellGateRecurrentShift),
                GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT,
              );
              const outputGateValue = logisticInt16(
                gateInput(outputSum, outputRecurrentSum, outputGateInputMultiplier, outputGateInputShift,
                  outputGateRecurrentMultiplier, outputGateRecurrentShift),
                GATE_ACTIVATION_MULTIPLIER, GATE_ACTIVATION_SHIFT,
              );

              // Gate values are below 2^15 in magnitude and the cell state is
              // int16, so each product fits int32 before its rescale.
              const c = stateBase + unit;
              const keptCell = saturateInt16(multiplyByQuantizedMultiplier(forgetGateValue * cell[c], forgetTimesCellMultiplier, forgetTimesCellShift));
              const addedCell = saturateInt16(
                multiplyByQuantizedMultiplier(inputGateValue * cellGateValue, inputTimesCellGateMultiplier, inputTimesCellGateShift),
              );
              let newCell = saturateInt16(keptCell + addedCell);
              if (clipsCell) {
                if (newCell > cellClip) newCell = cellClip;
                else if (newCell < cellClipNegative) newCell = cellClipNegative;
              }
              cell[c] = newCell;

              const tanhCell = tanhInt16(newCell, cellTanhMultiplier, cellTanhShift);
              let newHidden =
                multiplyByQuantizedMultiplier(tanhCell * outputGateValue, outputTimesTanhCellMultiplier, outputTimesTanhCellShift) + hiddenZeroPoint;
              if (newHidden > 127) newHidden = 127;
              else if (newHidden < -128) newHidden = -128;
              next[unit] = newHidden;
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
