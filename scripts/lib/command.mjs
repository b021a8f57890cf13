// Helpers shared by setup.mjs and build.mjs: run a program and stop with a one-line error.
import { spawnSync } from "node:child_process";
import path from "node:path";

/** Prints `prefix: message` to stderr and exits with status 1. */
export function exitWithError(prefix, message) {
  console.error(`${prefix}: ${message}`);
  process.exit(1);
}

/**
 * Runs `program` with `args`, streaming its output, and returns the time it took in seconds.
 * Exits the process with a one-line error naming `step` and `hint` when the program is
 * missing, cannot start, is killed or exits with a nonzero status.
 */
export function runStep(prefix, step, program, args, { cwd, hint }) {
  const start = performance.now();
  const result = spawnSync(program, args, { cwd, stdio: "inherit" });
  const name = path.basename(program);

  if (result.error) {
    if (result.error.code === "ENOENT") {
      exitWithError(prefix, `${step} failed: ${name} not found (${program}). ${hint}`);
    }
    exitWithError(prefix, `${step} failed: could not start ${name}: ${result.error.message}. ${hint}`);
  }
  if (result.signal) {
    exitWithError(prefix, `${step} failed: ${name} was killed by ${result.signal}. ${hint}`);
  }
  if (result.status !== 0) {
    exitWithError(prefix, `${step} failed: ${name} exited with status ${result.status}. ${hint}`);
  }
  return (performance.now() - start) / 1000;
}
