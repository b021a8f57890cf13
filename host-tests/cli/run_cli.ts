// Runs the microq command line in a child process for the CLI tests, and
// checks the one-line error format.

import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { resolve } from "node:path";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";

export const CLI = resolve(REPOSITORY_ROOT, "bin", "microq.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/microq.js (or `cli`) with `args`; `options` can set stdin, uid or cwd. */
export function runCli(args: readonly string[], options: SpawnSyncOptions = {}, cli = CLI): CliResult {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export function microq(...args: string[]): CliResult {
  return runCli(args);
}

/** Asserts exit status 1 with exactly one line on stderr that matches `pattern`, and no stack trace. */
export function assertOneLineError(result: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.is(result.status, 1, `exit status; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, `one stderr line, got: ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.not.match(result.stderr, /\n\s+at /, "no stack trace");
}
