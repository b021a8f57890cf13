// npm run fuzz: builds dist/microq-fuzz.js and runs a seeded fuzz campaign
// over the fixture models, then prints one figures line. Exits with status 1
// when any mutant failed or XS disagreed with Node.
//
// Usage: node build/tools/fuzz/run.js [--count N] [--seconds S] [--seed N]
//          [--first-index I] [--xs-sample K] [--jobs N] [--slow-ms MS] [--watchdog-ms MS]

import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { buildFuzzBundle } from "./bundle.js";
import { runCampaign, type CampaignSummary } from "./campaign.js";

const HELP = `Usage: npm run fuzz -- [options]
  --count N        maximum number of mutants (default 100000)
  --seconds S      stop starting new mutants after S seconds (default: no limit)
  --seed N         campaign seed; mutant i of seed N is always the same bytes (default 1)
  --first-index I  index of the first mutant; with --count 1 it reruns one reported mutant (default 0)
  --xs-sample K    run K mutants that loaded on Node again on XS and compare outputs or error codes (default 0)
  --jobs N         worker threads (default: available CPUs)
  --slow-ms MS     a load plus invoke slower than MS milliseconds is a failure (default 5000)
  --watchdog-ms MS a mutant still running after MS milliseconds is a hang and its worker is killed (default 20000)`;

function readNumber(values: Record<string, string | boolean | undefined>, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== "string" || !Number.isFinite(value) || value < 0) {
    console.error(`microq fuzz: invalid --${name} ${String(text)}: expected a non-negative number\n${HELP}`);
    process.exit(2);
  }
  return value;
}

function figures(summary: CampaignSummary): string {
  const failuresByKind: Record<string, number> = {};
  for (const failure of summary.failures) failuresByKind[failure.result] = (failuresByKind[failure.result] ?? 0) + 1;
  const rejected = Object.entries(summary.rejectedByCode)
    .map(([code, count]) => `${code} ${count}`)
    .join(", ");
  const failures = Object.entries(failuresByKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return (
    `${summary.mutants} mutants in ${summary.elapsedSeconds.toFixed(0)} s (seed ${summary.seed}): ` +
    `rejected {${rejected}}, ran ${summary.ran}, failures ${summary.failures.length}${failures ? ` {${failures}}` : ""}, ` +
    `max load+invoke ${summary.maxMilliseconds.toFixed(0)} ms (mutant ${summary.slowestIndex}), ` +
    `out-of-bounds accesses ${summary.outOfBoundsAccesses}`
  );
}

const { values } = parseArgs({
  options: {
    count: { type: "string" },
    seconds: { type: "string" },
    seed: { type: "string" },
    "first-index": { type: "string" },
    "xs-sample": { type: "string" },
    jobs: { type: "string" },
    "slow-ms": { type: "string" },
    "watchdog-ms": { type: "string" },
    help: { type: "boolean" },
  },
  strict: true,
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const bundlePath = await buildFuzzBundle();
console.log(`microq fuzz: built ${bundlePath}`);
const summary = await runCampaign({
  bundlePath,
  count: readNumber(values, "count", 100000),
  seconds: readNumber(values, "seconds", Infinity),
  seed: readNumber(values, "seed", 1),
  firstIndex: readNumber(values, "first-index", 0),
  xsSample: readNumber(values, "xs-sample", 0),
  jobs: Math.max(1, readNumber(values, "jobs", availableParallelism())),
  slowMilliseconds: readNumber(values, "slow-ms", 5000),
  watchdogMilliseconds: readNumber(values, "watchdog-ms", 20000),
  onProgress: (progress) => console.log(`microq fuzz: ${figures(progress)}`),
});

for (const failure of summary.failures.slice(0, 20)) {
  console.log(
    `FAIL ${failure.result}: seed ${summary.seed} mutant ${failure.index} (${failure.model}, ${failure.kind}), ` +
      `${failure.milliseconds.toFixed(0)} ms${failure.stage ? ` at ${failure.stage}` : ""}` +
      `${failure.message ? `: ${failure.message}` : ""}${failure.outOfBoundsSamples ? `; ${failure.outOfBoundsSamples.join("; ")}` : ""}`,
  );
}
if (summary.failures.length > 20) console.log(`... ${summary.failures.length - 20} more failures`);
for (const mismatch of summary.xsMismatches) {
  console.log(`XS MISMATCH: mutant ${mismatch.index} (${mismatch.model}, ${mismatch.kind}): Node ${mismatch.node}, XS ${mismatch.xs}`);
}
if (summary.xsCompared > 0) console.log(`microq fuzz: XS compared ${summary.xsCompared}, mismatches ${summary.xsMismatches.length}`);
console.log(`microq fuzz: ${figures(summary)}`);
process.exit(summary.failures.length > 0 || summary.xsMismatches.length > 0 ? 1 : 0);
