// Types shared by the benchmark harness, which runs inside each engine, and
// the host tools that start the engines and print the results.

/** A writable array of numbers: any of the typed arrays behind a tensor. */
export interface NumberArray {
  readonly length: number;
  [index: number]: number;
}

/** The interpreter members that the harness uses. microq's Interpreter has all of them. */
export interface BenchInterpreter {
  readonly macs: number;
  readonly arenaBytes: number;
  readonly persistentBytes: number;
  readonly operators: ReadonlyArray<{ readonly name: string; readonly macs: number }>;
  readonly inputs: ReadonlyArray<{ readonly type: string; readonly data: NumberArray; readonly bytes: Uint8Array }>;
  readonly outputs: ReadonlyArray<{ readonly bytes: Uint8Array }>;
  invoke(): void;
  invokeOperator(index: number): void;
}

/** The two kernel sets compared: microq's kernels and the naive TFLM reference ports. */
export type KernelSet = "microq" | "naive";

/** Creates an interpreter of the benchmarked model with one kernel set. */
export type InterpreterFactory = () => BenchInterpreter;

/**
 * Heap allocations of a number of invokes. An engine fills in the fields of
 * its method: `slots` and `chunkBytes` on XS, `bytes` on V8.
 */
export interface AllocationReport {
  /** "xs-heap-counters" (exact counts) or "v8-young-generation" (bytes, with noise). */
  method: string;
  /** Invokes counted. */
  invokes: number;
  /** Whether the invokes allocated nothing, within the method's noise. */
  allocationFree: boolean;
  /** XS: slots allocated by all counted invokes together. */
  slots?: number;
  /** XS: chunk bytes taken from the heap blocks by all counted invokes together. */
  chunkBytes?: number;
  /** V8: young-generation bytes allocated by all counted invokes together. */
  bytes?: number;
  /** V8: a byte count below this, in magnitude, is measurement noise. */
  noiseBytes?: number;
  /** V8: garbage collections inside the measured loops; nonzero makes `bytes` unreliable. */
  unexpectedCollections?: number;
}

/** Counts what `run(invokes)` allocates, with the method of one engine. */
export interface AllocationCounter {
  /**
   * True when one call of `run` gives an exact count (XS), so the harness
   * may count a timed run. False when the counter calls `run` several times
   * with different counts (V8), so it needs runs of its own.
   */
  readonly exact: boolean;
  count(run: (invokes: number) => void, invokes: number): AllocationReport;
}

/** Engine services that the harness calls. Only `now` and `progress` are required. */
export interface BenchHooks {
  /** Milliseconds from a monotonic clock. */
  now(): number;
  /** XS: returns the meter units counted since the previous call and restarts the count at 0. */
  takeMeter?: () => number;
  allocationCounter?: AllocationCounter;
  /** Receives a one-line progress message, such as "person_detect on xs: naive run 3/5". */
  progress(message: string): void;
}

export interface BenchOptions {
  /** Prefix of progress messages, such as "person_detect on xs". */
  label: string;
  /** Timed runs after the warm-up. The reported time is their median. */
  runs: number;
  /** Whether to time and meter each operator on its own as well. */
  perOperator: boolean;
  /** Shortest timed run of whole invokes in ms. A run repeats invoke() until it lasts this long. */
  minRunMs: number;
  /** Shortest timed run of one operator in ms. */
  operatorMinRunMs: number;
}

/** Time and meter of one invoke, or of one operator call, as the median over the runs. */
export interface Timing {
  /** Median time of one call in ms. */
  medianMs: number;
  /** Time of one call in each run, in ms, in run order. */
  runMs: number[];
  /** Calls in each timed run. */
  callsPerRun: number;
  /** Median XS meter units of one call, or null on engines without a meter. */
  meter: number | null;
}

export interface OperatorTiming {
  index: number;
  name: string;
  macs: number;
  timing: Timing;
}

export interface KernelSetResult {
  kernels: KernelSet;
  macs: number;
  operatorCount: number;
  arenaBytes: number;
  persistentBytes: number;
  invoke: Timing;
  /** XS meter units per multiply-accumulate, or null without a meter or MACs. */
  meterPerMac: number | null;
  /** Null when the engine has no allocation counter. */
  allocations: AllocationReport | null;
  /** Null unless per-operator timing was requested. */
  operators: OperatorTiming[] | null;
}

/** How many times faster microq is than the naive baseline: naive figure / microq figure. */
export interface Speedup {
  time: number;
  /** Null on engines without a meter. */
  meter: number | null;
}

/** One operator's figures with both kernel sets. The naive fields are null when the baseline cannot prepare the model. */
export interface OperatorComparison {
  index: number;
  name: string;
  macs: number;
  microqMs: number;
  naiveMs: number | null;
  microqMeter: number | null;
  naiveMeter: number | null;
  speedup: Speedup | null;
}

/** Sums over all operators of one type. The naive fields are null when the baseline cannot prepare the model. */
export interface OperatorTypeComparison {
  name: string;
  count: number;
  macs: number;
  microqMs: number;
  naiveMs: number | null;
  microqMeter: number | null;
  naiveMeter: number | null;
  speedup: Speedup | null;
}

/**
 * Reason that the naive baseline has no figures for a model: its kernel set
 * threw an UnsupportedError while preparing the model, as it does for uint8
 * layers.
 */
export interface NaiveUnavailable {
  /** One line for the report, saying why there is no comparison. */
  reason: string;
  /** The UnsupportedError's list of operators the baseline cannot prepare, or its message when the list is empty. */
  problems: string[];
}

export interface ModelBenchResult {
  macs: number;
  operatorCount: number;
  /** Whether both kernel sets produced the same output bytes from the same inputs; null without the naive baseline. */
  outputsMatch: boolean | null;
  microq: KernelSetResult;
  /** Null when the naive baseline cannot prepare the model; `naiveUnavailable` then gives the reason. */
  naive: KernelSetResult | null;
  naiveUnavailable: NaiveUnavailable | null;
  /** Null without the naive baseline. */
  speedup: Speedup | null;
  /** Null unless per-operator timing was requested. */
  operators: OperatorComparison[] | null;
  operatorTypes: OperatorTypeComparison[] | null;
}
