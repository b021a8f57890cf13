// Installation faults as users meet them: a checkout without dist/ or the
// XS programs, engine time limits, the postinstall script without dev
// dependencies, and the files that the npm package ships.

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { describeError } from "../../tools/cli.js";
import { EngineMemoryError, EngineTimeoutError, SetupError } from "../../tools/cli_errors.js";
import { runModelOnQuickJs } from "../../tools/quickjs/engine.js";
import { TFLM_FIXTURES, readFixture, tflmModel } from "../fixtures.js";
import { assertOneLineError, runCli } from "./run_cli.js";

const workDir = mkdtempSync(join(tmpdir(), "microq-setup-"));

const HELLO_WORLD = resolve(TFLM_FIXTURES, "models/hello_world_int8.tflite");
const HELLO_WORLD_INPUT = resolve(TFLM_FIXTURES, "cases/hello_world_int8/rand0_in0.bin");

/**
 * Copies the compiled CLI into `root` as a checkout that has run neither the build nor the
 * XS builds: package.json, bin/ and build/{tools,runtime,kernels}, with node_modules
 * linking every installed package except @agoric/xsnap. Returns the path of bin/microq.js.
 */
function makeCheckout(root: string): string {
  mkdirSync(root);
  cpSync(join(REPOSITORY_ROOT, "package.json"), join(root, "package.json"));
  cpSync(join(REPOSITORY_ROOT, "bin"), join(root, "bin"), { recursive: true });
  for (const folder of ["tools", "runtime", "kernels"]) {
    cpSync(join(REPOSITORY_ROOT, "build", folder), join(root, "build", folder), { recursive: true });
  }
  mkdirSync(join(root, "node_modules"));
  for (const entry of readdirSync(join(REPOSITORY_ROOT, "node_modules"))) {
    if (entry === "@agoric" || entry.startsWith(".")) continue;
    symlinkSync(join(REPOSITORY_ROOT, "node_modules", entry), join(root, "node_modules", entry));
  }
  return join(root, "bin", "microq.js");
}

/** Escapes `text` for use inside a regular expression. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

test("checkout without dist/ or XS programs", () => {
  const root = join(workDir, "checkout");
  const cli = makeCheckout(root);
  const output = join(workDir, "out.bin");
  const run = (...args: string[]) => runCli(args, {}, cli);
  const fix = `; run npm install in ${literal(root)}`;

  const noBundle = run("run", HELLO_WORLD, "--input", HELLO_WORLD_INPUT, "--output", output);
  assertOneLineError(noBundle, new RegExp(`^microq: runtime bundle not found at ${literal(join(root, "dist", "microq.js"))}${fix}`));
  assert.not.match(noBundle.stderr, /internal error|please report/);
  assertOneLineError(run("inspect", HELLO_WORLD), /runtime bundle not found/);

  cpSync(join(REPOSITORY_ROOT, "dist"), join(root, "dist"), { recursive: true });
  const noXsnap = run("run", HELLO_WORLD, "--input", HELLO_WORLD_INPUT, "--output", output, "--engine", "xs");
  assertOneLineError(noXsnap, new RegExp(`^microq: xsnap CLI not found at ${literal(join(root, "node_modules", "@agoric"))}.*${fix}`));
  assert.not.match(noXsnap.stderr, /internal error|please report/);

  const noHost = run("bench", HELLO_WORLD, "--engine", "xs", "--runs", "1");
  assertOneLineError(noHost, new RegExp(`^microq: microq-xs-host not found at ${literal(join(root, ".xs"))}.*${fix}`));
  assert.not.match(noHost.stderr, /internal error|please report/);

  assert.not.ok(existsSync(output), "no output was written");
});

test("error report: exit code and label", () => {
  const cases: Array<[unknown, number, RegExp]> = [
    [new SetupError("xsnap CLI not found at /x; run npm install in /r"), 1, /^microq: xsnap CLI not found at \/x; run npm install in \/r\n$/],
    [new EngineTimeoutError("XS", 120000), 1, /^microq: the XS run timed out after 120000 ms; the model may be too large to run on XS in that time\n$/],
    [new EngineMemoryError("QuickJS", 1024), 1, /^microq: the QuickJS run ran out of memory: .*1024 bytes; the model may be too large to run on QuickJS\n$/],
    [new Error("unexpected state"), 1, /^microq: internal error: unexpected state; please report it with the model file\n$/],
  ];
  for (const [error, exitCode, pattern] of cases) {
    const described = describeError(error);
    assert.is(described.exitCode, exitCode, String(error));
    assert.match(described.text, pattern);
  }
});

test("QuickJS timeout names the engine", async () => {
  const entry = tflmModel("person_detect");
  const request = { model: readFixture(entry.model), inputs: [readFixture(entry.cases[0].inputs[0])], timeoutMs: 1 };
  const error = await runModelOnQuickJs(request).then(
    () => assert.unreachable("person_detect ran within 1 ms"),
    (thrown: unknown) => thrown,
  );
  assert.instance(error, EngineTimeoutError);
  const message = (error as Error).message;
  assert.match(message, /^the QuickJS run timed out after 1 ms; the model may be too large to run on QuickJS/);
  assert.not.match(message, /timeoutMs|option/, "no option that the CLI lacks");
});

test("setup.mjs without dev dependencies", () => {
  // An install of microq as a package: scripts/ and package.json, no node_modules.
  const root = join(workDir, "package");
  mkdirSync(root);
  cpSync(join(REPOSITORY_ROOT, "scripts"), join(root, "scripts"), { recursive: true });
  cpSync(join(REPOSITORY_ROOT, "package.json"), join(root, "package.json"));

  const result = spawnSync(process.execPath, [join(root, "scripts", "setup.mjs")], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.is(lines.length, 1, `one line, got: ${result.stdout}`);
  assert.match(lines[0], /^microq setup: skipped the XS builds and the TypeScript build because @agoric\/xsnap is not installed/);
  assert.not.ok(existsSync(join(root, "build")), "no build was attempted");
  assert.not.ok(existsSync(join(root, ".xs")), "no XS build was attempted");
});

test("package files exist and cover CLI imports", () => {
  const files: string[] = JSON.parse(readFileSync(join(REPOSITORY_ROOT, "package.json"), "utf8")).files;
  for (const entry of files) {
    assert.ok(existsSync(join(REPOSITORY_ROOT, entry)), `package.json files lists ${entry}, which does not exist`);
  }

  // Every relative import of the compiled CLI must resolve to a file that the package ships.
  const shipped = (path: string) => files.some((entry) => {
    const relativePath = relative(join(REPOSITORY_ROOT, entry), path);
    return relativePath === "" || (!relativePath.startsWith("..") && !relativePath.startsWith("/"));
  });
  const pending = [join(REPOSITORY_ROOT, "bin", "microq.js")];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    assert.ok(shipped(file), `${relative(REPOSITORY_ROOT, file)} is imported by the CLI but not in package.json files`);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const imported = resolve(dirname(file), match[1]);
      if (existsSync(imported) && statSync(imported).isFile()) pending.push(imported);
    }
  }
  assert.ok(seen.size > 20, `the walk found only ${seen.size} modules`);
});

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
