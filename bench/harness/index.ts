// Entry of the bundle dist/microq-bench.js: the benchmark harness that runs
// inside XS, QuickJS and Node. It receives the interpreters and engine
// services from a small engine-specific module (see tools/bench/), so it
// uses only ECMAScript and no Node or XS API.

import { compareInvokes, compareOperatorTypes, compareOperators } from "./compare.js";
import { KernelSetMeasurement, measureKernelSet } from "./measure.js";
import {
  BenchHooks,
  BenchInterpreter,
  BenchOptions,
  InterpreterFactory,
  KernelSet,
  ModelBenchResult,
  NaiveUnavailable,
} from "./types.js";

export type * from "./types.js";

/** Cause that the report gives when the naive baseline cannot prepare a model. */
export const NAIVE_UNAVAILABLE_CAUSE = "the naive baseline ports TFLM's int8 kernels only";
/** Report line for a model that the naive baseline cannot prepare. */
export const NAIVE_UNAVAILABLE_REASON = `${NAIVE_UNAVAILABLE_CAUSE}; no comparison for this model`;

/**
 * The code of the runtime's UnsupportedError (runtime/errors.ts). The naive
 * bundle carries its own copy of the error classes, so the harness checks
 * the code rather than the class.
 */
const UNSUPPORTED_CODE = "UNSUPPORTED";

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
 * Returns the problems listed by an UnsupportedError, or its message when it
 * lists none, or null when `error` is not an UnsupportedError.
 */
function unsupportedProblems(error: unknown): string[] | null {
  if (error === null || typeof error !== "object") return null;
  const thrown = error as { code?: unknown; message?: unknown; problems?: unknown };
  if (thrown.code !== UNSUPPORTED_CODE) return null;
  if (Array.isArray(thrown.problems) && thrown.problems.length > 0) return thrown.problems.map(String);
  return [String(thrown.message)];
}

/** The naive interpreter, or why the baseline cannot run the model. */
type NaiveCreation = { interpreter: BenchInterpreter; unavailable: null } | { interpreter: null; unavailable: NaiveUnavailable };

/**
 * Creates the naive interpreter, or returns why the baseline cannot run the
 * model. The caller has already prepared the model with microq's kernels, so
 * an UnsupportedError here comes from the ported TFLM kernels, which take
 * int8 tensors only. Any other error propagates.
 */
function createNaive(create: InterpreterFactory, hooks: BenchHooks, label: string): NaiveCreation {
  try {
    return { interpreter: create(), unavailable: null };
  } catch (error) {
    const problems = unsupportedProblems(error);
    if (problems === null) throw error;
    hooks.progress(`${label}: naive baseline not available`);
    return { interpreter: null, unavailable: { reason: NAIVE_UNAVAILABLE_REASON, problems } };
  }
}

/** Returns the result of a model that only microq's kernels can prepare: every naive figure is null. */
function microqOnlyResult(microq: KernelSetMeasurement, unavailable: NaiveUnavailable): ModelBenchResult {
  const operators = microq.result.operators !== null ? compareOperators(microq.result.operators, null) : null;
  return {
    macs: microq.result.macs,
    operatorCount: microq.result.operatorCount,
    outputsMatch: null,
    microq: microq.result,
    naive: null,
    naiveUnavailable: unavailable,
    speedup: null,
    operators,
    operatorTypes: operators === null ? null : compareOperatorTypes(operators),
  };
}

/**
 * Benchmarks one model with microq's kernels and with the naive baseline in
 * this engine, one kernel set after the other, and compares them. When the
 * baseline cannot prepare the model (an UnsupportedError, as for uint8
 * layers), the result has microq's figures only and the reason.
 */
export function benchModel(
  create: Readonly<Record<KernelSet, InterpreterFactory>>,
  options: BenchOptions,
  hooks: BenchHooks,
): ModelBenchResult {
  checkOptions(options);
  const microq = measureKernelSet("microq", create.microq(), options, hooks);

  const creation = createNaive(create.naive, hooks, options.label);
  if (creation.interpreter === null) return microqOnlyResult(microq, creation.unavailable);
  const naive = measureKernelSet("naive", creation.interpreter, options, hooks);

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
    naiveUnavailable: null,
    speedup: compareInvokes(microq.result, naive.result),
    operators,
    operatorTypes: operators === null ? null : compareOperatorTypes(operators),
  };
}
