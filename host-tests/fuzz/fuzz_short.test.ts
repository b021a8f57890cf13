// A short fuzz campaign with a fixed seed over the fixture models: every
// mutant must be rejected with a MicroqError or run, within the time limit
// and without an out-of-bounds typed array access. npm run fuzz runs the
// long campaign with the same code.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildFuzzBundle } from "../../tools/fuzz/bundle.js";
import { FIXTURE_MODELS, runCampaign } from "../../tools/fuzz/campaign.js";
import { checkedView, type OutOfBoundsLog } from "../../tools/fuzz/checked_views.js";

const SEED = 1204;

let bundle: Promise<string> | undefined;

test("checked view records out-of-bounds accesses", () => {
  const log = (globalThis as unknown as { __microqOutOfBounds: OutOfBoundsLog }).__microqOutOfBounds;
  log.count = 0;
  log.samples.length = 0;
  const view = checkedView(new Int8Array(4), 7);

  view[3] = 5;
  assert.is(view[3], 5);
  assert.is(log.count, 0);
  assert.is(view[4], undefined);
  view[-1] = 1;

  assert.is(log.count, 2);
  assert.equal(log.samples, ["read of tensor 7 [4], length 4", "write of tensor 7 [-1], length 4"]);
  assert.is(view.length, 4);
  assert.is(view.subarray(1).length, 3);
});

/** Writes a stand-in runtime bundle whose Interpreter constructor runs `constructorBody`. */
function writeStubBundle(name: string, constructorBody: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "microq-fuzz-")), `${name}.js`);
  writeFileSync(
    path,
    `globalThis.__microqOutOfBounds = { count: 0, samples: [] };
export class MicroqError extends Error {}
export class Interpreter {
  constructor(bytes) { ${constructorBody} }
}
`,
  );
  return path;
}

test("campaign classifies hang, exception, out-of-bounds", async () => {
  const cases = [
    { name: "hang", body: "for (;;) {}", expected: "hang" },
    { name: "exception", body: "throw new TypeError('bytes[0] is undefined');", expected: "exception" },
    { name: "out-of-bounds", body: "globalThis.__microqOutOfBounds.count = 2; throw new MicroqError('rejected');", expected: "out-of-bounds" },
  ];
  for (const { name, body, expected } of cases) {
    const summary = await runCampaign({
      bundlePath: writeStubBundle(name, body),
      seed: SEED,
      count: 3,
      seconds: Infinity,
      jobs: 1,
      slowMilliseconds: 5000,
      watchdogMilliseconds: 500,
      xsSample: 0,
    });

    assert.is(summary.mutants, 3, name);
    assert.equal(
      summary.failures.map((failure) => failure.result),
      [expected, expected, expected],
      name,
    );
  }
});

/** Runs `count` mutants of the named fixture models and asserts that none failed. */
async function assertNoFailures(modelNames: string[], count: number): Promise<void> {
  bundle ??= buildFuzzBundle();
  const bundlePath = await bundle;
  const summary = await runCampaign({
    bundlePath,
    seed: SEED,
    count,
    seconds: Infinity,
    jobs: 2,
    slowMilliseconds: 5000,
    watchdogMilliseconds: 20000,
    xsSample: 0,
    models: FIXTURE_MODELS.filter((model) => modelNames.includes(model.name)),
  });

  const failures = summary.failures.map(
    (failure) =>
      `mutant ${failure.index} (${failure.model}, ${failure.kind}): ${failure.result} ${failure.message ?? ""} ` +
      `${failure.outOfBoundsSamples?.join("; ") ?? ""}`,
  );
  assert.equal(failures, [], `seed ${SEED} failures`);
  assert.is(summary.mutants, count);
  assert.ok(summary.ran > 0, "no mutant ran to the end of invoke");
  assert.ok((summary.rejectedByCode.INVALID_MODEL ?? 0) > 0, "no mutant was rejected as INVALID_MODEL");
  assert.is(summary.outOfBoundsAccesses, 0);
}

// Estimate: a person_detect mutant that runs takes 100 to 400 ms in the fuzz build, one of
// the two small models a few ms, so person_detect gets fewer mutants.
test("small models: 3000 mutants, no failures", async () => {
  await assertNoFailures(["hello_world_int8", "micro_speech_quantized"], 3000);
});

test("recurrent models: 3000 mutants, no failures", async () => {
  await assertNoFailures(["keyword_scrambled_8bit", "trained_lstm_int8", "dtln_noise_suppression"], 3000);
});

test("seanet 16x8 models: 3200 mutants, no failures", async () => {
  const names = FIXTURE_MODELS.filter((model) => model.name.startsWith("seanet_")).map((model) => model.name);
  assert.is(names.length, 8);
  await assertNoFailures(names, 3200);
});

test("person_detect: 200 mutants, no failures", async () => {
  await assertNoFailures(["person_detect"], 200);
});

test.run();
