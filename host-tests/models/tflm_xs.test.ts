// Whole models on the XS engine, through the same rollup bundle as Node:
// every TFLM golden case of the seven fixture models must match byte for
// byte, and every tensor of TFLM's rand0 dump must match layer by layer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BUNDLE_FILE, RECORD_PREFIX, interpreterSetupSource, readBundle } from "../../tools/xs/model-module.js";
import { runModelOnXs, runXsModule } from "../../tools/xs/engine.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { asInt8, readFixture, tflmManifest, tflmModel } from "../fixtures.js";
import { dumpBytes, elementValues, readDump } from "./tflm_dumps.js";

const MODELS = tflmManifest().models.map((m) => m.name);

for (const name of MODELS) {
  test(`${name}: TFLM cases bit-exact on XS`, async () => {
    const entry = tflmModel(name);
    const model = readFixture(entry.model);
    for (const c of entry.cases) {
      // Each run creates a new interpreter, so every case starts from reset state.
      const result = await runModelOnXs({ model, inputs: c.inputs.map(readFixture), timeoutMs: 300_000 });
      c.outputs.forEach((path, i) => {
        assert.equal(Array.from(result.outputs[i]), Array.from(readFixture(path)), `${name} ${c.case} output ${i}`);
      });
    }
  });

  const dump = readDump(name);
  if (dump === undefined) continue;

  test(`${name}: layers and state match TFLM dump on XS`, async () => {
    const entry = tflmModel(name);
    const rand0 = entry.cases.find((c) => c.case === "rand0");
    assert.ok(rand0, "case rand0 exists");
    const checked = dump.tensors.filter((t) => t.producer_op_index !== null || t.is_variable);
    // One XS run prints each checked tensor: an operator's output right after
    // that operator, a state tensor after the whole invoke.
    const steps = checked.map((t) => `[${t.index}, ${t.producer_op_index === null ? -1 : t.producer_op_index + 1}]`);
    const source = `${interpreterSetupSource(readFixture(entry.model), rand0.inputs.map(readFixture))}
const steps = [${steps.join(", ")}];
for (const [tensorIndex, count] of steps) {
  interpreter.resetState();
  setInputs();
  if (count < 0) interpreter.invoke();
  else interpreter.invokeUntil(count);
  print("${RECORD_PREFIX}tensor " + tensorIndex + " " + Base64.encode(interpreter.tensorBytes(tensorIndex).slice().buffer));
}
`;
    const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs", {
      timeoutMs: 120_000,
    });
    assert.is(result.status, 0, `XS run failed: ${result.stderr} ${result.error?.message ?? ""}`);
    const printed = new Map<number, Uint8Array>();
    for (const line of result.stdout.split("\n")) {
      if (!line.startsWith(`${RECORD_PREFIX}tensor `)) continue;
      const [, index, data] = line.split(" ");
      printed.set(Number(index), new Uint8Array(Buffer.from(data ?? "", "base64")));
    }
    for (const tensor of checked) {
      const actual = printed.get(tensor.index);
      assert.ok(actual, `XS printed tensor ${tensor.index}`);
      assert.equal(
        elementValues(actual, tensor.type),
        elementValues(dumpBytes(dump, tensor), tensor.type),
        `${name} tensor ${tensor.index} from operator ${tensor.producer_op_index ?? "(state)"} (${tensor.producer_op ?? "variable"}) on XS`,
      );
    }
  });
}

test("person_detect: TFLM image scores on XS", async () => {
  const entry = tflmModel("person_detect");
  const model = readFixture(entry.model);
  const expected: Record<string, number[]> = { image_person: [-113, 113], image_no_person: [57, -57] };
  for (const [caseName, scores] of Object.entries(expected)) {
    const c = entry.cases.find((x) => x.case === caseName);
    assert.ok(c, `case ${caseName} exists`);
    const result = await runModelOnXs({ model, inputs: c.inputs.map(readFixture) });
    assert.equal(asInt8(result.outputs[0]), scores, caseName);
  }
});

test.run();
