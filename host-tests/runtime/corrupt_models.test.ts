// Corrupted model files must be rejected with a MicroqError, or load and
// run to completion; never raise any other exception. Mutants are seeded,
// so a failure reproduces.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { readFixture, tflmModel } from "../fixtures.js";

function random(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

/** Applies one of: byte overwrite, bit flip, truncation, or a 32-bit word overwrite. */
function mutate(original: Uint8Array, next: () => number): Uint8Array {
  const kind = Math.floor(next() * 4);
  if (kind === 2) return original.slice(0, Math.floor(next() * original.byteLength));
  const bytes = original.slice();
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(next() * bytes.byteLength);
    if (kind === 0) bytes[at] = Math.floor(next() * 256);
    else if (kind === 1) bytes[at] ^= 1 << Math.floor(next() * 8);
    else {
      const word = [0, 1, 0x7fffffff, 0xffffffff, 0x80000000, Math.floor(next() * 0x100000000)][Math.floor(next() * 6)];
      const view = new DataView(bytes.buffer);
      const aligned = at & ~3;
      if (aligned + 4 <= bytes.byteLength) view.setUint32(aligned, word >>> 0, true);
    }
  }
  return bytes;
}

const CASES: Array<[string, number]> = [
  ["hello_world_int8", 3000],
  ["micro_speech_quantized", 1500],
  ["person_detect", 150],
];

for (const [name, mutants] of CASES) {
  test(`${name}: ${mutants} corrupted copies fail cleanly`, async () => {
    const microq = await loadBundle();
    const original = readFixture(tflmModel(name).model);
    const next = random(0x5eed + mutants);
    let rejected = 0;
    let ran = 0;
    for (let i = 0; i < mutants; i++) {
      const bytes = mutate(original, next);
      let interpreter;
      try {
        interpreter = new microq.Interpreter(bytes);
      } catch (error) {
        if (!(error instanceof microq.MicroqError)) {
          assert.unreachable(`mutant ${i} raised ${(error as Error)?.name}: ${(error as Error)?.message}`);
        }
        assert.ok((error as Error).message.length > 20, "message says something");
        rejected++;
        continue;
      }
      for (const input of interpreter.inputs) input.bytes.fill(i & 0xff);
      interpreter.invoke();
      ran++;
    }
    assert.is(rejected + ran, mutants);
    assert.ok(rejected > 0, "some mutants are rejected");
  });
}

test.run();
