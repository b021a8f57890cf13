// microq command-line interface. Exit codes: 0 success, 1 a model, input,
// output or setup error (one line on stderr), 2 a usage error or, for
// convert, an ONNX node that cannot be converted.

import { parseArgs } from "./args.js";
import {
  EngineMemoryError,
  EngineTimeoutError,
  InputFileError,
  OutputFileError,
  SetupError,
  UsageError,
} from "./cli_errors.js";
import { BENCH_HELP, BENCH_USAGE, benchCommand } from "./commands/bench.js";
import { COMPARE_HELP, COMPARE_USAGE, compareCommand } from "./commands/compare.js";
import { CONVERT_HELP, CONVERT_USAGE, convertCommand, parseConvertArgs } from "./commands/convert.js";
import { INSPECT_HELP, INSPECT_USAGE, inspectCommand } from "./commands/inspect.js";
import { RUN_HELP, RUN_USAGE, runCommand } from "./commands/run.js";
import { escapeControlCharacters } from "./text.js";

const USAGE = `usage:
  ${RUN_USAGE}
  ${INSPECT_USAGE}
  ${COMPARE_USAGE}
  ${BENCH_USAGE}
  ${CONVERT_USAGE}
Run "microq COMMAND --help" for the options of a command.`;

/** Help text of each command, printed by "microq COMMAND --help" and "microq help COMMAND". */
const COMMAND_HELP: ReadonlyMap<string, string> = new Map([
  ["run", RUN_HELP],
  ["inspect", INSPECT_HELP],
  ["compare", COMPARE_HELP],
  ["bench", BENCH_HELP],
  ["convert", CONVERT_HELP],
]);

function isHelpOption(arg: string): boolean {
  return arg === "--help" || arg === "-h";
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const help = command === undefined ? undefined : COMMAND_HELP.get(command);
    if (help !== undefined && rest.some(isHelpOption)) {
      process.stdout.write(help + "\n");
      return 0;
    }
    switch (command) {
      case "run":
        await runCommand(parseArgs(rest, ["input", "output", "engine"], []));
        return 0;
      case "inspect":
        await inspectCommand(parseArgs(rest, [], ["json", "moddable"]));
        return 0;
      case "compare":
        await compareCommand(parseArgs(rest, ["input", "dumps"], ["json"]));
        return 0;
      case "bench":
        await benchCommand(parseArgs(rest, ["engine", "runs"], ["json", "per-op"]));
        return 0;
      case "convert":
        return await convertCommand(parseConvertArgs(rest));
      case "help":
      case "--help":
      case "-h":
        return printHelp(rest);
      case undefined:
        throw new UsageError("missing command");
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return reportError(error);
  }
}

/** Prints the general usage, or with one command name, that command's help. */
function printHelp(args: readonly string[]): number {
  if (args.length === 0) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const help = args.length === 1 ? COMMAND_HELP.get(args[0]) : undefined;
  if (help !== undefined) {
    process.stdout.write(help + "\n");
    return 0;
  }
  throw new UsageError(`help takes one command name (run, inspect, compare, bench or convert), got "${args.join(" ")}"`);
}

/** Errors that are the user's or the installation's to fix, reported on one line without the "internal error" label. */
const EXPECTED_ERRORS = [InputFileError, OutputFileError, SetupError, EngineTimeoutError, EngineMemoryError];

/** Returns the exit code of a failed command and the text for stderr, one line except for usage errors. */
export function describeError(error: unknown): { exitCode: number; text: string } {
  if (error instanceof UsageError) {
    const message = error.message.split("\n").map(escapeControlCharacters).join("\n");
    return { exitCode: 2, text: `microq: ${message}\n${message.includes("usage:") ? "" : USAGE + "\n"}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  // Messages can contain tensor names from the model file, so control characters are escaped.
  const oneLine = escapeControlCharacters(message.split("\n")[0]);
  const hasErrorCode = error instanceof Error && typeof (error as { code?: unknown }).code === "string";
  if (EXPECTED_ERRORS.some((errorClass) => error instanceof errorClass) || hasErrorCode) {
    return { exitCode: 1, text: `microq: ${oneLine}\n` };
  }
  // Anything else is a bug in microq, still reported on one line.
  return { exitCode: 1, text: `microq: internal error: ${oneLine}; please report it with the model file\n` };
}

function reportError(error: unknown): number {
  const { exitCode, text } = describeError(error);
  process.stderr.write(text);
  return exitCode;
}
