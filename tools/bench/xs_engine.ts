// Runs a benchmark on XS, in one microq-xs-host process (tools/xs/host),
// which adds to the xsnap CLI's globals the XS meter (resetMeter), a
// monotonic clock (performance.now) and the heap counters that
// tools/xs/allocation.ts uses.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelBenchResult } from "../../bench/harness/types.js";
import { xsHostPath } from "../xs/paths.js";
import { arrayBufferExpression, validateModelBytes } from "../xs/model-module.js";
import { BUNDLE_MODULES, readBenchBundles } from "./bundles.js";
import { EngineBenchRequest } from "./engine_request.js";
import { BENCH_RECORD_PREFIX, runEngineProcess } from "./engine_process.js";
import { benchMainModuleSource } from "./main_module.js";

const MAIN_MODULE = "bench-main.mjs";

// Statements of the XS main module: record(kind, text) prints a record line,
// and allocationCounter counts heap allocations.
//
// The allocation counter follows tools/xs/allocation.ts: a full collection,
// then collection disabled, so that the heap counters only grow and their
// differences are exact. The counted run is a timed run, and nothing in the
// harness's timed runs allocates: it calls host functions that return
// numbers and stores into preallocated typed arrays.
export const XS_DEFINITIONS = `function record(kind, text) {
  print(${JSON.stringify(BENCH_RECORD_PREFIX)} + kind + " " + text);
}

const allocationCounter = {
  exact: true,
  count(run, invokes) {
    gc();
    enableGarbageCollection(false);
    const slotsBefore = heapSlotCount();
    const chunkBytesBefore = heapChunkBytesTaken();
    run(invokes);
    const slots = heapSlotCount() - slotsBefore;
    const chunkBytes = heapChunkBytesTaken() - chunkBytesBefore;
    enableGarbageCollection(true);
    return { method: "xs-heap-counters", invokes, allocationFree: slots === 0 && chunkBytes === 0, slots, chunkBytes };
  },
};`;

/** The BenchHooks object of the XS main module, which uses XS_DEFINITIONS. */
export const XS_HOOKS = `{
      now: () => performance.now(),
      takeMeter: () => resetMeter(0, 0),
      allocationCounter,
      progress: (message) => record("progress", message),
    }`;

/**
 * Returns the program and arguments that run microq-xs-host on `module`.
 * The host flushes stdout after every printed line, so progress records
 * arrive as they are printed.
 */
function xsHostCommand(module: string): [string, string[]] {
  return [xsHostPath(), [module]];
}

/** Benchmarks the model with microq and the naive baseline in one XS process. */
export async function benchOnXs(request: EngineBenchRequest): Promise<ModelBenchResult> {
  validateModelBytes(request.model);
  const bundles = readBenchBundles(request.bundlePaths);
  const main = benchMainModuleSource({
    generator: "tools/bench/xs_engine.ts",
    definitions: XS_DEFINITIONS,
    modelExpression: arrayBufferExpression(request.model),
    hooksExpression: XS_HOOKS,
    options: request.options,
  });

  const folder = await mkdtemp(join(tmpdir(), "microq-bench-xs-"));
  try {
    await writeFile(join(folder, BUNDLE_MODULES.microq), bundles.microq);
    await writeFile(join(folder, BUNDLE_MODULES.naive), bundles.naive);
    await writeFile(join(folder, BUNDLE_MODULES.harness), bundles.harness);
    await writeFile(join(folder, MAIN_MODULE), main);
    const [program, args] = xsHostCommand(join(folder, MAIN_MODULE));
    return await runEngineProcess(program, args, {
      engine: "xs",
      programName: "microq-xs-host",
      cwd: folder,
      onProgress: request.onProgress,
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
