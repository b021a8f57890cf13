// Entry of the bundle dist/microq-bench.js: the benchmark harness that runs
// inside XS, QuickJS and Node. It receives the interpreters and engine
// services from a small engine-specific module (see tools/bench/), so it
// uses only ECMAScript and no Node or XS API.

import { compareInvokes, compareOperatorTypes, compareOperators } from "./compare.js";
import { measureKernelSet } from "./measure.js";
import { BenchHooks, BenchOptions, InterpreterFactory, KernelSet, ModelBenchResult } from "./types.js";

export type * from "./types.js";

function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return false;
    for (let j = 0; j < a[i].length; j++) {
      if (a[i][j] !== b[i][j]) return false;
    }
  }
  return true;
}

function checkOptions(options: BenchOptions): void {
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new Error(`invalid runs ${options.runs}: expected an integer of at least 1`);
  }
  if (!(options.minRunMs >= 0) || !(options.operatorMinRunMs >= 0)) {
    throw new Error(`invalid minimum run time ${options.minRunMs} or ${options.operatorMinRunMs} ms: expected 0 or more`);
  }
}

/**
 * Benchmarks one model with microq's kernels and with the naive baseline in
 * this engine, one kernel set after the other, and compares them.
 */
export function benchModel(
  create: Readonly<Record<KernelSet, InterpreterFactory>>,
  options: BenchOptions,
  hooks: BenchHooks,
): ModelBenchResult {
  checkOptions(options);
  const microq = measureKernelSet("microq", create.microq, options, hooks);
  const naive = measureKernelSet("naive", create.naive, options, hooks);

  if (microq.result.macs !== naive.result.macs) {
    throw new Error(`microq counts ${microq.result.macs} MACs but the naive baseline ${naive.result.macs}; the kernels disagree on the model`);
  }
  const operators =
    microq.result.operators !== null && naive.result.operators !== null
      ? compareOperators(microq.result.operators, naive.result.operators)
      : null;
  return {
    macs: microq.result.macs,
    operatorCount: microq.result.operatorCount,
    outputsMatch: sameBytes(microq.outputs, naive.outputs),
    microq: microq.result,
    naive: naive.result,
    speedup: compareInvokes(microq.result, naive.result),
    operators,
    operatorTypes: operators === null ? null : compareOperatorTypes(operators),
  };
}
