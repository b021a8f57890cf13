// Errors of the command-line tools, mapped to exit codes: 1 for a model,
// input, output, setup or engine limit problem, 2 for a usage mistake.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A problem with a file the user passed (missing, wrong size); exits with 1. */
export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputFileError";
  }
}

/** A problem with an --output file (its folder is missing, it is a folder, a write failed); exits with 1. */
export class OutputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputFileError";
  }
}

/**
 * A part of the microq installation that is missing, such as dist/microq.js or the XS
 * programs that npm install builds; exits with 1. The message names the missing file and
 * the command that creates it.
 */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

/** A model run on XS or QuickJS that exceeded its time limit; exits with 1. */
export class EngineTimeoutError extends Error {
  /** Engine name for messages: "XS" or "QuickJS". */
  readonly engine: string;
  readonly timeoutMs: number;

  constructor(engine: string, timeoutMs: number) {
    super(`the ${engine} run timed out after ${timeoutMs} ms; the model may be too large to run on ${engine} in that time`);
    this.name = "EngineTimeoutError";
    this.engine = engine;
    this.timeoutMs = timeoutMs;
  }
}

/** A model run on QuickJS that allocated more than its memory limit; exits with 1. */
export class EngineMemoryError extends Error {
  readonly engine: string;
  readonly memoryLimitBytes: number;

  constructor(engine: string, memoryLimitBytes: number) {
    super(
      `the ${engine} run ran out of memory: it allocated more than its limit of ${memoryLimitBytes} bytes; ` +
        `the model may be too large to run on ${engine}`,
    );
    this.name = "EngineMemoryError";
    this.engine = engine;
    this.memoryLimitBytes = memoryLimitBytes;
  }
}
