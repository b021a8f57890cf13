// Runs a benchmark on QuickJS, in one QuickJS runtime of the WebAssembly
// build in quickjs-emscripten (its RELEASE_SYNC variant), inside this Node
// process. tools/quickjs/engine.ts runs models the same way, but its
// runModelOnQuickJs has a fixed main module, so the benchmark sets up its own
// runtime with the three bundles and host functions for the clock and the
// records.
//
// QuickJS offers no meter, and no allocation count: its memory statistics
// (JS_ComputeMemoryUsage) count live allocations only, and reference counting
// frees a temporary object at once, so an allocating invoke leaves them
// unchanged.
//
// The clock is Node's performance.now(), called from QuickJS through a host
// function, which adds a few microseconds per call, once per timed run.

import { newQuickJSWASMModule, RELEASE_SYNC, Scope, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten";
import type { ModelBenchResult } from "../../bench/harness/types.js";
import { validateModelBytes } from "../xs/model-module.js";
import { BUNDLE_MODULES, readBenchBundles } from "./bundles.js";
import { EngineBenchRequest } from "./engine_request.js";
import { RecordCollector } from "./engine_process.js";
import { benchMainModuleSource } from "./main_module.js";

export const QUICKJS_ALLOCATIONS_NOTE =
  "not counted on QuickJS: its memory statistics count live allocations only, and reference counting frees temporaries at once";

const MAIN_MODULE = "bench-main.js";

/**
 * Bytes that code inside QuickJS may allocate. The person_detect benchmark,
 * per-operator timing included, ran within a 1 MiB limit (quickjs-emscripten
 * 0.32.0), so this limit only stops runaway allocation.
 */
const MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * QuickJS stack limit. Deep recursion in the WebAssembly build also uses
 * Node's native stack, which overflowed before QuickJS's own check at a
 * limit of 512 KiB (tools/quickjs/engine.ts records this), so this stays below.
 */
const MAX_STACK_SIZE_BYTES = 256 * 1024;

/** Host functions that the main module calls, as globals of the QuickJS context. */
const HOST_NOW = "microqBenchNow";
const HOST_RECORD = "microqBenchRecord";
const HOST_MODEL = "microqBenchModel";

const QUICKJS_DEFINITIONS = `const record = globalThis.${HOST_RECORD};`;

const QUICKJS_HOOKS = `{
      now: globalThis.${HOST_NOW},
      progress: (message) => record("progress", message),
    }`;

/** Returns a copy of `bytes` in an ArrayBuffer of exactly their length. */
function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Returns a one-line description of a value thrown inside QuickJS. */
function describeThrown(context: QuickJSContext, thrown: QuickJSHandle): string {
  const value = context.dump(thrown) as unknown;
  if (value !== null && typeof value === "object" && "message" in value) {
    const error = value as { name?: unknown; message?: unknown };
    return `${String(error.name ?? "Error")}: ${String(error.message)}`;
  }
  return String(value);
}

function defineHostFunctions(context: QuickJSContext, scope: Scope, collector: RecordCollector, model: Uint8Array): void {
  const now = scope.manage(context.newFunction(HOST_NOW, () => context.newNumber(performance.now())));
  const record = scope.manage(
    context.newFunction(HOST_RECORD, (kind, text) => {
      collector.record(context.getString(kind), context.getString(text));
    }),
  );
  const modelBuffer = scope.manage(context.newArrayBuffer(exactArrayBuffer(model)));
  context.setProp(context.global, HOST_NOW, now);
  context.setProp(context.global, HOST_RECORD, record);
  context.setProp(context.global, HOST_MODEL, modelBuffer);
}

/** Evaluates the main module, which runs the whole benchmark while it loads. */
function evaluateMainModule(context: QuickJSContext, scope: Scope, source: string, pendingJobs: () => void): void {
  const evaluation = context.evalCode(source, MAIN_MODULE, { type: "module" });
  if (evaluation.error) {
    throw new Error(`the benchmark module failed to load on QuickJS: ${describeThrown(context, scope.manage(evaluation.error))}`);
  }
  const moduleValue = scope.manage(evaluation.value);
  pendingJobs();
  const state = context.getPromiseState(moduleValue);
  if (state.type === "rejected") {
    throw new Error(`the benchmark module failed on QuickJS: ${describeThrown(context, scope.manage(state.error))}`);
  }
  if (state.type === "pending") {
    throw new Error("the benchmark module did not finish on QuickJS: a top-level await never settled");
  }
  if (state.value !== moduleValue) {
    scope.manage(state.value);
  }
}

/**
 * Benchmarks the model with microq and the naive baseline in one QuickJS
 * runtime. The run is synchronous WebAssembly, so it blocks Node's event
 * loop until it ends.
 */
export async function benchOnQuickJs(request: EngineBenchRequest): Promise<ModelBenchResult> {
  validateModelBytes(request.model);
  const bundles = readBenchBundles(request.bundlePaths);
  const sources: Record<string, string> = {
    [BUNDLE_MODULES.microq]: bundles.microq,
    [BUNDLE_MODULES.naive]: bundles.naive,
    [BUNDLE_MODULES.harness]: bundles.harness,
  };
  const main = benchMainModuleSource({
    generator: "tools/bench/quickjs_engine.ts",
    definitions: QUICKJS_DEFINITIONS,
    modelExpression: `globalThis.${HOST_MODEL}`,
    hooksExpression: QUICKJS_HOOKS,
    options: request.options,
  });
  const collector = new RecordCollector("quickjs", request.onProgress);

  const quickJs = await newQuickJSWASMModule(RELEASE_SYNC);
  const runtime = quickJs.newRuntime();
  try {
    runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
    runtime.setMaxStackSize(MAX_STACK_SIZE_BYTES);
    runtime.setModuleLoader((name) => {
      const source = sources[name.replace(/^\.\//, "")];
      return source ?? { error: new Error(`module ${JSON.stringify(name)} not found: the benchmark imports only its three bundles`) };
    });
    const context = runtime.newContext();
    try {
      Scope.withScope((scope) => {
        defineHostFunctions(context, scope, collector, request.model);
        evaluateMainModule(context, scope, main, () => scope.manage(runtime.executePendingJobs()));
      });
    } finally {
      context.dispose();
    }
  } finally {
    runtime.dispose();
  }
  return collector.finish();
}
