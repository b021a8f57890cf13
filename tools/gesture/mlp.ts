// A small multilayer perceptron trained in plain JavaScript: fully connected
// layers with ReLU between them, softmax cross-entropy loss and Adam. A
// seeded generator draws the initial weights and the batch order, so
// training is deterministic for a given seed.

import { Random } from "./dataset.js";

/** One fully connected layer: weights [units][inputs] row-major and one bias per unit. */
export interface DenseLayer {
  inputs: number;
  units: number;
  weights: Float64Array;
  bias: Float64Array;
}

export interface TrainingOptions {
  /** Layer widths from input to output, e.g. [192, 32, 16, 4]. */
  widths: readonly number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Called after each epoch with the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/** Creates layers with He-normal weights (standard deviation sqrt(2 / inputs)) and zero biases. */
export function initializeLayers(widths: readonly number[], random: Random): DenseLayer[] {
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const inputs = widths[i];
    const units = widths[i + 1];
    const weights = new Float64Array(units * inputs);
    const deviation = Math.sqrt(2 / inputs);
    for (let j = 0; j < weights.length; j++) weights[j] = random.normal() * deviation;
    layers.push({ inputs, units, weights, bias: new Float64Array(units) });
  }
  return layers;
}

/** Computes every layer's output for one input; ReLU after every layer but the last. Returns the activations, input first. */
export function forward(layers: readonly DenseLayer[], input: ArrayLike<number>): Float64Array[] {
  const activations: Float64Array[] = [Float64Array.from(input)];
  layers.forEach((layer, index) => {
    const x = activations[index];
    const y = new Float64Array(layer.units);
    for (let unit = 0; unit < layer.units; unit++) {
      let sum = layer.bias[unit];
      const row = unit * layer.inputs;
      for (let k = 0; k < layer.inputs; k++) sum += layer.weights[row + k] * x[k];
      y[unit] = index + 1 < layers.length && sum < 0 ? 0 : sum;
    }
    activations.push(y);
  });
  return activations;
}

/** Index of the largest value; the first one on ties. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Trains the network on `count` examples of `inputSize` values each in
 * `inputs`, with class labels in `labels`, and returns the layers.
 */
export function trainClassifier(inputs: Float64Array, labels: Uint8Array, options: TrainingOptions): DenseLayer[] {
  const random = new Random(options.seed);
  const layers = initializeLayers(options.widths, random);
  const inputSize = options.widths[0];
  const count = labels.length;

  const gradients = layers.map((layer) => ({ weights: new Float64Array(layer.weights.length), bias: new Float64Array(layer.bias.length) }));
  const firstMoments = layers.map((layer) => ({ weights: new Float64Array(layer.weights.length), bias: new Float64Array(layer.bias.length) }));
  const secondMoments = layers.map((layer) => ({ weights: new Float64Array(layer.weights.length), bias: new Float64Array(layer.bias.length) }));
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  let step = 0;

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = count - 1; i > 0; i--) {
      const j = random.integer(i + 1);
      const swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    let lossSum = 0;

    for (let start = 0; start < count; start += options.batchSize) {
      const end = Math.min(count, start + options.batchSize);
      for (const gradient of gradients) {
        gradient.weights.fill(0);
        gradient.bias.fill(0);
      }

      for (let position = start; position < end; position++) {
        const example = order[position];
        const activations = forward(layers, inputs.subarray(example * inputSize, (example + 1) * inputSize));
        const logits = activations[layers.length];

        // Softmax cross-entropy: the gradient of the loss by the logits is softmax - one-hot.
        const maxLogit = Math.max(...logits);
        let sum = 0;
        const probabilities = logits.map((logit) => {
          const e = Math.exp(logit - maxLogit);
          sum += e;
          return e;
        });
        for (let c = 0; c < probabilities.length; c++) probabilities[c] /= sum;
        lossSum -= Math.log(Math.max(probabilities[labels[example]], 1e-30));
        let delta = probabilities;
        delta[labels[example]] -= 1;

        for (let index = layers.length - 1; index >= 0; index--) {
          const layer = layers[index];
          const x = activations[index];
          const gradient = gradients[index];
          const previousDelta = new Float64Array(layer.inputs);
          for (let unit = 0; unit < layer.units; unit++) {
            const d = delta[unit];
            if (d === 0) continue;
            gradient.bias[unit] += d;
            const row = unit * layer.inputs;
            for (let k = 0; k < layer.inputs; k++) {
              gradient.weights[row + k] += d * x[k];
              previousDelta[k] += d * layer.weights[row + k];
            }
          }
          // ReLU of the layer below passes the gradient only where its output was positive.
          if (index > 0) for (let k = 0; k < layer.inputs; k++) if (x[k] <= 0) previousDelta[k] = 0;
          delta = previousDelta;
        }
      }

      step++;
      const batch = end - start;
      const correction1 = 1 - Math.pow(ADAM_BETA1, step);
      const correction2 = 1 - Math.pow(ADAM_BETA2, step);
      layers.forEach((layer, index) => {
        const update = (parameters: Float64Array, gradient: Float64Array, m: Float64Array, v: Float64Array): void => {
          for (let i = 0; i < parameters.length; i++) {
            const g = gradient[i] / batch;
            m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * g;
            v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * g * g;
            parameters[i] -= (options.learningRate * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + ADAM_EPSILON);
          }
        };
        update(layer.weights, gradients[index].weights, firstMoments[index].weights, secondMoments[index].weights);
        update(layer.bias, gradients[index].bias, firstMoments[index].bias, secondMoments[index].bias);
      });
    }
    options.onEpoch?.(epoch, lossSum / count);
  }
  return layers;
}
