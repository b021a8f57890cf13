// Measures heap bytes V8 allocates while a model is invoked repeatedly, in a
// child Node.js process (see v8_probe.ts for the method).

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { REPOSITORY_ROOT } from "../bundle.js";

export interface V8AllocationResult {
  invokes: number;
  /** Young-generation bytes allocated by `invokes` calls, plus or minus a few hundred bytes of noise. */
  bytes: number;
  /** Garbage collections during the measured loop; nonzero makes `bytes` unreliable. */
  unexpectedCollections: number;
}

const PROBE = resolve(REPOSITORY_ROOT, "build", "tools", "alloc", "v8_probe.js");

/** mode "allocating-control" measures a loop that allocates on purpose, to show the method detects it. */
export function measureV8Allocations(modelPath: string, invokes: number, mode: "model" | "allocating-control" = "model"): V8AllocationResult {
  const result = spawnSync(
    process.execPath,
    ["--expose-gc", "--max-semi-space-size=64", "--min-semi-space-size=64", PROBE, modelPath, String(invokes), mode],
    { encoding: "utf8", timeout: 300_000 },
  );
  if (result.status !== 0) {
    throw new Error(`V8 allocation probe failed (exit ${result.status}): ${result.stderr.trim().split("\n")[0] ?? ""}`);
  }
  return JSON.parse(result.stdout.trim()) as V8AllocationResult;
}
