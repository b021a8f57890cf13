// Runs a benchmark on Node.js (V8), in one child process (node_child.ts)
// started with the flags that its allocation count needs.

import { resolve } from "node:path";
import type { ModelBenchResult } from "../../bench/harness/types.js";
import { REPOSITORY_ROOT } from "../bundle.js";
import { EngineBenchRequest } from "./engine_request.js";
import { runEngineProcess } from "./engine_process.js";

const CHILD = resolve(REPOSITORY_ROOT, "build", "tools", "bench", "node_child.js");

/** --expose-gc for gc(), and 64 MB semi-spaces so that no scavenge runs inside a measured loop. */
const CHILD_FLAGS = ["--expose-gc", "--max-semi-space-size=64", "--min-semi-space-size=64"];

/** Benchmarks the model with microq and the naive baseline in one Node child process. */
export function benchOnNode(request: EngineBenchRequest): Promise<ModelBenchResult> {
  const bundles = request.bundlePaths;
  const args = [...CHILD_FLAGS, CHILD, request.modelPath, JSON.stringify(request.options), bundles.microq, bundles.naive, bundles.harness];
  return runEngineProcess(process.execPath, args, {
    engine: "node",
    onProgress: request.onProgress,
  });
}
