// Loads the rollup bundle dist/microq.js, the same module that XS and
// QuickJS run, so that host tools exercise exactly what ships.

import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SetupError } from "./cli_errors.js";

export type Microq = typeof import("../runtime/index.js");

/** Repository root: build/tools/bundle.js is two levels below it. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const BUNDLE_PATH = resolve(REPOSITORY_ROOT, "dist", "microq.js");

let cached: Promise<Microq> | undefined;

export function loadBundle(): Promise<Microq> {
  if (!existsSync(BUNDLE_PATH)) {
    throw new SetupError(`runtime bundle not found at ${BUNDLE_PATH}; run npm install in ${REPOSITORY_ROOT} to build it`);
  }
  cached ??= import(pathToFileURL(BUNDLE_PATH).href) as Promise<Microq>;
  return cached;
}
