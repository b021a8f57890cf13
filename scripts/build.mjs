// Builds microq: type-checks the device code, compiles the host code to build/, compiles the
// examples' device code to build/device/ and bundles runtime/index.ts into dist/microq.js
// (plus the benchmark bundles).
//
// Usage: node scripts/build.mjs [--if-stale]
//   --if-stale  skip the build when no .ts file, folder containing one, or build configuration
//               file changed since the last successful build
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { exitWithError, runStep } from "./lib/command.mjs";
import { modificationTime, newestModificationTime } from "./lib/files.mjs";

const PREFIX = "microq build";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "node_modules", ".bin");
const bundles = ["microq.js", "microq-naive.js", "microq-bench.js"].map((name) => path.join(root, "dist", name));
// Written after every successful build, because tsc leaves the build/ folder's own time unchanged.
const buildStamp = path.join(root, "build", ".built");

const CONFIG_FILES = new Set(["tsconfig.json", "tsconfig.node.json", "tsconfig.examples.json", "rollup.config.js", "package.json"]);
const SKIPPED_FOLDERS = ["node_modules", ".git", "build", "dist", ".xs"];

function isBuildInput(file) {
  return file.endsWith(".ts") || (path.dirname(file) === root && CONFIG_FILES.has(path.basename(file)));
}

/** Returns whether a source or configuration file is newer than any bundle in dist/ or the build stamp. */
function isStale() {
  const bundleTimes = bundles.map(modificationTime);
  const bundleTime = bundleTimes.includes(undefined) ? undefined : Math.min(...bundleTimes);
  const stampTime = modificationTime(buildStamp);
  if (bundleTime === undefined || stampTime === undefined) {
    return true;
  }
  const newestInput = newestModificationTime([root], { accept: isBuildInput, skip: SKIPPED_FOLDERS });
  return newestInput > Math.min(bundleTime, stampTime);
}

function build() {
  const options = { cwd: root, hint: "Fix the errors printed above, then run npm run build." };
  const tsc = path.join(bin, "tsc");
  const rollup = path.join(bin, "rollup");

  const checkSeconds = runStep(PREFIX, "type check of runtime/ and kernels/", tsc, ["-p", "tsconfig.json"], options);
  const compileSeconds = runStep(PREFIX, "compile of host code to build/", tsc, ["-p", "tsconfig.node.json"], options);
  // Device code of the examples (main.ts and device/), checked against @moddable/typings and
  // compiled to build/device/ for the host simulation (tools/sim).
  const deviceSeconds = runStep(PREFIX, "compile of device examples to build/device/", tsc, ["-p", "tsconfig.examples.json"], options);
  const bundleSeconds = runStep(PREFIX, "bundles in dist/", rollup, ["-c"], options);

  fs.mkdirSync(path.dirname(buildStamp), { recursive: true });
  fs.writeFileSync(buildStamp, `${new Date().toISOString()}\n`);
  console.log(
    `${PREFIX}: type check ${checkSeconds.toFixed(1)} s, compile ${compileSeconds.toFixed(1)} s, ` +
      `device examples ${deviceSeconds.toFixed(1)} s, ` +
      `bundle ${bundleSeconds.toFixed(1)} s`,
  );
}

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== "--if-stale");
if (unknown.length > 0) {
  exitWithError(PREFIX, `unknown argument ${unknown[0]}: the only option is --if-stale`);
}
if (!fs.existsSync(path.join(bin, "tsc"))) {
  exitWithError(PREFIX, `TypeScript not found in ${bin}: run npm install in ${root}`);
}

if (args.includes("--if-stale") && !isStale()) {
  console.log(`${PREFIX}: dist/ and build/ are up to date`);
} else {
  build();
}
