// Benchmarks one model on one engine: microq's kernels against the naive
// TFLM reference ports, both in the same engine process.

import { basename } from "node:path";
import type { BenchOptions, ModelBenchResult } from "../../bench/harness/types.js";
import { benchOnNode } from "./node_engine.js";
import { QUICKJS_ALLOCATIONS_NOTE, benchOnQuickJs } from "./quickjs_engine.js";
import { BenchBundles, DIST_BUNDLE_PATHS } from "./bundles.js";
import { BENCH_ENGINES, BenchEngine, BenchReport } from "./report.js";
import { EngineBenchRequest } from "./engine_request.js";
import { benchOnXs } from "./xs_engine.js";

export const DEFAULT_RUNS = 5;

/**
 * Shortest timed run of whole invokes, in ms. A small model repeats invoke()
 * within a run until the run lasts this long, which keeps clock resolution
 * and call overhead out of its figures.
 */
export const MIN_RUN_MS = 100;

/** Shortest timed run of one operator, in ms. It is lower than MIN_RUN_MS because a model has dozens of operators. */
export const OPERATOR_MIN_RUN_MS = 10;

export interface BenchModelRequest {
  modelPath: string;
  /** Contents of the file at modelPath. */
  model: Uint8Array;
  engine: BenchEngine;
  runs: number;
  perOperator: boolean;
  /** Bundles to load. Default the ones in dist/. */
  bundlePaths?: BenchBundles;
  onProgress?: (message: string) => void;
}

export function isBenchEngine(name: string): name is BenchEngine {
  return (BENCH_ENGINES as readonly string[]).includes(name);
}

/** Returns the model's file name without the .tflite extension. */
export function modelName(modelPath: string): string {
  return basename(modelPath).replace(/\.tflite$/i, "");
}

function runOnEngine(engine: BenchEngine, request: EngineBenchRequest): Promise<ModelBenchResult> {
  switch (engine) {
    case "xs":
      return benchOnXs(request);
    case "quickjs":
      return benchOnQuickJs(request);
    case "node":
      return benchOnNode(request);
  }
}

/** Runs the benchmark in one process of the requested engine and returns its report. */
export async function benchModelOn(request: BenchModelRequest): Promise<BenchReport> {
  const name = modelName(request.modelPath);
  const options: BenchOptions = {
    label: `${name} on ${request.engine}`,
    runs: request.runs,
    perOperator: request.perOperator,
    minRunMs: MIN_RUN_MS,
    operatorMinRunMs: OPERATOR_MIN_RUN_MS,
  };
  const result = await runOnEngine(request.engine, {
    model: request.model,
    modelPath: request.modelPath,
    options,
    bundlePaths: request.bundlePaths ?? DIST_BUNDLE_PATHS,
    onProgress: request.onProgress,
  });
  return {
    model: name,
    modelPath: request.modelPath,
    engine: request.engine,
    runs: request.runs,
    perOperator: request.perOperator,
    minRunMs: MIN_RUN_MS,
    operatorMinRunMs: OPERATOR_MIN_RUN_MS,
    allocationsNote: request.engine === "quickjs" ? QUICKJS_ALLOCATIONS_NOTE : null,
    ...result,
  };
}
