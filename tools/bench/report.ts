// The result of one benchmark: a model on one engine, microq against the
// naive baseline, as `microq bench --json` prints it and
// bench/results/latest.json stores it.

import type { ModelBenchResult } from "../../bench/harness/types.js";

export type BenchEngine = "node" | "xs" | "quickjs";

export const BENCH_ENGINES: readonly BenchEngine[] = ["node", "xs", "quickjs"];

export interface BenchReport extends ModelBenchResult {
  /** Model file name without the .tflite extension. */
  model: string;
  modelPath: string;
  engine: BenchEngine;
  /** Timed runs per kernel set. Each figure is the median over them. */
  runs: number;
  perOperator: boolean;
  /** Shortest timed run of whole invokes, in ms. */
  minRunMs: number;
  /** Shortest timed run of one operator, in ms. */
  operatorMinRunMs: number;
  /** Reason that `allocations` is null on this engine, or null when allocations were counted. */
  allocationsNote: string | null;
}
