// Runs the host test suite with uvu and ends with one summary line,
// "N passed, M failed", that CI logs can be searched for.
//
// Usage: node scripts/test.mjs [PATTERN]   (PATTERN filters test file paths by regular expression)
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// A pattern without a "$" anchor is narrowed to test files, so that "pytorch"
// does not also pick up the .js.map files next to them.
const userPattern = process.argv[2];
const pattern = userPattern === undefined ? "\\.test\\.js$" : userPattern.endsWith("$") ? userPattern : `(?:${userPattern}).*\\.test\\.js$`;
const uvu = path.join(root, "node_modules", "uvu", "bin.js");

const child = spawn(process.execPath, [uvu, path.join(root, "build", "host-tests"), pattern], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});

let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

child.on("close", (status) => {
  // uvu prints "Total: N", "Passed: N" and "Skipped: N", with color codes.
  const plain = output.replace(/\u001b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = total - passed - skipped;
  const exitCode = status === 0 && failed === 0 && total > 0 ? 0 : 1;
  console.log(`${passed} passed, ${Math.max(failed, exitCode === 0 ? 0 : 1)} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
  process.exit(exitCode);
});
