// invoke() must allocate nothing once the interpreter is prepared: no slots
// or chunk bytes on XS, no heap bytes on V8. Each method is first shown to
// detect an allocating loop, so a zero means something.

import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureV8Allocations } from "../../tools/alloc/v8_allocation.js";
import { measureXsAllocations, measureXsCallAllocations } from "../../tools/xs/allocation.js";
import { TFLM_FIXTURES, readFixture, tflmModel } from "../fixtures.js";
import { seanetCases, seanetOps } from "../seanet/seanet_cases.js";

// mobilenet_v2 is left out because its 300 million multiply-accumulates per
// invoke take too long for a counting loop. The seanet cases and
// person_detect cover its operators.
const MODELS = [
  "hello_world_int8",
  "micro_speech_quantized",
  "person_detect",
  "keyword_scrambled_8bit",
  "trained_lstm_int8",
  "dtln_noise_suppression",
];

test("XS counter detects an allocating call", async () => {
  const files = { "step.mjs": "const sink = []; export function step() { sink[0] = [1, 2]; }" };
  const count = await measureXsCallAllocations(files, "step.mjs", 100);
  assert.ok(count.slots >= 100, `slots ${count.slots}`);
});

for (const name of MODELS) {
  test(`${name}: XS invoke allocates nothing`, async () => {
    const entry = tflmModel(name);
    const invokes = name === "person_detect" ? 3 : 50;
    const count = await measureXsAllocations(readFixture(entry.model), invokes, {
      inputs: entry.cases[0].inputs.map(readFixture),
    });
    assert.is(count.slots, 0, "slots");
    assert.is(count.chunkBytes, 0, "chunk bytes taken");
    assert.is(count.chunkBytesInUse, 0, "chunk bytes in use");
  });
}

test("seanet operators: XS invoke allocates nothing", async () => {
  // The first case of each operator: int16 activations and the int64 bias path.
  for (const op of seanetOps()) {
    const c = seanetCases(op)[0];
    const count = await measureXsAllocations(c.model, 20, { inputs: c.inputs });
    assert.is(count.slots, 0, `${op}/${c.name} slots`);
    assert.is(count.chunkBytes, 0, `${op}/${c.name} chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${op}/${c.name} chunk bytes in use`);
  }
});

/**
 * Invokes per V8 measurement for the slower models. Each loop must stay
 * short: V8 may start a time-based collection during a loop of several
 * seconds on a busy machine, which the probe then reports.
 */
const V8_INVOKES: Record<string, number> = { person_detect: 60, dtln_noise_suppression: 1000, trained_lstm_int8: 2000 };

test("V8 counter detects an allocating call", () => {
  const result = measureV8Allocations("", 2000, "allocating-control");
  assert.is(result.unexpectedCollections, 0, "no collection during the loop");
  assert.ok(result.bytes >= 12 * 2000, `bytes ${result.bytes}`);
});

for (const name of MODELS) {
  test(`${name}: V8 invoke allocates nothing`, () => {
    // One 12-byte object per invoke adds 12 * invokes bytes, above the
    // measurement's noise of a few hundred bytes; the XS test above is exact.
    const invokes = V8_INVOKES[name] ?? 5000;
    const result = measureV8Allocations(resolve(TFLM_FIXTURES, tflmModel(name).model), invokes);
    assert.is(result.unexpectedCollections, 0, "no collection during the loop");
    assert.ok(Math.abs(result.bytes) < 512, `${result.bytes} bytes allocated over ${invokes} invokes`);
  });
}

test.run();
