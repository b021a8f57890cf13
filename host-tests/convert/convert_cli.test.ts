// microq convert on the command line. A digits .onnx converts and runs, and
// with --float-bias it gives PyTorch's int logits. An unsupported node exits
// with status 2 naming it. Usage and file errors, a bad float bias file
// among them, follow the CLI's conventions. With --quantized-io the digits
// models take PyTorch's quantized input bytes and return its int logits,
// on the node and xs engines.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseModel } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { encodeOnnxModel } from "../../tools/convert/onnx_proto.js";
import { assertOneLineError, microq } from "../cli/run_cli.js";
import { floatBiasOf } from "./digits_model.js";
import { DIGITS, DIGITS_VARIANTS, digitsTest, float32FromHex } from "./onnx_fixtures.js";

const folder = mkdtempSync(join(tmpdir(), "microq-convert-"));
const digitsOnnx = resolve(DIGITS, "qnnpack-qnnpack.onnx");

test.after(() => rmSync(folder, { recursive: true, force: true }));

test("convert: digits model converts and inspects", () => {
  const output = join(folder, "digits.tflite");
  const result = microq("convert", digitsOnnx, "-o", output, "--scheme", "pytorch-qnnpack");
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stderr, "");
  assert.ok(existsSync(output));

  const inspect = microq("inspect", output, "--json");
  assert.is(inspect.status, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout);
  assert.equal(report.unsupported, []);
  assert.equal(report.operatorCounts, { QUANTIZE: 1, PAD: 2, CONV_2D: 2, RESHAPE: 1, FULLY_CONNECTED: 1, DEQUANTIZE: 1 });
});

test("convert: output runs with microq run", () => {
  const model = join(folder, "run.tflite");
  assert.is(microq("convert", digitsOnnx, "--output", model).status, 0);
  const pixels = digitsTest("qnnpack-qnnpack").pixels.values.slice(0, 64);
  const input = join(folder, "image.bin");
  writeFileSync(input, new Uint8Array(Float32Array.from(pixels, (p) => p / 16).buffer));
  const output = join(folder, "logits.bin");
  const result = microq("run", model, "--input", input, "--output", output);
  assert.is(result.status, 0, result.stderr);
  assert.is(readFileSync(output).byteLength, 10 * 4, "10 float32 logits");
});

test("convert --float-bias: PyTorch's logits", () => {
  const bias = join(folder, "bias.json");
  writeFileSync(bias, JSON.stringify(floatBiasOf("qnnpack-qnnpack")));
  const model = join(folder, "float-bias.tflite");
  const result = microq("convert", digitsOnnx, "-o", model, "--scheme", "pytorch-qnnpack", "--float-bias", bias);
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stderr, "");

  const testData = digitsTest("qnnpack-qnnpack");
  const logits = testData.logits_quantized;
  const scale = float32FromHex(logits.scale_f32_hex!);
  for (let image = 0; image < 3; image++) {
    const input = join(folder, `image${image}.bin`);
    const pixels = testData.pixels.values.slice(image * 64, (image + 1) * 64);
    writeFileSync(input, new Uint8Array(Float32Array.from(pixels, (p) => Math.fround(p / 16)).buffer));
    const output = join(folder, `logits${image}.bin`);
    const run = microq("run", model, "--input", input, "--output", output);
    assert.is(run.status, 0, run.stderr);
    const bytes = readFileSync(output);
    const expected = logits.values.slice(image * 10, (image + 1) * 10).map((q) => Math.fround((q - logits.zero_point!) * scale));
    assert.equal(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 10)), expected, `image ${image}`);
  }
});

test("convert --float-bias: bad files exit with 1", () => {
  const full = floatBiasOf("qnnpack-qnnpack");
  const cases: Array<[string, string, RegExp]> = [
    ["unknown.json", JSON.stringify({ conv9: [0.5] }), /unknown\.json: float bias "conv9" names no Conv, Gemm or MatMul layer of the model; its layers are "conv1" \(node "\/conv1\/Conv"\), "conv2" \(node "\/conv2\/Conv"\), "fc" \(node "\/fc\/Gemm"\)$/],
    ["not-float32.json", JSON.stringify({ conv1: [0.1] }), /not-float32\.json: float bias "conv1" index 0 is 0\.1, which is not a float32 number/],
    ["short.json", JSON.stringify({ ...full, conv1: [0.5] }), /short\.json: float bias "conv1" has 1 values, but node "\/conv1\/Conv" \(Conv\) has 8 output channels$/],
    ["negated.json", JSON.stringify({ ...full, conv1: full.conv1.map((b) => -b) }), /negated\.json: float bias "conv1" channel 0 is -0\.\d+, which is -\d+\.\d+ in units of the \.onnx bias scale .*, but node "\/conv1\/Conv" \(Conv\) stores \d+; they differ by more than 1/],
    [
      "partial.json",
      JSON.stringify({ conv1: full.conv1 }),
      /partial\.json: the float bias covers 1 of the 3 layers with a bias; it lacks "conv2" \(node "\/conv2\/Conv"\), "fc" \(node "\/fc\/Gemm"\)\. Add their biases/,
    ],
    ["broken.json", "{\"conv1\": [0.5", /broken\.json: the float bias file is not valid UTF-8 JSON \(.*\); write it with json\.dump as microq convert --help shows$/],
  ];
  for (const [name, contents, pattern] of cases) {
    const bias = join(folder, name);
    writeFileSync(bias, contents);
    const output = join(folder, `${name}.tflite`);
    assertOneLineError(microq("convert", digitsOnnx, "-o", output, "--float-bias", bias), pattern);
    assert.not.ok(existsSync(output), `${name}: no output written`);
  }
  assertOneLineError(microq("convert", digitsOnnx, "-o", join(folder, "m.tflite"), "--float-bias", join(folder, "missing.json")), /float bias file .*missing\.json not found/);
});

test("convert --quantized-io: PyTorch's int logits from its quantized input, on node and xs", () => {
  for (const { variant, scheme } of DIGITS_VARIANTS) {
    const bias = join(folder, `${variant}.bias.json`);
    writeFileSync(bias, JSON.stringify(floatBiasOf(variant)));
    const model = join(folder, `${variant}.quantized-io.tflite`);
    const onnx = resolve(DIGITS, `${variant}.onnx`);
    const result = microq("convert", onnx, "-o", model, "--scheme", scheme, "--float-bias", bias, "--quantized-io");
    assert.is(result.status, 0, result.stderr);

    const testData = digitsTest(variant);
    const inputJson = testData.input_quantized;
    const logits = testData.logits_quantized;
    const report = JSON.parse(microq("inspect", model, "--json").stdout);
    assert.equal(report.operatorCounts, { PAD: 2, CONV_2D: 2, RESHAPE: 1, FULLY_CONNECTED: 1 }, `${variant}: no QUANTIZE or DEQUANTIZE`);
    const tensors = parseModel(new Uint8Array(readFileSync(model)));
    const input = tensors.tensors[tensors.inputs[0]];
    const output = tensors.tensors[tensors.outputs[0]];
    assert.equal([input.type, input.shape, [...input.scale], [...input.zeroPoint]], [TensorType.UINT8, [1, 8, 8, 1], [float32FromHex(inputJson.scale_f32_hex!)], [inputJson.zero_point]], `${variant} input`);
    assert.equal([output.type, output.shape, [...output.scale], [...output.zeroPoint]], [TensorType.UINT8, [1, 10], [float32FromHex(logits.scale_f32_hex!)], [logits.zero_point]], `${variant} output`);
    assert.is(output.name, "logits", `${variant} output keeps the .onnx name`);

    // input_quantized is NCHW with C = 1, which is the same byte order as NHWC.
    for (const image of [0, 1, 2, 359]) {
      const inputFile = join(folder, `${variant}-q${image}.bin`);
      writeFileSync(inputFile, Uint8Array.from(inputJson.values.slice(image * 64, (image + 1) * 64)));
      const expected = logits.values.slice(image * 10, (image + 1) * 10);
      for (const engine of ["node", "xs"]) {
        const outputFile = join(folder, `${variant}-q${image}-${engine}.out`);
        const run = microq("run", model, "--input", inputFile, "--output", outputFile, "--engine", engine);
        assert.is(run.status, 0, run.stderr);
        assert.equal(Array.from(readFileSync(outputFile)), expected, `${variant} image ${image} on ${engine}`);
      }
    }
  }
});

test("convert --quantized-io: a float input read by another node exits with 1", () => {
  const model = join(folder, "relu.onnx");
  writeFileSync(
    model,
    encodeOnnxModel({
      ir_version: 8,
      opset_import: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [{ op_type: "Relu", name: "activation", input: ["x"], output: ["y"] }],
        input: [{ name: "x", type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 4 }] } } } }],
        output: [{ name: "y", type: { tensor_type: { elem_type: 1 } } }],
      },
    }),
  );
  const output = join(folder, "relu.tflite");
  assertOneLineError(
    microq("convert", model, "-o", output, "--quantized-io"),
    /relu\.onnx: --quantized-io: float graph input "x" is read by node "activation" \(Relu\); the option needs every float input to be read only by QuantizeLinear nodes/,
  );
  assert.not.ok(existsSync(output), "no output written");
});

test("convert: unsupported node exits with 2", () => {
  const model = join(folder, "softmax.onnx");
  writeFileSync(
    model,
    encodeOnnxModel({
      ir_version: 8,
      opset_import: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [{ op_type: "Softmax", name: "probabilities", input: ["x"], output: ["y"] }],
        input: [{ name: "x", type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 4 }] } } } }],
        output: [{ name: "y", type: { tensor_type: { elem_type: 1 } } }],
      },
    }),
  );
  const result = microq("convert", model, "-o", join(folder, "softmax.tflite"));
  assert.is(result.status, 2, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, result.stderr);
  assert.match(lines[0], /^microq: .*softmax\.onnx: node "probabilities" \(Softmax\): op type Softmax is not supported; the converter handles /);
  assert.not.ok(existsSync(join(folder, "softmax.tflite")), "no output written");
});

test("convert: usage errors exit with 2", () => {
  const missingOutput = microq("convert", digitsOnnx);
  assert.is(missingOutput.status, 2);
  assert.match(missingOutput.stderr, /convert needs one -o FILE/);
  const badScheme = microq("convert", digitsOnnx, "-o", join(folder, "x.tflite"), "--scheme", "fbgemm");
  assert.is(badScheme.status, 2);
  assert.match(badScheme.stderr, /--scheme must be one of tflm, single, qnnpack-q31, qnnpack-precise, pytorch-qnnpack, pytorch-onednn, onnx, got "fbgemm"/);
  const badFormat = microq("convert", digitsOnnx, "-o", join(folder, "x.tflite"), "--memory-format", "nhwc");
  assert.is(badFormat.status, 2);
  assert.match(badFormat.stderr, /--memory-format must be contiguous or channels_last/);
});

test("convert: a file that is not ONNX exits with 1", () => {
  const notOnnx = join(folder, "notes.onnx");
  writeFileSync(notOnnx, "# not a model\n");
  assertOneLineError(microq("convert", notOnnx, "-o", join(folder, "notes.tflite")), /notes\.onnx: the file is not a valid ONNX model .*pass an \.onnx file$/);
  assertOneLineError(microq("convert", join(folder, "missing.onnx"), "-o", join(folder, "m.tflite")), /model .*missing\.onnx not found/);
});

test("convert --help", () => {
  const result = microq("convert", "--help");
  assert.is(result.status, 0);
  assert.match(result.stdout, /^usage: microq convert MODEL\.onnx -o MODEL\.tflite/);
  assert.match(result.stdout, /--scheme NAME/);
  assert.match(result.stdout, /--float-bias FILE/);
  assert.match(result.stdout, /--quantized-io {2,}take and return the quantized integers/);
  assert.match(result.stdout, /json\.dump\(\{name: m\.bias\(\)\.tolist\(\) for name, m in qmodel\.named_modules\(\)/);
});

test.run();
