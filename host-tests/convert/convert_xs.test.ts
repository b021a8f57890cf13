// Converted models on the XS engine (the xsnap CLI of @agoric/xsnap, running
// dist/microq.js). The 17 ONNX quantization node tests must be exact. For
// the first 20 test images, the digits CNN of each variant converted with
// PyTorch's float bias must give PyTorch's int logits exactly, and converted
// from the .onnx alone (whose int32 bias torch.onnx truncated, see
// digits.test.ts) within 1 of them.

import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertGraph } from "../../tools/convert/convert.js";
import { NodeTestCase, NodeTestTensor, graphFromNodeTest } from "../../tools/convert/node_test.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { CLASSES, convertVariant, floatBiasOf, imageInput } from "./digits_model.js";
import { DIGITS_VARIANTS, ONNX_NODE_TESTS, digitsTest, float32FromHex, nchwToNhwc, readJson } from "./onnx_fixtures.js";

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

test.run();
