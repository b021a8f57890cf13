// Errors of the command-line tools, mapped to exit codes: 1 for a model or
// input problem, 2 for a usage mistake.

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
