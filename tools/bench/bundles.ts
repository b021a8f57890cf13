// The three bundles a benchmark loads into an engine: the runtime as it
// ships, the runtime with the naive baseline kernels, and the harness.

import { createHash } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BUNDLE_PATH, REPOSITORY_ROOT } from "../bundle.js";
import { readBundle } from "../xs/model-module.js";

export const NAIVE_BUNDLE_PATH = resolve(REPOSITORY_ROOT, "dist", "microq-naive.js");
export const HARNESS_BUNDLE_PATH = resolve(REPOSITORY_ROOT, "dist", "microq-bench.js");

/** Module names of the bundles inside an engine, where the generated main module imports them. */
export const BUNDLE_MODULES = {
  microq: "microq.js",
  naive: "microq-naive.js",
  harness: "microq-bench.js",
} as const;

/** Paths of the three bundle files, or their sources, by role. */
export interface BenchBundles {
  microq: string;
  naive: string;
  harness: string;
}

/** The bundles that npm run build writes to dist/. */
export const DIST_BUNDLE_PATHS: BenchBundles = {
  microq: BUNDLE_PATH,
  naive: NAIVE_BUNDLE_PATH,
  harness: HARNESS_BUNDLE_PATH,
};

/** Reads the source of the three bundles, or throws a SetupError naming npm install when one is missing. */
export function readBenchBundles(paths: BenchBundles = DIST_BUNDLE_PATHS): BenchBundles {
  return {
    microq: readBundle(paths.microq),
    naive: readBundle(paths.naive),
    harness: readBundle(paths.harness),
  };
}

/**
 * Copies the dist/ bundles into `folder` and returns the copies' paths, so
 * that a series of benchmarks measures one build even if dist/ is rebuilt
 * meanwhile. The copies end in .mjs because a folder without package.json
 * gives .js files to Node as CommonJS.
 */
export function snapshotBenchBundles(folder: string): BenchBundles {
  readBenchBundles();
  const copies: BenchBundles = {
    microq: join(folder, "microq.mjs"),
    naive: join(folder, "microq-naive.mjs"),
    harness: join(folder, "microq-bench.mjs"),
  };
  copyFileSync(DIST_BUNDLE_PATHS.microq, copies.microq);
  copyFileSync(DIST_BUNDLE_PATHS.naive, copies.naive);
  copyFileSync(DIST_BUNDLE_PATHS.harness, copies.harness);
  return copies;
}

/** Returns the first 12 hex digits of the SHA-256 of each bundle, which identify the build measured. */
export function bundleDigests(paths: BenchBundles): BenchBundles {
  const sources = readBenchBundles(paths);
  const digest = (source: string) => createHash("sha256").update(source).digest("hex").slice(0, 12);
  return { microq: digest(sources.microq), naive: digest(sources.naive), harness: digest(sources.harness) };
}
