// Prepares a development checkout after npm install (the postinstall script):
//   1. builds the xsnap CLI of @agoric/xsnap, which runs code on the XS engine
//      (npm 11 skips that package's own postinstall),
//   2. builds microq-xs-host (tools/xs/host), the XS host that counts heap allocations,
//   3. runs scripts/build.mjs --if-stale.
// Each step is skipped when its output is newer than its sources, so a second run is fast.
// Without @agoric/xsnap, a dev dependency, all three steps are skipped.
// The binary paths are repeated in tools/xs/paths.ts, so change both together.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { exitWithError, runStep } from "./lib/command.mjs";
import { modificationTime, newestModificationTime } from "./lib/files.mjs";

const PREFIX = "microq setup";
const MAKE_HINT = "Install make and a C compiler (gcc or clang), then run npm install again.";
const PARALLEL_JOBS = "-j2";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const xsnapPackage = path.join(root, "node_modules", "@agoric", "xsnap");
const moddable = path.join(xsnapPackage, "moddable");
const xsnapNative = path.join(xsnapPackage, "xsnap-native", "xsnap");
const xsnapMakefiles = path.join(xsnapNative, "makefiles", "lin");
const xsnapBinary = path.join(moddable, "build", "bin", "lin", "release", "xsnap");
const hostFolder = path.join(root, "tools", "xs", "host");
const hostBuildFolder = path.join(root, ".xs", "host");
const hostBinary = path.join(hostBuildFolder, "microq-xs-host");

// The C sources and headers that both XS programs are compiled from.
const engineSources = [
  path.join(moddable, "xs", "sources"),
  path.join(moddable, "xs", "includes"),
  path.join(moddable, "xs", "platforms"),
  path.join(moddable, "modules", "data", "base64"),
  path.join(moddable, "modules", "data", "text"),
  path.join(xsnapNative, "sources"),
];

/** Returns whether `binary` is missing or older than a file or folder under `sources`. */
function isOutdated(binary, sources) {
  const binaryTime = modificationTime(binary);
  return binaryTime === undefined || newestModificationTime(sources) > binaryTime;
}

/**
 * Runs make to build `binary` and reports whether it was rebuilt. The source folders also
 * contain files that the makefile does not use, and when only those changed, make leaves
 * the binary as it was. Its time is then set to now, so that later runs skip make.
 */
function make(step, binary, args, cwd) {
  const timeBefore = modificationTime(binary);
  const seconds = runStep(PREFIX, step, "make", [PARALLEL_JOBS, ...args], { cwd, hint: MAKE_HINT });
  const relativePath = path.relative(root, binary);
  const timeAfter = modificationTime(binary);

  if (timeAfter === undefined) {
    exitWithError(PREFIX, `${step} failed: make succeeded but ${binary} is missing. ${MAKE_HINT}`);
  }
  if (timeAfter === timeBefore) {
    const now = new Date();
    fs.utimesSync(binary, now, now);
    console.log(`${PREFIX}: ${relativePath} is up to date`);
  } else {
    console.log(`${PREFIX}: built ${relativePath} in ${seconds.toFixed(1)} s`);
  }
}

function buildXsnap() {
  if (isOutdated(xsnapBinary, [...engineSources, xsnapMakefiles])) {
    make("build of the xsnap CLI", xsnapBinary, ["-f", "xsnap.mk", "GOAL=release", `MODDABLE=${moddable}`], xsnapMakefiles);
  }
}

function buildHost() {
  if (isOutdated(hostBinary, [...engineSources, hostFolder])) {
    const makefile = path.join(hostFolder, "host.mk");
    make("build of microq-xs-host", hostBinary, ["-s", "-f", makefile, `XSNAP=${xsnapPackage}`, `BUILD_DIR=${hostBuildFolder}`], root);
  }
}

if (!fs.existsSync(path.join(moddable, "xs", "sources"))) {
  // An install of microq as a package has no dev dependencies, and its dist/ and build/
  // folders ship in the package, so there is nothing to build.
  console.log(
    `${PREFIX}: skipped the XS builds and the TypeScript build because @agoric/xsnap is not installed ` +
      `(no dev dependencies); for development, run npm install in ${root}`,
  );
  process.exit(0);
}
if (process.platform === "linux") {
  buildXsnap();
  buildHost();
} else {
  // @agoric/xsnap 0.15.0 ships makefiles for Linux only.
  console.warn(`${PREFIX}: skipped the XS builds because they need Linux, so the XS tests will fail on ${process.platform}`);
}
runStep(PREFIX, "build", process.execPath, [path.join(root, "scripts", "build.mjs"), "--if-stale"], {
  cwd: root,
  hint: "Fix the errors printed above, then run npm install again.",
});
