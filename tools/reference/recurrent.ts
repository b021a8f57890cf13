// SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM in double on dequantized values,
// one invoke from a given real state (the dequantized variable tensors).
// The integer kernels also quantize their state and gates on the way, so
// these references bound their error rather than reproduce it.

import { activate } from "./quantization.js";
import { FloatReferenceError, RealTensor, ReferenceTensor, perTensorScale, realBias, realValues } from "./tensor.js";

/**
 * SVDF: the state holds, per batch and filter, the last `memory` feature
 * activations, oldest first. One step shifts it by one, writes the new
 * activation weights_feature . input at the end, and sums
 * state . weights_time over each group of `rank` filters into one unit.
 * Returns the output and the new state.
 */
export function svdfReference(
  input: ReferenceTensor,
  weightsFeature: ReferenceTensor,
  weightsTime: ReferenceTensor,
  bias: ReferenceTensor | null,
  state: Float64Array,
  rank: number,
  activation: number,
): { output: RealTensor; state: Float64Array } {
  const [filters, inputSize] = weightsFeature.shape;
  const memory = weightsTime.shape[1];
  if (weightsTime.shape[0] !== filters || rank <= 0 || filters % rank !== 0) {
    throw new FloatReferenceError(`SVDF weights [${weightsFeature.shape}] and [${weightsTime.shape}] do not fit rank ${rank}`);
  }
  const batches = input.values.length / inputSize;
  const units = filters / rank;
  if (state.length !== batches * filters * memory) {
    throw new FloatReferenceError(`SVDF state has ${state.length} values, expected ${batches * filters * memory}`);
  }
  const x = realValues(input);
  const wf = realValues(weightsFeature);
  const wt = realValues(weightsTime);
  const b = bias === null ? new Float64Array(units) : realValues(bias);
  const next = new Float64Array(state.length);
  const values = new Float64Array(batches * units);
  for (let n = 0; n < batches; n++) {
    for (let f = 0; f < filters; f++) {
      const base = (n * filters + f) * memory;
      for (let t = 0; t + 1 < memory; t++) next[base + t] = state[base + t + 1];
      let feature = 0;
      for (let i = 0; i < inputSize; i++) feature += wf[f * inputSize + i] * x[n * inputSize + i];
      next[base + memory - 1] = feature;
      let sum = 0;
      for (let t = 0; t < memory; t++) sum += next[base + t] * wt[f * memory + t];
      values[n * units + Math.floor(f / rank)] += sum;
    }
    for (let u = 0; u < units; u++) values[n * units + u] = activate(values[n * units + u] + b[u], activation);
  }
  return { output: { shape: [batches, units], values }, state: next };
}

/** Weights and biases of one LSTM gate: input-to-gate, recurrent-to-gate and the bias. */
export interface LstmGate {
  input: ReferenceTensor;
  recurrent: ReferenceTensor;
  bias: ReferenceTensor;
}

export interface LstmOptions {
  timeMajor: boolean;
  /** Clip of the cell state, 0 for none. */
  cellClip: number;
  /** Fused activation of the cell output and the candidate gate (TANH in practice). */
  activation: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function gateActivation(x: number, activation: number): number {
  // TFLite's LSTM applies its fused activation, TANH by default, to the
  // candidate and to the cell state before the output gate.
  return activation === 4 ? Math.tanh(x) : activate(x, activation);
}

/**
 * Runs a unidirectional LSTM without peepholes, projection or layer norm.
 * Per step i, f, o = sigmoid(W x + U h + b), g = tanh(W x + U h + b),
 * c = f c + i g (clipped), h = o tanh(c). Returns every step's h.
 */
export function lstmReference(
  input: ReferenceTensor,
  gates: { input: LstmGate; forget: LstmGate; cell: LstmGate; output: LstmGate },
  outputState: Float64Array,
  cellState: Float64Array,
  options: LstmOptions,
): RealTensor {
  if (input.shape.length !== 3) throw new FloatReferenceError(`LSTM input must be 3-D, got [${input.shape}]`);
  const [d0, d1, inputSize] = input.shape;
  const [steps, batches] = options.timeMajor ? [d0, d1] : [d1, d0];
  const units = gates.forget.input.shape[0];
  const x = realValues(input);
  const inputScale = perTensorScale(input, "LSTM input");
  const prepared = [gates.input, gates.forget, gates.cell, gates.output].map((gate) => ({
    w: realValues(gate.input),
    u: realValues(gate.recurrent),
    b: realBias(gate.bias, inputScale, gate.input, units),
  }));
  const h = Float64Array.from(outputState);
  const c = Float64Array.from(cellState);
  const values = new Float64Array(steps * batches * units);
  const preActivation = new Float64Array(4 * units);
  for (let t = 0; t < steps; t++) {
    for (let n = 0; n < batches; n++) {
      const inBase = (options.timeMajor ? t * batches + n : n * steps + t) * inputSize;
      for (let g = 0; g < 4; g++) {
        const { w, u, b } = prepared[g];
        for (let j = 0; j < units; j++) {
          let sum = b[j];
          for (let i = 0; i < inputSize; i++) sum += w[j * inputSize + i] * x[inBase + i];
          for (let k = 0; k < units; k++) sum += u[j * units + k] * h[n * units + k];
          preActivation[g * units + j] = sum;
        }
      }
      const outBase = (options.timeMajor ? t * batches + n : n * steps + t) * units;
      for (let j = 0; j < units; j++) {
        const i = sigmoid(preActivation[j]);
        const f = sigmoid(preActivation[units + j]);
        const g = gateActivation(preActivation[2 * units + j], options.activation);
        const o = sigmoid(preActivation[3 * units + j]);
        let cell = f * c[n * units + j] + i * g;
        if (options.cellClip > 0) cell = Math.min(Math.max(cell, -options.cellClip), options.cellClip);
        c[n * units + j] = cell;
        h[n * units + j] = o * gateActivation(cell, options.activation);
        values[outBase + j] = h[n * units + j];
      }
    }
  }
  return { shape: [...input.shape.slice(0, 2), units], values };
}
