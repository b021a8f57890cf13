// Builds the digits example's files from PyTorch's export of the quantized
// digits CNN: each variant's .onnx converted with its engine's scheme and
// PyTorch's float32 biases, the biases themselves, PyTorch's int logits,
// and the test images and labels.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { convertOnnxModel } from "../../tools/convert/convert.js";
import {
  CLASSES,
  IMAGE_PIXELS,
  MAX_PIXEL,
  TEST_IMAGES_FILE,
  TEST_LABELS_FILE,
  VARIANTS,
  argmaxPerImage,
  floatBiasFile,
  modelFile,
  pytorchLogitsFile,
  readBinary,
} from "./digits.js";

/** PyTorch modules that carry a bias, by their name in the model. */
const BIASED_LAYERS = ["conv1", "conv2", "fc"];

interface ModelJson {
  graph: Array<{ name: string; bias?: { hex: string[] } }>;
}

interface TestJson {
  labels: number[];
  pixels: { shape: number[]; values: number[] };
  logits_quantized: { dtype: string; shape: number[]; values: number[] };
  predictions: number[];
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** float32 value of an IEEE-754 bit pattern written as "0x3edf25ee". */
function float32FromHex(hex: string): number {
  return new Float32Array(Uint32Array.of(Number.parseInt(hex, 16)).buffer)[0];
}

/** Returns bytes after checking that each value is an integer in [min, max]. */
function toBytes(values: readonly number[], min: number, max: number, description: string): Uint8Array {
  values.forEach((value, index) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${description}: value ${value} at index ${index} is not an integer in ${min}..${max}`);
    }
  });
  return Uint8Array.from(values);
}

/** Reads each biased layer's float32 bias from its bit patterns in `<variant>__model.json`. */
export function floatBiases(model: ModelJson, variant: string): Record<string, number[]> {
  const biases: Record<string, number[]> = {};
  for (const name of BIASED_LAYERS) {
    const layer = model.graph.find((entry) => entry.name === name);
    if (layer?.bias === undefined) throw new Error(`${variant}__model.json has no layer "${name}" with a bias`);
    biases[name] = layer.bias.hex.map(float32FromHex);
  }
  return biases;
}

/**
 * Formats the biases as JSON with one layer per line. JavaScript writes each
 * float32 value as the shortest decimal that reads back as the same double,
 * so parsing the file gives the float32 values exactly.
 */
function floatBiasJson(biases: Record<string, number[]>): string {
  const lines = Object.entries(biases).map(([name, values]) => `  ${JSON.stringify(name)}: ${JSON.stringify(values)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

/**
 * Returns the contents of every example file, by file name, built from the
 * fixture folder: `<variant>.onnx`, `<variant>__model.json` and
 * `<variant>__test.json` of each variant.
 */
export function generateExampleFiles(fixtureDir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let testImages: Uint8Array | undefined;
  let testLabels: Uint8Array | undefined;

  for (const { name, scheme } of VARIANTS) {
    const model = readJson<ModelJson>(resolve(fixtureDir, `${name}__model.json`));
    const test = readJson<TestJson>(resolve(fixtureDir, `${name}__test.json`));
    const count = test.labels.length;

    // Every variant was evaluated on the same test split, so its images and labels are stored once.
    const pixels = toBytes(test.pixels.values, 0, MAX_PIXEL, `${name}__test.json pixels`);
    const labels = toBytes(test.labels, 0, CLASSES - 1, `${name}__test.json labels`);
    if (pixels.length !== count * IMAGE_PIXELS) {
      throw new Error(`${name}__test.json has ${pixels.length} pixels for ${count} labels, expected ${IMAGE_PIXELS} per image`);
    }
    testImages ??= pixels;
    testLabels ??= labels;
    if (Buffer.compare(testImages, pixels) !== 0 || Buffer.compare(testLabels, labels) !== 0) {
      throw new Error(`${name}__test.json has other test images or labels than ${VARIANTS[0].name}__test.json`);
    }

    const logits = toBytes(test.logits_quantized.values, 0, 255, `${name}__test.json logits_quantized`);
    if (test.logits_quantized.dtype !== "quint8" || logits.length !== count * CLASSES) {
      throw new Error(`${name}__test.json logits_quantized is ${test.logits_quantized.dtype} [${test.logits_quantized.shape}], expected quint8 [${count}, ${CLASSES}]`);
    }
    // The demo derives PyTorch's predictions as the argmax of these logits, so they must equal the fixture's predictions.
    const mismatch = Array.from(argmaxPerImage(logits)).findIndex((predicted, image) => predicted !== test.predictions[image]);
    if (mismatch >= 0) throw new Error(`${name}__test.json: the argmax of image ${mismatch}'s logits is not its prediction`);

    const biases = floatBiases(model, name);
    const onnx = readBinary(resolve(fixtureDir, `${name}.onnx`));
    files.set(modelFile(name), convertOnnxModel(onnx, { scheme, floatBias: biases }));
    files.set(floatBiasFile(name), new TextEncoder().encode(floatBiasJson(biases)));
    files.set(pytorchLogitsFile(name), logits);
  }

  files.set(TEST_IMAGES_FILE, testImages!);
  files.set(TEST_LABELS_FILE, testLabels!);
  return files;
}

/** Writes every example file into `outputDir` and returns their names. */
export function writeExampleFiles(fixtureDir: string, outputDir: string): string[] {
  const files = generateExampleFiles(fixtureDir);
  mkdirSync(outputDir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(resolve(outputDir, name), bytes);
  return [...files.keys()];
}
