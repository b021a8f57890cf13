// Whole models on Node.js through the rollup bundle: every TFLM golden case
// of the seven fixture models must match byte for byte, each case from reset
// state, and every tensor of TFLM's rand0 dump must match layer by layer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { readFixture, tflmManifest, tflmModel } from "../fixtures.js";
import { dumpBytes, elementValues, readDump } from "./tflm_dumps.js";

const MODELS = tflmManifest().models.map((m) => m.name);

test("the fixture manifest lists the seven TFLM models", () => {
  assert.equal(MODELS.length, 7);
});

for (const name of MODELS) {
  test(`${name}: TFLM cases bit-exact`, async () => {
    const microq = await loadBundle();
    const entry = tflmModel(name);
    const interpreter = new microq.Interpreter(readFixture(entry.model));
    for (const c of entry.cases) {
      interpreter.resetState();
      c.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
      interpreter.invoke();
      c.outputs.forEach((path, i) => {
        const output = interpreter.outputs[i];
        assert.equal(
          elementValues(output.bytes, output.type),
          elementValues(readFixture(path), output.type),
          `${name} ${c.case} output ${i}`,
        );
      });
    }
  });

  const dump = readDump(name);
  if (dump === undefined) continue;

  test(`${name}: layers and state match TFLM dump`, async () => {
    const microq = await loadBundle();
    const entry = tflmModel(name);
    const interpreter = new microq.Interpreter(readFixture(entry.model));
    const rand0 = entry.cases.find((c) => c.case === "rand0");
    assert.ok(rand0, "case rand0 exists");
    const start = () => {
      interpreter.resetState();
      rand0.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
    };
    let compared = 0;
    for (const tensor of dump.tensors) {
      if (tensor.producer_op_index !== null) {
        // Later operators may reuse an earlier tensor's memory, so each layer
        // is checked right after the operator that produces it.
        start();
        interpreter.invokeUntil(tensor.producer_op_index + 1);
      } else if (tensor.is_variable) {
        // State tensors are dumped after the whole invoke.
        start();
        interpreter.invoke();
      } else {
        continue;
      }
      assert.equal(
        elementValues(interpreter.tensorBytes(tensor.index), tensor.type),
        elementValues(dumpBytes(dump, tensor), tensor.type),
        `${name} tensor ${tensor.index} from operator ${tensor.producer_op_index ?? "(state)"} (${tensor.producer_op ?? "variable"})`,
      );
      compared++;
    }
    assert.ok(compared > 0, "at least one layer compared");
  });
}

test("person_detect: arena equals live activations", async () => {
  const microq = await loadBundle();
  const interpreter = new microq.Interpreter(readFixture(tflmModel("person_detect").model));
  // The largest set of tensors alive at once: a 48x48x8 input and a 48x48x16 output.
  assert.is(interpreter.arenaBytes, 48 * 48 * 8 + 48 * 48 * 16);
  assert.ok(interpreter.arenaBytes < tflmModel("person_detect").tflm_arena_used_bytes);
});

test("resetState restores the state TFLM starts from", async () => {
  const microq = await loadBundle();
  const entry = tflmModel("keyword_scrambled_8bit");
  const interpreter = new microq.Interpreter(readFixture(entry.model));
  const dump = readDump(entry.name);
  assert.ok(dump);
  // int8 variable tensors start at their zero point (TFLM's ResetVariableTensors).
  const zeroPoints: Record<number, number> = { 4: -50, 12: -13, 20: 25, 28: -1, 36: 37, 41: 10 };
  for (const [index, zeroPoint] of Object.entries(zeroPoints)) {
    const state = elementValues(interpreter.tensorBytes(Number(index)), "int8");
    assert.ok(state.every((v) => v === zeroPoint), `tensor ${index} starts at ${zeroPoint}`);
  }
  const c = entry.cases[0];
  c.inputs.forEach((path, i) => interpreter.inputs[i].bytes.set(readFixture(path)));
  interpreter.invoke();
  const after = elementValues(interpreter.tensorBytes(4), "int8");
  assert.ok(after.some((v) => v !== -50), "an invoke changes the state");
  interpreter.resetState();
  assert.ok(elementValues(interpreter.tensorBytes(4), "int8").every((v) => v === -50), "resetState restores it");
});

test.run();
