// Child process of the Node benchmark engine (node_engine.ts): loads the
// three bundles, benchmarks one model and prints records on stdout.
//
// Usage: node --expose-gc --max-semi-space-size=64 --min-semi-space-size=64
//          node_child.js MODEL.tflite OPTIONS_JSON MICROQ_JS NAIVE_JS HARNESS_JS
//
// Allocations are counted as tools/alloc/v8_probe.ts does: the bytes that
// the young generation grows by during N invokes and during 2N invokes, each
// after a full collection, whose difference is what N invokes allocate. The
// semi-space flags make the young generation large enough that no scavenge
// runs inside a measured loop. Garbage collections are reported by a
// PerformanceObserver only after the loops, so they are matched to the loops
// by their start times.

import { readFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { getHeapSpaceStatistics } from "node:v8";
import type { AllocationCounter, AllocationReport, BenchHooks, BenchOptions } from "../../bench/harness/types.js";
import { BENCH_RECORD_PREFIX } from "./engine_process.js";

declare const gc: () => void;

/**
 * Byte counts below this magnitude are noise: v8_probe.ts found up to a few
 * hundred bytes from inline caches and late compilation, whatever the invoke
 * count, and host-tests/alloc uses the same bound.
 */
const NOISE_BYTES = 512;
/** Each count is the least of this many measurements, because late compilation only adds bytes. */
const MEASUREMENT_REPEATS = 2;

type Microq = typeof import("../../runtime/index.js");
type NaiveMicroq = typeof import("../../bench/naive/index.js");
type Harness = typeof import("../../bench/harness/index.js");

function record(kind: string, text: string): void {
  process.stdout.write(`${BENCH_RECORD_PREFIX}${kind} ${text}\n`);
}

function youngGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") used += space.space_used_size;
  }
  return used;
}

/** Creates a V8 allocation counter, which records the time window of each measured loop for matching collections afterwards. */
function createV8Counter(): { counter: AllocationCounter; windows: Array<{ report: AllocationReport; start: number; end: number }> } {
  const windows: Array<{ report: AllocationReport; start: number; end: number }> = [];
  const counter: AllocationCounter = {
    exact: false,
    count(run, invokes) {
      const report: AllocationReport = {
        method: "v8-young-generation",
        invokes,
        allocationFree: false,
        bytes: 0,
        noiseBytes: NOISE_BYTES,
        unexpectedCollections: 0,
      };
      const measure = (calls: number): number => {
        gc();
        const start = performance.now();
        const before = youngGenerationUsed();
        run(calls);
        const after = youngGenerationUsed();
        windows.push({ report, start, end: performance.now() });
        return after - before;
      };

      let single = Infinity;
      let double = Infinity;
      for (let repeat = 0; repeat < MEASUREMENT_REPEATS; repeat++) {
        single = Math.min(single, measure(invokes));
        double = Math.min(double, measure(2 * invokes));
      }
      report.bytes = double - single;
      report.allocationFree = Math.abs(report.bytes) < NOISE_BYTES;
      return report;
    },
  };
  return { counter, windows };
}

async function main(): Promise<void> {
  const [modelPath, optionsJson, microqPath, naivePath, harnessPath] = process.argv.slice(2);
  if (harnessPath === undefined) {
    throw new Error("usage: node_child.js MODEL.tflite OPTIONS_JSON MICROQ_JS NAIVE_JS HARNESS_JS");
  }
  const options = JSON.parse(optionsJson) as BenchOptions;
  const data = readFileSync(modelPath);
  const model = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

  const microq = (await import(pathToFileURL(microqPath).href)) as Microq;
  const naive = (await import(pathToFileURL(naivePath).href)) as NaiveMicroq;
  const harness = (await import(pathToFileURL(harnessPath).href)) as Harness;

  const collectionTimes: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) collectionTimes.push(entry.startTime);
  });
  observer.observe({ entryTypes: ["gc"] });

  const { counter, windows } = createV8Counter();
  const hooks: BenchHooks = {
    now: () => performance.now(),
    allocationCounter: counter,
    progress: (message) => record("progress", message),
  };
  const result = harness.benchModel(
    {
      microq: () => new microq.Interpreter(model),
      naive: () => new naive.Interpreter(model, { resolveKernel: naive.resolveNaiveKernel }),
    },
    options,
    hooks,
  );

  // The observer reports asynchronously; let it deliver before matching.
  await new Promise((done) => setTimeout(done, 50));
  observer.disconnect();
  for (const window of windows) {
    const inside = collectionTimes.filter((time) => time >= window.start && time <= window.end).length;
    if (inside > 0) {
      window.report.unexpectedCollections = (window.report.unexpectedCollections ?? 0) + inside;
      window.report.allocationFree = false;
    }
  }
  record("result", JSON.stringify(result));
}

try {
  await main();
} catch (error) {
  const thrown = error instanceof Error ? error : new Error(String(error));
  const code = (thrown as { code?: unknown }).code;
  record("error", JSON.stringify({ name: thrown.name, message: thrown.message, code: typeof code === "string" ? code : undefined }));
}
