// microq bench: invoke time, XS meter, memory and allocations of a model on
// one engine, for microq's kernels and for the naive TFLM reference ports
// run in the same engine process, with the speedup between them. For a
// model that the int8-only ports cannot prepare, such as a uint8 PyTorch
// model, it reports microq's figures alone.

import { ParsedArgs, singleValue } from "../args.js";
import { loadBundle } from "../bundle.js";
import { UsageError } from "../cli_errors.js";
import { readBinaryFile } from "../model_files.js";
import { formatBenchReport } from "../bench/format.js";
import { ProgressReporter } from "../bench/progress.js";
import { DEFAULT_RUNS, benchModelOn, isBenchEngine } from "../bench/run_bench.js";

export const BENCH_USAGE = "microq bench MODEL.tflite [--engine node|xs|quickjs] [--runs N] [--per-op] [--json]";

/** Maximum timed runs, because each run of a large model on XS lasts seconds. */
const MAX_RUNS = 1000;

export const BENCH_HELP = `usage: ${BENCH_USAGE}

Measures the invoke time, memory and allocations of the model with microq's kernels and with
the naive TFLite Micro reference ports, in one process of the engine, and the speedup
between them. On XS it also reports the XS meter. The reference ports take int8 models only;
for other models the naive figures read n/a.

options:
  --engine NAME   node (the default), xs (microq-xs-host) or quickjs (QuickJS compiled to WebAssembly)
  --runs N        timed runs of each measurement, 1 to ${MAX_RUNS} (default ${DEFAULT_RUNS})
  --per-op        also time each operator on its own
  --json          print the report as JSON`;

function parseRuns(text: string): number {
  const runs = Number(text);
  if (!/^[0-9]+$/.test(text) || runs < 1 || runs > MAX_RUNS) {
    throw new UsageError(`--runs must be a whole number from 1 to ${MAX_RUNS}, got "${text}"`);
  }
  return runs;
}

export async function benchCommand(args: ParsedArgs): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError(`bench takes one model file\nusage: ${BENCH_USAGE}`);
  const engine = singleValue(args, "engine", "node");
  if (!isBenchEngine(engine)) throw new UsageError(`--engine must be node, xs or quickjs, got "${engine}"`);
  const runs = parseRuns(singleValue(args, "runs", String(DEFAULT_RUNS)));

  const modelPath = args.positional[0];
  const model = readBinaryFile(modelPath, "model");
  // Load on Node first, whatever the engine: it checks the model with the
  // shipped bundle and gives the clearest message.
  const microq = await loadBundle();
  new microq.Interpreter(model);

  const progress = new ProgressReporter();
  let report;
  try {
    report = await benchModelOn({
      modelPath,
      model,
      engine,
      runs,
      perOperator: args.flags.has("per-op"),
      onProgress: (message) => progress.update(message),
    });
  } finally {
    progress.finish();
  }
  process.stdout.write(args.flags.has("json") ? JSON.stringify(report, null, 2) + "\n" : formatBenchReport(report) + "\n");
}
