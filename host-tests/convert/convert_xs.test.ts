// Converted models on the XS engine (the xsnap CLI of @agoric/xsnap, running
// dist/microq.js). The 17 ONNX quantization node tests must be exact. For
// the first 20 test images, the digits CNN of each variant converted with
// PyTorch's float bias must give PyTorch's int logits exactly, and converted
// from the .onnx alone (whose int32 bias torch.onnx truncated, see
// digits.test.ts) within 1 of them. With the float bias, the conv1, conv2,
// flatten and fc outputs of those images must also be PyTorch's exactly
// (layer_outputs_first_k); they are read in one xsnap process per variant.

import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertGraph } from "../../tools/convert/convert.js";
import { NodeTestCase, NodeTestTensor, graphFromNodeTest } from "../../tools/convert/node_test.js";
import { parseModel } from "../../runtime/model.js";
import { runModelOnXs, runXsModule } from "../../tools/xs/engine.js";
import { BUNDLE_FILE, RECORD_PREFIX, interpreterSetupSource, readBundle } from "../../tools/xs/model-module.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { throwIfFailed } from "../../tools/xs/runner.js";
import { CLASSES, IMAGE_PIXELS, convertVariant, findLayers, floatBiasOf, imageInput } from "./digits_model.js";
import { DIGITS_VARIANTS, ONNX_NODE_TESTS, digitsTest, float32FromHex, nchwToNhwc, nhwcToNchw, readJson } from "./onnx_fixtures.js";

/** Images per variant run on XS; each is one xsnap process. */
const XS_IMAGES = 20;

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** float32 values of little-endian output bytes. */
function float32Values(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.slice().buffer);
}

/** Little-endian bytes of a node test tensor, rank 4 reordered to NHWC. */
function tensorBytes(tensor: NodeTestTensor): Uint8Array {
  const values = tensor.shape.length === 4 ? nchwToNhwc(tensor.values as number[], tensor.shape) : (tensor.values as number[]);
  switch (tensor.dtype) {
    case "float32": {
      const bits = tensor.hex!.map((hex) => Number.parseInt(hex, 16));
      return bytesOf(Uint32Array.from(tensor.shape.length === 4 ? nchwToNhwc(bits, tensor.shape) : bits));
    }
    case "uint8":
      return Uint8Array.from(values);
    case "int8":
      return bytesOf(Int8Array.from(values));
    case "int32":
      return bytesOf(Int32Array.from(values));
    default:
      throw new Error(`node test tensor dtype ${tensor.dtype} is not used by these tests`);
  }
}

const nodeTestFiles = readdirSync(ONNX_NODE_TESTS).filter((name) => name.startsWith("node__") && name.endsWith(".json")).sort();

test("node tests on XS: all 17 exact", async () => {
  assert.is(nodeTestFiles.length, 17);
  for (const file of nodeTestFiles) {
    const testCase = readJson<NodeTestCase>(resolve(ONNX_NODE_TESTS, file));
    const constantInputs = testCase.graph_inputs.slice(1).map((input) => input.name);
    const dataSet = testCase.test_data_sets[0];
    const model = convertGraph(graphFromNodeTest(testCase, { constantInputs }));
    const { outputs } = await runModelOnXs({ model, inputs: [tensorBytes(dataSet.inputs[0])] });
    dataSet.outputs.forEach((expected, i) => {
      assert.equal(Array.from(outputs[i]), Array.from(tensorBytes(expected)), `${testCase.test} output ${expected.name}`);
    });
  }
});

for (const { variant, scheme } of DIGITS_VARIANTS) {
  test(`digits ${variant} on XS: first ${XS_IMAGES} images`, async () => {
    const testData = digitsTest(variant);
    const withFloatBias = convertVariant(variant, scheme, floatBiasOf(variant));
    const fromOnnx = convertVariant(variant, scheme);
    const logits = testData.logits_quantized;
    const logitScale = float32FromHex(logits.scale_f32_hex!);
    const dequantize = (q: number) => Math.fround((q - logits.zero_point!) * logitScale);

    for (let image = 0; image < XS_IMAGES; image++) {
      const input = bytesOf(imageInput(testData, image));
      const expected = logits.values.slice(image * CLASSES, (image + 1) * CLASSES);

      // With PyTorch's float bias, the float logits are PyTorch's int logits dequantized.
      const exact = await runModelOnXs({ model: withFloatBias, inputs: [input] });
      assert.equal(Array.from(float32Values(exact.outputs[0])), expected.map(dequantize), `image ${image} with float bias`);

      // From the .onnx alone, each int logit is within 1 of PyTorch's.
      const approximate = Array.from(float32Values((await runModelOnXs({ model: fromOnnx, inputs: [input] })).outputs[0]));
      expected.forEach((q, j) => {
        const allowed = [q - 1, q, q + 1].map(dequantize);
        assert.ok(allowed.includes(approximate[j]), `image ${image} logit ${j} from .onnx alone: ${approximate[j]}, expected one of ${allowed.join(", ")}`);
      });
    }
  });
}

/** Layers whose outputs __test.json gives for the first k images, in graph order. */
const STAGES = ["conv1", "conv2", "flatten", "fc"] as const;
type Stage = (typeof STAGES)[number];

/**
 * Runs the first `images` test images through the model on XS, in one
 * xsnap process. For each image and stage the module copies the input in,
 * runs the operators up to and including the stage's with invokeUntil,
 * and prints the stage's output bytes in base64. Returns the bytes by
 * stage, images one after another, in the stored NHWC order.
 */
async function layerOutputsOnXs(model: Uint8Array, inputs: readonly Float32Array[]): Promise<Record<Stage, Uint8Array[]>> {
  const layers = findLayers(parseModel(model).operators);
  const stages = STAGES.map((name) => ({ name, count: layers[name].index + 1, tensor: layers[name].outputs[0] }));
  const inputBytes = new Uint8Array(inputs.length * IMAGE_PIXELS * 4);
  inputs.forEach((input, image) => inputBytes.set(bytesOf(input), image * IMAGE_PIXELS * 4));
  const main = `// Generated by host-tests/convert/convert_xs.test.ts.
${interpreterSetupSource(model)}
const images = new Uint8Array(Base64.decode("${Buffer.from(inputBytes).toString("base64")}"));
const imageBytes = ${IMAGE_PIXELS * 4};
const stages = ${JSON.stringify(stages)};
const input = interpreter.inputs[0].bytes;
if (input.length !== imageBytes) throw new Error("the model input has " + input.length + " bytes, expected " + imageBytes);
for (let image = 0; image < ${inputs.length}; image++) {
  for (const stage of stages) {
    // Later operators may reuse the input's memory, so it is copied in before each run.
    input.set(images.subarray(image * imageBytes, (image + 1) * imageBytes));
    interpreter.invokeUntil(stage.count);
    print("${RECORD_PREFIX}layer " + image + " " + stage.name + " " + Base64.encode(interpreter.tensorBytes(stage.tensor).slice().buffer));
  }
}
`;
  const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": main }, "main.mjs");
  throwIfFailed(result);
  const outputs: Record<Stage, Uint8Array[]> = { conv1: [], conv2: [], flatten: [], fc: [] };
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith(`${RECORD_PREFIX}layer `)) continue;
    const [, image, stage, base64] = line.slice(RECORD_PREFIX.length).split(" ");
    outputs[stage as Stage][Number(image)] = new Uint8Array(Buffer.from(base64 ?? "", "base64"));
  }
  for (const stage of STAGES) {
    assert.is(outputs[stage].filter((bytes) => bytes !== undefined).length, inputs.length, `XS printed ${stage} for every image; stdout: ${result.stdout.slice(0, 200)}`);
  }
  return outputs;
}

for (const { variant, scheme } of DIGITS_VARIANTS) {
  test(`digits ${variant} float bias on XS: layers of first ${XS_IMAGES} images exact`, async () => {
    const testData = digitsTest(variant);
    const goldens = testData.layer_outputs_first_k;
    assert.ok(goldens.k >= XS_IMAGES, `__test.json has layer outputs for ${XS_IMAGES} images (k = ${goldens.k})`);
    const inputs = Array.from({ length: XS_IMAGES }, (_, image) => imageInput(testData, image));
    const outputs = await layerOutputsOnXs(convertVariant(variant, scheme, floatBiasOf(variant)), inputs);

    // Stored tensors are NHWC and the goldens NCHW. The flatten is a RESHAPE that keeps conv2's NHWC byte
    // order (the FC weights absorb it), so its bytes are reordered with conv2's shape.
    const imageShape = (stage: "conv1" | "conv2"): number[] => [1, ...goldens[stage].shape.slice(1)];
    const nchwShapes: Record<Stage, number[] | undefined> = { conv1: imageShape("conv1"), conv2: imageShape("conv2"), flatten: imageShape("conv2"), fc: undefined };
    for (const stage of STAGES) {
      const golden = goldens[stage];
      const perImage = golden.values.length / golden.shape[0];
      for (let image = 0; image < XS_IMAGES; image++) {
        const stored = outputs[stage][image];
        const shape = nchwShapes[stage];
        const actual = shape === undefined ? Array.from(stored) : nhwcToNchw(stored, shape);
        assert.equal(actual, golden.values.slice(image * perImage, (image + 1) * perImage), `${stage} of image ${image}`);
      }
    }
  });
}

test.run();
