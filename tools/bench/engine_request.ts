// The request that a benchmark engine receives: the model, the harness options and the bundles.

import type { BenchOptions } from "../../bench/harness/types.js";
import type { BenchBundles } from "./bundles.js";

export interface EngineBenchRequest {
  /** Contents of the .tflite file. */
  model: Uint8Array;
  /** Path of the same file, for engines that run in a Node child process and read it themselves. */
  modelPath: string;
  options: BenchOptions;
  /** Paths of the bundles to load. */
  bundlePaths: BenchBundles;
  /** Receives each progress message of the harness. */
  onProgress?: (message: string) => void;
}
