// Locations of the XS programs that scripts/setup.mjs builds. setup.mjs repeats
// these paths, so change both together.
import fs from "node:fs";
import path from "node:path";

import { BUNDLE_PATH, REPOSITORY_ROOT } from "../bundle.js";
import { SetupError } from "../cli_errors.js";

/** The runtime bundle that rollup writes. */
export const defaultBundlePath = BUNDLE_PATH;

function requireProgram(file: string, description: string): string {
  if (!fs.existsSync(file)) {
    throw new SetupError(
      `${description} not found at ${file}; run npm install in ${REPOSITORY_ROOT} with dev dependencies, on Linux, to build it`,
    );
  }
  return file;
}

/** Returns the path of the xsnap CLI built from @agoric/xsnap, or throws a SetupError when it is not built. */
export function xsnapPath(): string {
  const file = path.join(
    REPOSITORY_ROOT,
    "node_modules", "@agoric", "xsnap", "moddable", "build", "bin", "lin", "release", "xsnap",
  );
  return requireProgram(file, "xsnap CLI");
}

/** Returns the path of microq-xs-host (tools/xs/host), or throws a SetupError when it is not built. */
export function xsHostPath(): string {
  return requireProgram(path.join(REPOSITORY_ROOT, ".xs", "host", "microq-xs-host"), "microq-xs-host");
}
