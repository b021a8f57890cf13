// Random int8 and 16x8 TRANSPOSE_CONV layers on the XS engine through the
// rollup bundle, against the BigInt transcription of TFLM's reference
// (transpose_conv_cases.ts). The seanet cases cover 16x8 on XS with TFLM's
// own outputs; int8 has no TFLM fixture, so this is its XS check.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BUNDLE_FILE, RECORD_PREFIX, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { ModelSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { Random, bytesOfArray } from "./conv16x8_reference.js";
import { TransposeConvCase, randomCase, referenceTransposeConv } from "./transpose_conv_cases.js";

/** Writes a .tflite file whose one TRANSPOSE_CONV takes the output shape as a constant or as a model input. */
function modelOf(c: TransposeConvCase): Uint8Array {
  const activationType = c.kind === "int8" ? "int8" : "int16";
  const outputShape = [c.batches, c.outputHeight, c.outputWidth, c.outputChannels];
  const tensors: TensorSpec[] = [
    {
      name: "output_shape",
      type: "int32",
      shape: [4],
      ...(c.constantOutputShape ? { data: bytesOfArray(Int32Array.from(outputShape)) } : {}),
    },
    {
      name: "weights",
      type: "int8",
      shape: [c.outputChannels, c.filterHeight, c.filterWidth, c.inputChannels],
      data: bytesOfArray(c.weights),
      scale: c.weightScales,
      zeroPoint: c.weightScales.map(() => 0),
      quantizedDimension: 0,
    },
    {
      name: "input",
      type: activationType,
      shape: [c.batches, c.inputHeight, c.inputWidth, c.inputChannels],
      scale: [c.inputScale],
      zeroPoint: [c.inputZeroPoint],
    },
    { name: "output", type: activationType, shape: outputShape, scale: [c.outputScale], zeroPoint: [c.outputZeroPoint] },
  ];
  const inputs = [0, 1, 2];
  if (c.biasType !== null) {
    let data: ArrayBufferView = Int16Array.from(c.bias.map(Number));
    if (c.biasType === "int64") data = BigInt64Array.from(c.bias);
    if (c.biasType === "int32") data = Int32Array.from(c.bias.map(Number));
    tensors.push({ name: "bias", type: c.biasType, shape: [c.outputChannels], data: bytesOfArray(data) });
    inputs.push(4);
  }
  const spec: ModelSpec = {
    tensors,
    operators: [
      {
        op: "TRANSPOSE_CONV",
        inputs,
        outputs: [3],
        options: {
          type: "TransposeConvOptions",
          fields: { padding: c.padding, stride_h: c.strides[0], stride_w: c.strides[1], fused_activation_function: c.activation },
        },
      },
    ],
    inputs: c.constantOutputShape ? [2] : [0, 2],
    outputs: [3],
  };
  return writeModel(spec);
}

function inputsOf(c: TransposeConvCase): Uint8Array[] {
  const data = bytesOfArray(c.input);
  if (c.constantOutputShape) return [data];
  return [bytesOfArray(Int32Array.from([c.batches, c.outputHeight, c.outputWidth, c.outputChannels])), data];
}

test("random transpose conv on XS", async () => {
  const random = new Random(2026);
  const cases: TransposeConvCase[] = [];
  for (let i = 0; i < 60; i++) cases.push(randomCase(random, i % 2 === 0 ? "int8" : "16x8"));

  const entries = cases.map((c) => `[${arrayBufferExpression(modelOf(c))}, [${inputsOf(c).map(arrayBufferExpression).join(", ")}]]`);
  const source = `import { Interpreter } from "./${BUNDLE_FILE}";
const cases = [
${entries.join(",\n")}
];
cases.forEach(([model, inputs], index) => {
  try {
    const interpreter = new Interpreter(model);
    inputs.forEach((bytes, i) => interpreter.setInput(i, new Uint8Array(bytes)));
    interpreter.invoke();
    print("${RECORD_PREFIX}output " + index + " " + Base64.encode(interpreter.outputs[0].bytes));
  } catch (error) {
    print("${RECORD_PREFIX}error " + index + " " + error.message);
  }
});
`;
  const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs", { timeoutMs: 300_000 });
  assert.is(result.status, 0, `XS run failed: ${result.stderr} ${result.error?.message ?? ""}`);

  const failures: string[] = [];
  let printed = 0;
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith(`${RECORD_PREFIX}error `)) failures.push(line.slice(RECORD_PREFIX.length));
    if (!line.startsWith(`${RECORD_PREFIX}output `)) continue;
    printed++;
    const [, index, data] = line.split(" ");
    const c = cases[Number(index)];
    const bytes = new Uint8Array(Buffer.from(data ?? "", "base64"));
    const actual = Array.from(c.kind === "int8" ? new Int8Array(bytes.buffer) : new Int16Array(bytes.buffer));
    const expected = referenceTransposeConv(c);
    const differing = actual.filter((v, i) => v !== expected[i]).length + Math.abs(actual.length - expected.length);
    if (differing > 0) failures.push(`case ${index} (${c.kind}): ${differing} elements differ from the reference`);
  }
  assert.equal(failures, [], "XS transpose conv failures");
  assert.is(printed, cases.length, "XS ran every case");
});

test.run();
