// The digits example's files and how it runs them: the three converted
// models, the 360 test images, and one pass over all images on Node (the
// runtime bundle) or on XS (one xsnap process per model).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Microq, REPOSITORY_ROOT } from "../../tools/bundle.js";
import { BUNDLE_FILE, RECORD_PREFIX, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { throwIfFailed } from "../../tools/xs/runner.js";
import type { Interpreter } from "../../runtime/interpreter.js";
import { TensorType } from "../../runtime/tensor_types.js";

export const EXAMPLE_DIR = resolve(REPOSITORY_ROOT, "examples", "pytorch-digits");

/** PyTorch's export of the model, in the fixture folder beside the repository. */
export const FIXTURE_DIR = resolve(REPOSITORY_ROOT, "..", "shared", "fixtures", "pytorch", "digits");

export const IMAGE_PIXELS = 64;
export const CLASSES = 10;
/** Largest pixel value of scikit-learn's digits. The model was trained on pixel / 16. */
export const MAX_PIXEL = 16;

export interface Variant {
  /** PyTorch engine and qconfig, as the fixture names them: `<engine>-<qconfig>`. */
  name: string;
  /** microq requantization scheme that reproduces the engine's integers. */
  scheme: string;
}

export const VARIANTS: readonly Variant[] = [
  { name: "qnnpack-qnnpack", scheme: "pytorch-qnnpack" },
  { name: "onednn-onednn", scheme: "pytorch-onednn" },
  { name: "onednn-fbgemm", scheme: "pytorch-onednn" },
];

/** Pixels 0..16 of every test image, one byte each, image after image, rows of 8. */
export const TEST_IMAGES_FILE = "test-images.bin";
/** Class 0..9 of every test image, one byte each. */
export const TEST_LABELS_FILE = "test-labels.bin";

export const modelFile = (variant: string): string => `${variant}.tflite`;
export const floatBiasFile = (variant: string): string => `${variant}.float-bias.json`;
/** PyTorch's uint8 logits of every test image, CLASSES bytes per image. */
export const pytorchLogitsFile = (variant: string): string => `${variant}.pytorch-logits.bin`;

/** Returns the name of every file that prepare.js writes into the example folder. */
export function exampleFileNames(): string[] {
  const perVariant = VARIANTS.flatMap(({ name }) => [modelFile(name), floatBiasFile(name), pytorchLogitsFile(name)]);
  return [TEST_IMAGES_FILE, TEST_LABELS_FILE, ...perVariant];
}

export interface TestSet {
  count: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export function readBinary(path: string): Uint8Array {
  const data = readFileSync(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Reads the test images and labels, checking that their sizes agree. */
export function readTestSet(dir: string = EXAMPLE_DIR): TestSet {
  const pixels = readBinary(resolve(dir, TEST_IMAGES_FILE));
  const labels = readBinary(resolve(dir, TEST_LABELS_FILE));
  if (pixels.length !== labels.length * IMAGE_PIXELS) {
    throw new Error(
      `${TEST_IMAGES_FILE} has ${pixels.length} bytes but ${TEST_LABELS_FILE} has ${labels.length} labels, ` +
        `which need ${labels.length * IMAGE_PIXELS}; run prepare.js to rewrite both`,
    );
  }
  return { count: labels.length, pixels, labels };
}

/** Class of each image: the index of its largest logit, the first one on a tie (as torch.argmax). */
export function argmaxPerImage(logits: Uint8Array): Uint8Array {
  const count = logits.length / CLASSES;
  const classes = new Uint8Array(count);
  for (let image = 0; image < count; image++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) {
      if (logits[image * CLASSES + c] > logits[image * CLASSES + best]) best = c;
    }
    classes[image] = best;
  }
  return classes;
}

/** Number of positions where `a` and `b` hold the same value. */
export function countEqual(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return equal;
}

/**
 * Returns the index of the uint8 logits tensor: the graph output itself, or
 * the input of the DEQUANTIZE that produces it (the converter ends a
 * PyTorch model with DEQUANTIZE, as torch's DeQuantStub does).
 */
export function logitsTensorIndex(interpreter: Interpreter): number {
  const output = interpreter.outputs[0].index;
  const producer = interpreter.operators.find((op) => op.outputs.includes(output));
  const logits = producer?.name === "DEQUANTIZE" ? producer.inputs[0] : output;
  const tensor = interpreter.model.tensors[logits];
  if (tensor.type !== TensorType.UINT8 || tensor.elementCount !== CLASSES) {
    throw new Error(`the model's logits tensor "${tensor.name}" is not ${CLASSES} uint8 values; convert the model with prepare.js`);
  }
  return logits;
}

/** Checks that the model takes one float32 image of IMAGE_PIXELS values, as the PyTorch export does. */
function checkInput(interpreter: Interpreter): void {
  const input = interpreter.inputs[0];
  if (interpreter.inputs.length !== 1 || input.type !== "float32" || input.data.length !== IMAGE_PIXELS) {
    throw new Error(
      `the model's input is ${input.type} [${input.shape}], expected one float32 input of ${IMAGE_PIXELS} values ` +
        `that its first QUANTIZE operator quantizes; convert the model with prepare.js`,
    );
  }
}

export interface VariantRun {
  /** uint8 logits of every test image, CLASSES per image. */
  logits: Uint8Array;
  arenaBytes: number;
  /** Wall time of the run: the invokes alone on Node, the whole xsnap process on XS. */
  milliseconds: number;
}

/** Runs every test image through the model on Node, with the runtime bundle that XS also runs. */
export function runOnNode(microq: Microq, model: Uint8Array, testSet: TestSet): VariantRun {
  const interpreter = new microq.Interpreter(model);
  checkInput(interpreter);
  const logitsView = interpreter.tensorBytes(logitsTensorIndex(interpreter));
  const image = new Float32Array(IMAGE_PIXELS);
  const logits = new Uint8Array(testSet.count * CLASSES);

  const started = performance.now();
  for (let n = 0; n < testSet.count; n++) {
    for (let i = 0; i < IMAGE_PIXELS; i++) image[i] = testSet.pixels[n * IMAGE_PIXELS + i] / MAX_PIXEL;
    interpreter.setInput(0, image);
    interpreter.invoke();
    logits.set(logitsView, n * CLASSES);
  }
  return { logits, arenaBytes: interpreter.arenaBytes, milliseconds: performance.now() - started };
}

/**
 * Returns an XS module that runs every test image through the model and
 * prints the arena size and all logits as base64. The pixels are scaled by
 * 1/16 on XS, as a device would do it.
 */
function xsModuleSource(model: Uint8Array, testSet: TestSet, logitsTensor: number): string {
  return `// Generated by examples/pytorch-digits/digits.ts.
import { Interpreter } from "./${BUNDLE_FILE}";
const interpreter = new Interpreter(${arrayBufferExpression(model)});
const pixels = new Uint8Array(${arrayBufferExpression(testSet.pixels)});
const image = interpreter.inputs[0].data;
const logitsView = interpreter.tensorBytes(${logitsTensor});
const logits = new Uint8Array(${testSet.count * CLASSES});
for (let n = 0; n < ${testSet.count}; n++) {
  for (let i = 0; i < ${IMAGE_PIXELS}; i++) image[i] = pixels[n * ${IMAGE_PIXELS} + i] / ${MAX_PIXEL};
  interpreter.invoke();
  logits.set(logitsView, n * ${CLASSES});
}
print("${RECORD_PREFIX}arena " + interpreter.arenaBytes);
print("${RECORD_PREFIX}logits " + Base64.encode(logits));
`;
}

/** Runs every test image through the model on XS, in one xsnap process. */
export async function runOnXs(microq: Microq, model: Uint8Array, testSet: TestSet): Promise<VariantRun> {
  // Check the model on Node first, so that a wrong model fails here with a readable message.
  const interpreter = new microq.Interpreter(model);
  checkInput(interpreter);
  const source = xsModuleSource(model, testSet, logitsTensorIndex(interpreter));

  const started = performance.now();
  const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs");
  const milliseconds = performance.now() - started;
  throwIfFailed(result);

  let arenaBytes: number | undefined;
  let logits: Uint8Array | undefined;
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith(`${RECORD_PREFIX}arena `)) arenaBytes = Number(line.split(" ")[1]);
    if (line.startsWith(`${RECORD_PREFIX}logits `)) logits = new Uint8Array(Buffer.from(line.split(" ")[1], "base64"));
  }
  if (arenaBytes === undefined || logits === undefined || logits.length !== testSet.count * CLASSES) {
    throw new Error(`the XS run printed no arena size or not ${testSet.count * CLASSES} logits: the stdout was ${JSON.stringify(result.stdout)}`);
  }
  return { logits, arenaBytes, milliseconds };
}
