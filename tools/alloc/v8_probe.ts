// Child process that counts V8 heap bytes allocated by repeated calls of a
// function. v8_allocation.ts runs it with --expose-gc and a young generation
// large enough that no collection happens during the measured loop. A
// collection that happens anyway is detected and reported.
//
// Method: after warm-up (so the JIT has settled) and a full collection, read
// the young generation's used bytes, run the loop, read them again. New
// objects are bump-allocated there, so any allocation raises the count. The
// reading itself allocates a few bytes, so the loop is measured with N and
// with 2N calls: the difference is what N calls allocate. Up to a few
// hundred bytes of it come from inline caches and late compilation whatever
// N is, while one object per call adds at least 12 * N bytes.

import { readFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { loadBundle } from "../bundle.js";

declare const gc: () => void;

/** Warm-up: batches of calls until this much time has passed, so that V8 has optimized the loops. */
const WARM_UP_INVOKES = 10;
const WARM_UP_MS = 500;
const MEASUREMENT_REPEATS = 2;

function youngGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") used += space.space_used_size;
  }
  return used;
}

function measure(body: () => void): number {
  gc();
  const before = youngGenerationUsed();
  body();
  const after = youngGenerationUsed();
  return after - before;
}

async function main(): Promise<void> {
  const [modelPath, countText, mode] = process.argv.slice(2);
  const invokes = Number(countText);
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });

  let run: (count: number) => void;
  if (mode === "allocating-control") {
    // Positive control: allocates a small array per call.
    const sink: number[][] = [];
    run = (count) => {
      for (let i = 0; i < count; i++) sink[i & 7] = [i, i + 1];
    };
  } else {
    const microq = await loadBundle();
    const interpreter = new microq.Interpreter(new Uint8Array(readFileSync(modelPath)));
    const input = interpreter.inputs[0].bytes;
    for (let i = 0; i < input.length; i++) input[i] = (i * 37) & 0xff;
    run = (count) => {
      for (let i = 0; i < count; i++) interpreter.invoke();
    };
  }

  // Warm up so that compilation and feedback allocation are done.
  const warmUpEnd = performance.now() + WARM_UP_MS;
  do run(WARM_UP_INVOKES);
  while (performance.now() < warmUpEnd);
  // Let the observer deliver the warm-up's collections before counting anew.
  await new Promise((done) => setTimeout(done, 50));
  collections = 0;

  // Late compilation only adds bytes to a reading, so the least of a few
  // readings is the steady state.
  let single = Infinity;
  let double = Infinity;
  for (let repeat = 0; repeat < MEASUREMENT_REPEATS; repeat++) {
    single = Math.min(single, measure(() => run(invokes)));
    double = Math.min(double, measure(() => run(2 * invokes)));
  }
  // The observer reports asynchronously; let it deliver before reading.
  await new Promise((done) => setTimeout(done, 50));
  // Each measure() forces one collection with gc(); more means a loop collected.
  const unexpectedCollections = Math.max(0, collections - 2 * MEASUREMENT_REPEATS);
  const measured = double - single;
  process.stdout.write(JSON.stringify({ invokes, bytes: measured, unexpectedCollections }) + "\n");
  observer.disconnect();
}

await main();
