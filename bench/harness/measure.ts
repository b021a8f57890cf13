// Timing and metering of one kernel set: whole invokes, then optionally each
// operator alone. A run repeats the call enough times to last a minimum
// time, so that clock resolution and call overhead do not dominate small
// models. The reported figure is the time of one call, as the median over the runs.

import { fillInputs } from "./inputs.js";
import { median } from "./statistics.js";
import {
  AllocationReport,
  BenchHooks,
  BenchInterpreter,
  BenchOptions,
  KernelSet,
  KernelSetResult,
  OperatorTiming,
  Timing,
} from "./types.js";

/** Calls `calls` times the invoke or operator under test. */
type CallLoop = (calls: number) => void;

/** Upper bound on calls per run, which ends calibration even when the clock reads 0 ms for a run. */
const MAX_CALLS_PER_RUN = 1 << 22;

/** Per-call time and meter of each run, preallocated so that a timed run stores its result without allocating. */
interface RunSamples {
  ms: Float64Array;
  meter: Float64Array;
}

/** Times one run of `calls` calls of `loop` and stores the per-call time and meter at index `run`. */
function timeRun(loop: CallLoop, calls: number, hooks: BenchHooks, samples: RunSamples, run: number): void {
  const takeMeter = hooks.takeMeter;
  const start = hooks.now();
  if (takeMeter !== undefined) takeMeter();
  loop(calls);
  const meter = takeMeter !== undefined ? takeMeter() : 0;
  const end = hooks.now();
  samples.ms[run] = (end - start) / calls;
  samples.meter[run] = meter / calls;
}

/**
 * A first call at least this many times the minimum run time ends the
 * warm-up alone. A call that long is dominated by the kernels' loops, not by
 * one-time costs such as JIT compilation, and skipping a second warm-up call
 * saves seconds where a call takes seconds (large models on XS and QuickJS).
 */
const TRUSTED_FIRST_CALL_FACTOR = 10;

/**
 * Warms up by running `loop` with a growing call count until one run lasts at
 * least `minRunMs`, and returns that call count. `firstCallMs`, when given,
 * is the time of one call that the caller already made.
 */
function calibrate(loop: CallLoop, hooks: BenchHooks, minRunMs: number, firstCallMs?: number): number {
  const timeLoop = (calls: number): number => {
    const start = hooks.now();
    loop(calls);
    return hooks.now() - start;
  };

  let calls = 1;
  let elapsed: number;
  if (firstCallMs === undefined) {
    elapsed = timeLoop(calls);
  } else if (firstCallMs >= TRUSTED_FIRST_CALL_FACTOR * minRunMs) {
    return calls;
  } else {
    // The first call may include one-time costs, so it does not count.
    elapsed = timeLoop(calls);
  }

  while (elapsed < minRunMs && calls < MAX_CALLS_PER_RUN) {
    // Aim for the target, but grow at least twofold and at most tenfold per
    // step: an early run before a JIT compiles the loop is slow, and a run
    // shorter than the clock's resolution reads as 0 ms.
    const estimate = elapsed > 0 ? Math.ceil((calls * minRunMs) / elapsed) : 10 * calls;
    calls = Math.min(MAX_CALLS_PER_RUN, Math.max(2 * calls, Math.min(10 * calls, estimate)));
    elapsed = timeLoop(calls);
  }
  return calls;
}

function newSamples(runs: number): RunSamples {
  return { ms: new Float64Array(runs), meter: new Float64Array(runs) };
}

function summarize(samples: RunSamples, callsPerRun: number, hooks: BenchHooks): Timing {
  const runMs = Array.from(samples.ms);
  return {
    medianMs: median(runMs),
    runMs,
    callsPerRun,
    meter: hooks.takeMeter !== undefined ? median(Array.from(samples.meter)) : null,
  };
}

/**
 * Times each operator alone with invokeOperator(). The inputs are set again
 * first, and the operators run in graph order, so each one reads the tensors
 * its predecessors just wrote, even where a later operator reuses their memory.
 */
function timeOperators(interpreter: BenchInterpreter, label: string, options: BenchOptions, hooks: BenchHooks): OperatorTiming[] {
  fillInputs(interpreter);
  const operators = interpreter.operators;
  const timings: OperatorTiming[] = [];
  for (let index = 0; index < operators.length; index++) {
    const operator = operators[index];
    hooks.progress(`${label} operator ${index + 1}/${operators.length} (${operator.name})`);
    const loop: CallLoop = (calls) => {
      for (let call = 0; call < calls; call++) interpreter.invokeOperator(index);
    };
    const callsPerRun = calibrate(loop, hooks, options.operatorMinRunMs);
    const samples = newSamples(options.runs);
    for (let run = 0; run < options.runs; run++) {
      timeRun(loop, callsPerRun, hooks, samples, run);
    }
    timings.push({ index, name: operator.name, macs: operator.macs, timing: summarize(samples, callsPerRun, hooks) });
  }
  return timings;
}

/** The measured kernel set, and the output bytes of its first invoke on the benchmark inputs. */
export interface KernelSetMeasurement {
  result: KernelSetResult;
  outputs: Uint8Array[];
}

/**
 * Measures an interpreter of kernel set `kernels`: one warm-up, then
 * `options.runs` timed runs of invoke(), the allocations of invoke() when the
 * engine can count them, and per-operator timings when requested.
 */
export function measureKernelSet(
  kernels: KernelSet,
  interpreter: BenchInterpreter,
  options: BenchOptions,
  hooks: BenchHooks,
): KernelSetMeasurement {
  const label = `${options.label}: ${kernels}`;
  fillInputs(interpreter);

  // The first invoke starts the warm-up and provides the outputs to compare.
  hooks.progress(`${label} warm-up`);
  const start = hooks.now();
  interpreter.invoke();
  const firstCallMs = hooks.now() - start;
  const outputs = interpreter.outputs.map((output) => output.bytes.slice());
  const loop: CallLoop = (calls) => {
    for (let call = 0; call < calls; call++) interpreter.invoke();
  };
  const callsPerRun = calibrate(loop, hooks, options.minRunMs, firstCallMs);

  // Timed runs. Later invokes read inputs that earlier operators may have
  // overwritten, which is harmless because the kernels' run time does not
  // depend on the values.
  const counter = hooks.allocationCounter;
  const samples = newSamples(options.runs);
  let allocations: AllocationReport | null = null;
  for (let run = 0; run < options.runs; run++) {
    hooks.progress(`${label} run ${run + 1}/${options.runs}`);
    const isLastRun = run === options.runs - 1;
    if (counter !== undefined && counter.exact && isLastRun) {
      allocations = counter.count((calls) => timeRun(loop, calls, hooks, samples, run), callsPerRun);
    } else {
      timeRun(loop, callsPerRun, hooks, samples, run);
    }
  }
  if (counter !== undefined && !counter.exact) {
    hooks.progress(`${label} allocation count`);
    allocations = counter.count(loop, callsPerRun);
  }
  const invoke = summarize(samples, callsPerRun, hooks);

  const operators = options.perOperator ? timeOperators(interpreter, label, options, hooks) : null;
  return {
    result: {
      kernels,
      macs: interpreter.macs,
      operatorCount: interpreter.operators.length,
      arenaBytes: interpreter.arenaBytes,
      persistentBytes: interpreter.persistentBytes,
      invoke,
      meterPerMac: invoke.meter !== null && interpreter.macs > 0 ? invoke.meter / interpreter.macs : null,
      allocations,
      operators,
    },
    outputs,
  };
}
