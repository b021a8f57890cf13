// Error classes of the runtime. Each message names the table, field, tensor,
// operator or byte offset at fault and what to do about it.

/** Base class of every error the runtime throws on purpose. */
export class MicroqError extends Error {
  /** Stable machine-readable code, for tools that branch on the error kind. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = "MicroqError";
  }
}

/** The model file is malformed: truncated, out-of-range offsets, inconsistent shapes. */
export class InvalidModelError extends MicroqError {
  constructor(message: string) {
    super("INVALID_MODEL", message);
    this.name = "InvalidModelError";
  }
}

/** The model is well formed but uses operators, types or options this runtime lacks. */
export class UnsupportedError extends MicroqError {
  /** One entry per unsupported operator when the error covers a whole model. */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = []) {
    super("UNSUPPORTED", message);
    this.name = "UnsupportedError";
    this.problems = problems;
  }
}

/** An input tensor given to the interpreter has the wrong type or size. */
export class InvalidInputError extends MicroqError {
  constructor(message: string) {
    super("INVALID_INPUT", message);
    this.name = "InvalidInputError";
  }
}

/** A caller-supplied arena is smaller than the memory plan needs. */
export class ArenaTooSmallError extends MicroqError {
  constructor(message: string) {
    super("ARENA_TOO_SMALL", message);
    this.name = "ArenaTooSmallError";
  }
}
