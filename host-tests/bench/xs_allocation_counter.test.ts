// The allocation counter of the XS benchmark counts the last timed run of the
// harness. These runs use fake interpreters, so that a zero shows that the
// harness's timed loop allocates nothing itself, and a count shows that the
// counter detects an invoke that allocates.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ModelBenchResult } from "../../bench/harness/types.js";
import { BUNDLE_MODULES, readBenchBundles } from "../../tools/bench/bundles.js";
import { runEngineProcess } from "../../tools/bench/engine_process.js";
import { XS_DEFINITIONS, XS_HOOKS } from "../../tools/bench/xs_engine.js";
import { xsHostPath } from "../../tools/xs/paths.js";

const OPTIONS = { label: "fake on xs", runs: 2, perOperator: false, minRunMs: 5, operatorMinRunMs: 5 };

/** The "microq" fake invoke only writes a typed array, and the "naive" one allocates a two-element array. */
const MAIN_SOURCE = `import { benchModel } from "./${BUNDLE_MODULES.harness}";
${XS_DEFINITIONS}
const sink = [];
function fakeInterpreter(allocates) {
  const bytes = new Uint8Array(4);
  return {
    macs: 1,
    arenaBytes: 4,
    persistentBytes: 0,
    operators: [{ name: "FAKE", macs: 1 }],
    inputs: [{ type: "uint8", data: bytes, bytes }],
    outputs: [{ bytes }],
    invoke: allocates ? () => { sink[0] = [bytes[0], 1]; } : () => { bytes[1] = bytes[0] + 1; },
    invokeOperator() {},
  };
}
const result = benchModel(
  { microq: () => fakeInterpreter(false), naive: () => fakeInterpreter(true) },
  ${JSON.stringify(OPTIONS)},
  ${XS_HOOKS},
);
record("result", JSON.stringify(result));
`;

async function runFakeBench(): Promise<ModelBenchResult> {
  const folder = await mkdtemp(join(tmpdir(), "microq-bench-test-"));
  try {
    await writeFile(join(folder, BUNDLE_MODULES.harness), readBenchBundles().harness);
    await writeFile(join(folder, "main.mjs"), MAIN_SOURCE);
    return await runEngineProcess(xsHostPath(), [join(folder, "main.mjs")], { engine: "xs", cwd: folder });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

test("XS bench counter: timed loop allocates nothing", async () => {
  const allocations = (await runFakeBench()).microq.allocations;
  assert.ok(allocations !== null, "allocations counted");
  assert.ok(allocations.invokes >= 1, `${allocations.invokes} invokes counted`);
  assert.is(allocations.slots, 0, "slots");
  assert.is(allocations.chunkBytes, 0, "chunk bytes");
  assert.is(allocations.allocationFree, true, "allocation-free");
});

test("XS bench counter: detects an allocating invoke", async () => {
  const naive = (await runFakeBench()).naive;
  assert.ok(naive !== null, "naive figures present");
  const allocations = naive.allocations;
  assert.ok(allocations !== null, "allocations counted");
  assert.ok((allocations.slots ?? 0) >= allocations.invokes, `${allocations.slots} slots over ${allocations.invokes} invokes`);
  assert.is(allocations.allocationFree, false, "not allocation-free");
});

test.run();
