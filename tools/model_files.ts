// Reading model and tensor files for the command-line tools, with errors
// that name the file and what to do.

import { readFileSync, statSync } from "node:fs";
import { InputFileError } from "./cli_errors.js";

/** Files larger than this are rejected before reading; no microcontroller model comes close. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export function readBinaryFile(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new InputFileError(`${what} ${path} is not a regular file; pass a file path`);
    size = stat.size;
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw new InputFileError(`${what} ${path} not found or not readable (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path`);
  }
  if (size > MAX_FILE_BYTES) {
    throw new InputFileError(`${what} ${path} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit; pass a microcontroller-sized file`);
  }
  const data = readFileSync(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
