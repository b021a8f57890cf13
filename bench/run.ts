// npm run bench: benchmarks the TFLM fixture models and the uint8 PyTorch
// digits models on XS, Node and QuickJS, microq's kernels against the naive
// TFLM reference ports in the same engine process, prints summary tables
// and writes bench/results/latest.json. The naive baseline takes int8 only,
// so the digits models get microq's figures without a comparison.
//
// The TFLM models sit beside the repository, in
// ../shared/fixtures/tflm/models, and the digits models in
// examples/pytorch-digits. Each model runs in one process per engine,
// one after the other, so that two measurements never share the CPU. All
// runs load copies of the dist/ bundles taken at the start, so that a
// rebuild during the benchmark cannot mix two builds in one results file.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { REPOSITORY_ROOT } from "../tools/bundle.js";
import { BenchBundles, bundleDigests, snapshotBenchBundles } from "../tools/bench/bundles.js";
import { formatBenchSummary } from "../tools/bench/format.js";
import { ProgressReporter } from "../tools/bench/progress.js";
import { BenchEngine, BenchReport } from "../tools/bench/report.js";
import { DEFAULT_RUNS, benchModelOn } from "../tools/bench/run_bench.js";
import { readBinaryFile } from "../tools/model_files.js";

const TFLM_MODELS_FOLDER = resolve(REPOSITORY_ROOT, "..", "shared", "fixtures", "tflm", "models");
const DIGITS_FOLDER = resolve(REPOSITORY_ROOT, "examples", "pytorch-digits");
const MODEL_PATHS = [
  ...["hello_world_int8", "micro_speech_quantized", "person_detect", "keyword_scrambled_8bit", "trained_lstm_int8", "dtln_noise_suppression"].map(
    (name) => resolve(TFLM_MODELS_FOLDER, `${name}.tflite`),
  ),
  ...["qnnpack-qnnpack", "onednn-onednn", "onednn-fbgemm"].map((name) => resolve(DIGITS_FOLDER, `${name}.tflite`)),
];
const ENGINES: readonly BenchEngine[] = ["xs", "node", "quickjs"];
const RESULTS_FILE = resolve(REPOSITORY_ROOT, "bench", "results", "latest.json");

/** Contents of bench/results/latest.json. */
interface BenchResultsFile {
  /** ISO 8601 time at which the benchmark finished. */
  finishedAt: string;
  machine: { platform: string; arch: string; cpu: string; cpuCount: number; node: string };
  /** First 12 hex digits of the SHA-256 of each bundle measured. */
  bundleSha256: BenchBundles;
  runs: number;
  reports: BenchReport[];
}

async function main(): Promise<void> {
  const missing = MODEL_PATHS.find((path) => !existsSync(path));
  if (missing !== undefined) {
    const fix = missing.startsWith(DIGITS_FOLDER)
      ? "restore it from the repository (git checkout examples/pytorch-digits)"
      : "put the shared/ folder with fixtures/tflm/models beside the repository";
    throw new Error(`model ${missing} not found: ${fix}`);
  }

  const started = performance.now();
  const snapshotFolder = mkdtempSync(join(tmpdir(), "microq-bench-bundles-"));
  const progress = new ProgressReporter();
  const reports: BenchReport[] = [];
  let digests: BenchBundles;
  try {
    const bundlePaths = snapshotBenchBundles(snapshotFolder);
    digests = bundleDigests(bundlePaths);
    for (const engine of ENGINES) {
      for (const modelPath of MODEL_PATHS) {
        reports.push(
          await benchModelOn({
            modelPath,
            model: readBinaryFile(modelPath, "model"),
            engine,
            runs: DEFAULT_RUNS,
            perOperator: true,
            bundlePaths,
            onProgress: (message) => progress.update(message),
          }),
        );
      }
    }
  } finally {
    progress.finish();
    rmSync(snapshotFolder, { recursive: true, force: true });
  }

  const cpuList = cpus();
  const results: BenchResultsFile = {
    finishedAt: new Date().toISOString(),
    machine: {
      platform: platform(),
      arch: arch(),
      cpu: cpuList[0]?.model ?? "unknown",
      cpuCount: cpuList.length,
      node: process.version,
    },
    bundleSha256: digests,
    runs: DEFAULT_RUNS,
    reports,
  };
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");

  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${formatBenchSummary(reports)}\n\n` +
      `${results.machine.cpu}, ${results.machine.cpuCount} CPUs, Node ${results.machine.node}; ` +
      `${MODEL_PATHS.length} models on ${ENGINES.join(", ")} in ${seconds.toFixed(0)} s; ` +
      `wrote ${relative(process.cwd(), RESULTS_FILE)}\n`,
  );
}

try {
  await main();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`microq bench: ${message.split("\n")[0]}\n`);
  process.exitCode = 1;
}
