// microq run --output: the paths are checked before the model runs, write
// failures exit with 1 and one line, and a failed write leaves no partial
// set of output files.

import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeModel } from "../../tools/tflite/writer.js";
import { TFLM_FIXTURES } from "../fixtures.js";
import { assertOneLineError, microq, runCli } from "./run_cli.js";

const workDir = mkdtempSync(join(tmpdir(), "microq-output-"));

const HELLO_WORLD = resolve(TFLM_FIXTURES, "models/hello_world_int8.tflite");
const HELLO_WORLD_INPUT = resolve(TFLM_FIXTURES, "cases/hello_world_int8/rand0_in0.bin");
const HELLO_WORLD_OUTPUT = resolve(TFLM_FIXTURES, "cases/hello_world_int8/rand0_out0.bin");

/** A model of two RESHAPE operators, so that a run writes two outputs: [4] and [2] int8. */
const twoOutputModel = join(workDir, "two_outputs.tflite");
const twoOutputInputs = [join(workDir, "two_in0.bin"), join(workDir, "two_in1.bin")];

test.before(() => {
  const model = writeModel({
    tensors: [
      { name: "x0", type: "int8", shape: [1, 4] },
      { name: "y0", type: "int8", shape: [4] },
      { name: "x1", type: "int8", shape: [1, 2] },
      { name: "y1", type: "int8", shape: [2] },
    ],
    operators: [
      { op: "RESHAPE", inputs: [0], outputs: [1] },
      { op: "RESHAPE", inputs: [2], outputs: [3] },
    ],
    inputs: [0, 2],
    outputs: [1, 3],
  });
  writeFileSync(twoOutputModel, model);
  writeFileSync(twoOutputInputs[0], new Uint8Array([1, 2, 3, 4]));
  writeFileSync(twoOutputInputs[1], new Uint8Array([5, 6]));
});

function runHelloWorld(...outputArgs: string[]) {
  return microq("run", HELLO_WORLD, "--input", HELLO_WORLD_INPUT, ...outputArgs);
}

function runTwoOutputs(output0: string, output1: string) {
  return microq("run", twoOutputModel, "--input", twoOutputInputs[0], "--input", twoOutputInputs[1], "--output", output0, "--output", output1);
}

/** Names in `folder` that look like the temporary files of an output write. */
function temporaryFiles(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith(".tmp"));
}

test("output into missing folder", () => {
  const output = join(workDir, "no-such-folder", "out.bin");
  assertOneLineError(runHelloWorld("--output", output), /output 0 file .*no-such-folder\/out\.bin cannot be written: folder .* does not exist; create it/);
  assert.not.ok(existsSync(output));
});

test("output is a folder", () => {
  const folder = join(workDir, "a-folder");
  mkdirSync(folder);
  assertOneLineError(runHelloWorld("--output", folder), /output 0 file .*a-folder is a folder; pass a file path/);
});

test("output under a regular file", () => {
  assertOneLineError(runHelloWorld("--output", join(HELLO_WORLD_INPUT, "out.bin")), /output 0 file .*rand0_in0\.bin\/out\.bin cannot be written: .*not a folder/);
});

test("output same as model or input", () => {
  const model = join(workDir, "model.tflite");
  const input = join(workDir, "input.bin");
  writeFileSync(model, readFileSync(HELLO_WORLD));
  writeFileSync(input, readFileSync(HELLO_WORLD_INPUT));
  const inputBytes = Array.from(readFileSync(input));
  const run = (output: string) => microq("run", model, "--input", input, "--output", output);

  assertOneLineError(run(input), /output 0 file .*input\.bin is the same file as input 0 file .*input\.bin; pass another output path/);
  assertOneLineError(run(model), /output 0 file .*model\.tflite is the same file as the model .*model\.tflite/);

  // The same file through a relative path, a symbolic link and a hard link.
  const relative = runCli(["run", model, "--input", input, "--output", "./input.bin"], { cwd: workDir });
  assertOneLineError(relative, /is the same file as input 0 file/);
  const symbolicLink = join(workDir, "input-link.bin");
  symlinkSync(input, symbolicLink);
  assertOneLineError(run(symbolicLink), /output 0 file .*input-link\.bin is the same file as input 0 file/);
  const hardLink = join(workDir, "input-hard-link.bin");
  linkSync(input, hardLink);
  assertOneLineError(run(hardLink), /output 0 file .*input-hard-link\.bin is the same file as input 0 file/);

  assert.equal(Array.from(readFileSync(input)), inputBytes, "the input is unchanged");
  assert.equal(Array.from(readFileSync(model)), Array.from(readFileSync(HELLO_WORLD)), "the model is unchanged");
});

test("two outputs to one file", () => {
  const output = join(workDir, "both.bin");
  assertOneLineError(runTwoOutputs(output, output), /output 1 file .*both\.bin is the same file as output 0 file .*both\.bin; pass one path per output/);
  assert.not.ok(existsSync(output));
});

test("full device: one line, no partial set", () => {
  // Writing /dev/full fails with ENOSPC, as a full disk does.
  assertOneLineError(runHelloWorld("--output", "/dev/full"), /could not write output 0 file \/dev\/full: no space left on the device \(ENOSPC\)/);

  const folder = join(workDir, "partial");
  mkdirSync(folder);
  const output0 = join(folder, "out0.bin");
  assertOneLineError(runTwoOutputs(output0, "/dev/full"), /could not write output 1 file \/dev\/full: .*ENOSPC/);
  assert.not.ok(existsSync(output0), "output 0 was not written");
  assert.equal(temporaryFiles(folder), [], "no temporary file is left");

  writeFileSync(output0, "previous contents");
  assertOneLineError(runTwoOutputs(output0, "/dev/full"), /ENOSPC/);
  assert.is(readFileSync(output0, "utf8"), "previous contents", "the existing output 0 is unchanged");
  assert.equal(temporaryFiles(folder), []);
});

test("outputs replace existing files", () => {
  const folder = join(workDir, "replace");
  mkdirSync(folder);
  const output0 = join(folder, "out0.bin");
  const target = join(folder, "target.bin");
  const link = join(folder, "out1-link.bin");
  writeFileSync(output0, "old output 0");
  chmodSync(output0, 0o600);
  writeFileSync(target, "old output 1");
  symlinkSync(target, link);

  const result = runTwoOutputs(output0, link);
  assert.is(result.status, 0, result.stderr);
  assert.equal(Array.from(readFileSync(output0)), [1, 2, 3, 4]);
  assert.is(statSync(output0).mode & 0o777, 0o600, "the file mode is kept");
  assert.equal(Array.from(readFileSync(target)), [5, 6], "the link target is written");
  assert.ok(lstatSync(link).isSymbolicLink(), "the output is still a symbolic link");
  assert.is(readlinkSync(link), target, "the link still points to the target");
  assert.equal(temporaryFiles(folder), []);
});

test("output to /dev/stdout", () => {
  const result = runCli(["run", HELLO_WORLD, "--input", HELLO_WORLD_INPUT, "--output", "/dev/stdout"], { encoding: "latin1" });
  assert.is(result.status, 0, result.stderr);
  assert.equal(Array.from(Buffer.from(result.stdout, "latin1")), Array.from(readFileSync(HELLO_WORLD_OUTPUT)));
  assert.ok(existsSync("/dev/stdout"), "the device is still there");
});

test("output folder not writable", () => {
  // Root may write to any folder, so as root the CLI runs as uid and gid 65534 (the
  // unprivileged "nobody" account), with files that any user can read.
  const isRoot = process.getuid?.() === 0;
  const shared = mkdtempSync(join(tmpdir(), "microq-output-access-"));
  try {
    chmodSync(shared, 0o755);
    const readOnly = join(shared, "read-only");
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const input = join(shared, "input.bin");
    writeFileSync(input, readFileSync(HELLO_WORLD_INPUT));
    chmodSync(input, 0o644);
    const output = join(readOnly, "out.bin");

    const result = runCli(["run", HELLO_WORLD, "--input", input, "--output", output], isRoot ? { uid: 65534, gid: 65534 } : {});
    assertOneLineError(result, /output 0 file .*read-only\/out\.bin cannot be written: folder .*read-only is not writable \(EACCES\)/);
    assert.not.ok(existsSync(output));
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
