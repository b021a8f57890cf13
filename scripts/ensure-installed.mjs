// Makes `npm test`, `npm run demo` and `npm run bench` work on a fresh clone:
// runs `npm install` when node_modules is missing or older than
// package-lock.json (its postinstall builds XS and microq), and otherwise
// rebuilds only what changed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { runStep } from "./lib/command.mjs";
import { modificationTime } from "./lib/files.mjs";

const PREFIX = "microq";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const installedLock = path.join(root, "node_modules", ".package-lock.json");
const lock = path.join(root, "package-lock.json");

const installedTime = modificationTime(installedLock);
const lockTime = modificationTime(lock);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

if (installedTime === undefined || (lockTime !== undefined && lockTime > installedTime) || !fs.existsSync(path.join(root, "dist", "microq.js"))) {
  console.log(`${PREFIX}: installing dependencies and building (npm install)`);
  runStep(PREFIX, "npm install", npm, ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    hint: "Check that the npm registry is reachable, then run npm install by hand to see the full error.",
  });
} else {
  // setup.mjs rebuilds the XS programs when their C sources changed, then runs build.mjs --if-stale.
  runStep(PREFIX, "setup", process.execPath, [path.join(root, "scripts", "setup.mjs")], {
    cwd: root,
    hint: "Fix the compile error shown above.",
  });
}
