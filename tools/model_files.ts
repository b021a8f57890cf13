// Reading model and tensor files for the command-line tools, with errors
// that name the file and what to do.

import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { InputFileError } from "./cli_errors.js";

/** Files larger than this are rejected before reading; no microcontroller model comes close. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** Read size for files whose length stat cannot give, such as /dev/stdin and FIFOs. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a whole model or tensor file. Regular files, character devices and FIFOs are
 * accepted, so /dev/stdin and a shell's process substitution work. A socket is accepted when
 * the path names an open file descriptor (/dev/stdin, /dev/fd/N, /proc/self/fd/N), because
 * Node's child_process gives a child a socket as stdin. Throws InputFileError when the file
 * is missing, a folder or another kind of file, or over MAX_FILE_BYTES.
 */
export function readBinaryFile(path: string, role: string): Uint8Array {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new InputFileError(`${role} ${path} not found or not readable (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path`);
  }
  if (stat.isDirectory()) throw new InputFileError(`${role} ${path} is a folder; pass a file path`);

  try {
    if (stat.isFile()) {
      if (stat.size > MAX_FILE_BYTES) throw tooLarge(path, role, `is ${stat.size} bytes`);
      const data = readFileSync(path);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    if (stat.isCharacterDevice() || stat.isFIFO()) return readStream(path, role, null);
    const descriptor = openDescriptor(path);
    if (stat.isSocket() && descriptor !== null) return readStream(path, role, descriptor);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw new InputFileError(`${role} ${path} could not be read (${(error as NodeJS.ErrnoException).code ?? "error"}); check the path`);
  }
  throw new InputFileError(`${role} ${path} is not a regular file, character device, FIFO or standard input; pass a file path`);
}

/** Returns the error for a file over MAX_FILE_BYTES; `size` is "is N bytes" or "has more bytes". */
function tooLarge(path: string, role: string, size: string): InputFileError {
  return new InputFileError(`${role} ${path} ${size}, over the ${MAX_FILE_BYTES}-byte limit; pass a microcontroller-sized file`);
}

const STANDARD_STREAMS: ReadonlyMap<string, number> = new Map([
  ["/dev/stdin", 0],
  ["/dev/stdout", 1],
  ["/dev/stderr", 2],
]);

/** Returns the file descriptor that a path such as /dev/stdin or /dev/fd/3 names, or null for other paths. */
export function openDescriptor(path: string): number | null {
  const standard = STANDARD_STREAMS.get(path);
  if (standard !== undefined) return standard;
  const match = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(path);
  return match === null ? null : Number(match[1]);
}

/**
 * Reads a device, FIFO or socket until end of file, stopping with an error past
 * MAX_FILE_BYTES (for example on /dev/zero). A socket cannot be opened by path on Linux,
 * so it is read through `descriptor`, the one this process already has, which stays open.
 */
function readStream(path: string, role: string, descriptor: number | null): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buffer = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
  const fd = descriptor ?? openSync(path, "r");
  try {
    for (;;) {
      const count = readSync(fd, buffer, 0, buffer.length, null);
      if (count === 0) break;
      total += count;
      if (total > MAX_FILE_BYTES) throw tooLarge(path, role, "has more bytes");
      // A read from a pipe often returns much less than the buffer, so each read is copied out at its own size.
      chunks.push(Buffer.from(buffer.subarray(0, count)));
    }
  } finally {
    if (descriptor === null) closeSync(fd);
  }
  const data = Buffer.concat(chunks, total);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
