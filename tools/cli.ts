// microq command-line interface. Exit codes: 0 success, 1 a model or input
// error (one line on stderr), 2 a usage error.

import { parseArgs } from "./args.js";
import { InputFileError, UsageError } from "./cli_errors.js";
import { BENCH_USAGE, benchCommand } from "./commands/bench.js";
import { COMPARE_USAGE, compareCommand } from "./commands/compare.js";
import { INSPECT_USAGE, inspectCommand } from "./commands/inspect.js";
import { RUN_USAGE, runCommand } from "./commands/run.js";

const USAGE = `usage:
  ${RUN_USAGE}
  ${INSPECT_USAGE}
  ${COMPARE_USAGE}
  ${BENCH_USAGE}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        await runCommand(parseArgs(rest, ["input", "output", "engine"], []));
        return 0;
      case "inspect":
        await inspectCommand(parseArgs(rest, [], ["json"]));
        return 0;
      case "compare":
        await compareCommand(parseArgs(rest, ["input", "dumps"], ["json"]));
        return 0;
      case "bench":
        await benchCommand(parseArgs(rest, ["engine", "runs"], ["json", "per-op"]));
        return 0;
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return 0;
      case undefined:
        throw new UsageError("missing command");
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`microq: ${error.message}\n${error.message.includes("usage:") ? "" : USAGE + "\n"}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  const oneLine = message.split("\n")[0];
  if (error instanceof InputFileError || (error instanceof Error && typeof (error as { code?: unknown }).code === "string")) {
    process.stderr.write(`microq: ${oneLine}\n`);
    return 1;
  }
  // Anything else is a bug in microq, still reported on one line.
  process.stderr.write(`microq: internal error: ${oneLine}; please report it with the model file\n`);
  return 1;
}
