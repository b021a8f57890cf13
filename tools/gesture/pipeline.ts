// The gesture model from data set to int8 .tflite: generate the synthetic
// data set, train a float MLP, write it as a float ONNX model, quantize it
// with microq's post-training quantization and measure both models on the
// test split.

import { convertOnnxModel } from "../convert/convert.js";
import { encodeOnnxModel } from "../convert/onnx_proto.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { DEFAULT_SEED, GESTURE_CLASSES, GestureDataset, GestureSplit, WINDOW_VALUES, generateDataset } from "./dataset.js";
import { DenseLayer, argmax, forward, trainClassifier } from "./mlp.js";

/** Layer widths: one window of 64 samples x 3 axes, two hidden layers, one logit per class. */
export const LAYER_WIDTHS = [WINDOW_VALUES, 32, 16, GESTURE_CLASSES.length] as const;
export const TRAINING_EPOCHS = 30;
export const BATCH_SIZE = 32;
export const LEARNING_RATE = 0.002;
/** Seed of the initial weights and batch order (the data set has its own). */
export const TRAINING_SEED = 7;
/** Training windows used to calibrate the activation ranges: the first ones of the shuffled training split. */
export const CALIBRATION_WINDOWS = 400;
/** Test windows of each class copied into recorded.bin for the device example's replay. */
export const RECORDED_WINDOWS_PER_CLASS = 3;

/** Names of the ONNX graph's input and output. */
export const INPUT_NAME = "accel";
export const OUTPUT_NAME = "logits";

export interface GestureModel {
  dataset: GestureDataset;
  /** Float layers with the input standardization folded into the first one; they read m/s^2. */
  layers: DenseLayer[];
  floatOnnx: Uint8Array;
  /** The calibration windows as raw little-endian float32, the --calibration file format. */
  calibration: Uint8Array;
  tflite: Uint8Array;
  floatCorrect: number;
  int8Correct: number;
  testCount: number;
  /** Windows and labels of the replay file, and the test indices they come from. */
  recorded: { windows: Float32Array; labels: Uint8Array; testIndices: number[] };
}

/** Runs the whole pipeline; `log` receives progress lines. */
export function buildGestureModel(log: (line: string) => void = () => {}, seed = DEFAULT_SEED): GestureModel {
  const dataset = generateDataset(seed);
  const { train, test } = dataset;

  // Standardize each axis with the training split's mean and standard deviation; fold it into layer 1 afterwards.
  const { mean, deviation } = axisStatistics(train.windows);
  const standardized = Float64Array.from(train.windows, (value, i) => (value - mean[i % 3]) / deviation[i % 3]);
  const trained = trainClassifier(standardized, train.labels, {
    widths: LAYER_WIDTHS,
    epochs: TRAINING_EPOCHS,
    batchSize: BATCH_SIZE,
    learningRate: LEARNING_RATE,
    seed: TRAINING_SEED,
    onEpoch: (epoch, loss) => {
      if ((epoch + 1) % 5 === 0) log(`epoch ${epoch + 1}: mean training loss ${loss.toFixed(4)}`);
    },
  });
  const layers = toFloat32(foldStandardization(trained, mean, deviation));

  const floatOnnx = encodeFloatOnnx(layers);
  const calibrationWindows = train.windows.subarray(0, CALIBRATION_WINDOWS * WINDOW_VALUES);
  const calibration = float32Bytes(calibrationWindows);
  const tflite = convertOnnxModel(floatOnnx, { quantize: "int8", calibration: calibrationWindows });

  const floatCorrect = countFloatCorrect(layers, test);
  const int8Correct = countInt8Correct(tflite, test);
  return { dataset, layers, floatOnnx, calibration, tflite, floatCorrect, int8Correct, testCount: test.labels.length, recorded: recordedWindows(test) };
}

/** Raw little-endian float32 bytes of `values`. */
export function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return bytes;
}

function axisStatistics(windows: Float32Array): { mean: number[]; deviation: number[] } {
  const mean = [0, 0, 0];
  const square = [0, 0, 0];
  for (let i = 0; i < windows.length; i++) {
    mean[i % 3] += windows[i];
    square[i % 3] += windows[i] * windows[i];
  }
  const perAxis = windows.length / 3;
  const deviation = [0, 1, 2].map((axis) => {
    mean[axis] /= perAxis;
    return Math.sqrt(square[axis] / perAxis - mean[axis] * mean[axis]);
  });
  return { mean, deviation };
}

/** Layer 1 of inputs (x - mean) / deviation becomes layer 1 of raw inputs x: w' = w / deviation, b' = b - sum(w' mean). */
function foldStandardization(layers: DenseLayer[], mean: number[], deviation: number[]): DenseLayer[] {
  const [first, ...rest] = layers;
  const weights = new Float64Array(first.weights.length);
  const bias = Float64Array.from(first.bias);
  for (let unit = 0; unit < first.units; unit++) {
    for (let k = 0; k < first.inputs; k++) {
      const w = first.weights[unit * first.inputs + k] / deviation[k % 3];
      weights[unit * first.inputs + k] = w;
      bias[unit] -= w * mean[k % 3];
    }
  }
  return [{ ...first, weights, bias }, ...rest];
}

/** Rounds every parameter to float32, the type the ONNX model stores. */
function toFloat32(layers: DenseLayer[]): DenseLayer[] {
  return layers.map((layer) => ({ ...layer, weights: layer.weights.map(Math.fround), bias: layer.bias.map(Math.fround) }));
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): unknown {
  const data = Float32Array.from(values);
  return { name, dims: dims.map(String), data_type: 1, raw_data: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, dims: number[]): unknown {
  return { name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((dimension) => ({ dim_value: String(dimension) })) } } } };
}

/** Writes the float model as ONNX (opset 13): Gemm with transB 1 for each layer, Relu between them. */
export function encodeFloatOnnx(layers: readonly DenseLayer[]): Uint8Array {
  const nodes: unknown[] = [];
  const initializers: unknown[] = [];
  let current = INPUT_NAME;
  layers.forEach((layer, index) => {
    const name = `dense${index + 1}`;
    initializers.push(floatTensor(`${name}.weight`, [layer.units, layer.inputs], layer.weights));
    initializers.push(floatTensor(`${name}.bias`, [layer.units], layer.bias));
    const last = index + 1 === layers.length;
    const output = last ? OUTPUT_NAME : `${name}/output`;
    nodes.push({ op_type: "Gemm", name, input: [current, `${name}.weight`, `${name}.bias`], output: [output], attribute: [{ name: "transB", type: 2, i: 1 }] });
    current = output;
    if (!last) {
      const reluOutput = `relu${index + 1}/output`;
      nodes.push({ op_type: "Relu", name: `relu${index + 1}`, input: [current], output: [reluOutput] });
      current = reluOutput;
    }
  });
  return encodeOnnxModel({
    ir_version: 8,
    producer_name: "microq tools/gesture",
    opset_import: [{ domain: "", version: 13 }],
    graph: {
      name: "gesture_mlp",
      node: nodes,
      initializer: initializers,
      input: [valueInfo(INPUT_NAME, [1, layers[0].inputs])],
      output: [valueInfo(OUTPUT_NAME, [1, layers[layers.length - 1].units])],
    },
  });
}

export function countFloatCorrect(layers: readonly DenseLayer[], split: GestureSplit): number {
  let correct = 0;
  for (let i = 0; i < split.labels.length; i++) {
    const activations = forward(layers, split.windows.subarray(i * WINDOW_VALUES, (i + 1) * WINDOW_VALUES));
    if (argmax(activations[layers.length]) === split.labels[i]) correct++;
  }
  return correct;
}

/**
 * Quantizes a window of float m/s^2 samples to the model's int8 input, as a
 * device does: q = round(x / scale) + zeroPoint, saturated to [-128, 127].
 * Math.round rounds ties toward +infinity; a tie needs x / scale to be
 * exactly half an integer, which a sensor value almost never is.
 */
export function quantizeWindow(window: ArrayLike<number>, scale: number, zeroPoint: number, output: Int8Array): void {
  for (let i = 0; i < output.length; i++) output[i] = Math.max(-128, Math.min(127, Math.round(window[i] / scale) + zeroPoint));
}

/** Runs the int8 model on every window of `split` with microq's Interpreter and counts the correct argmax of the int8 logits. */
export function countInt8Correct(tflite: Uint8Array, split: GestureSplit): number {
  const interpreter = new Interpreter(tflite);
  const input = interpreter.inputs[0];
  const quantized = new Int8Array(WINDOW_VALUES);
  let correct = 0;
  for (let i = 0; i < split.labels.length; i++) {
    quantizeWindow(split.windows.subarray(i * WINDOW_VALUES, (i + 1) * WINDOW_VALUES), input.scale, input.zeroPoint, quantized);
    interpreter.setInput(0, quantized);
    interpreter.invoke();
    if (argmax(interpreter.outputs[0].data as Int8Array) === split.labels[i]) correct++;
  }
  return correct;
}

/** The first RECORDED_WINDOWS_PER_CLASS test windows of each class, in test order. */
function recordedWindows(test: GestureSplit): GestureModel["recorded"] {
  const takenPerClass = new Array<number>(GESTURE_CLASSES.length).fill(0);
  const testIndices: number[] = [];
  for (let i = 0; i < test.labels.length; i++) {
    if (takenPerClass[test.labels[i]] < RECORDED_WINDOWS_PER_CLASS) {
      takenPerClass[test.labels[i]]++;
      testIndices.push(i);
    }
  }
  const windows = new Float32Array(testIndices.length * WINDOW_VALUES);
  testIndices.forEach((index, position) => windows.set(test.windows.subarray(index * WINDOW_VALUES, (index + 1) * WINDOW_VALUES), position * WINDOW_VALUES));
  return { windows, labels: Uint8Array.from(testIndices, (index) => test.labels[index]), testIndices };
}
