// The microq command line as users and scripts call it: exit codes, one-line
// errors, and outputs identical to TFLM's goldens on both engines.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { TFLM_FIXTURES, readFixture, tflmModel } from "../fixtures.js";

const CLI = resolve(REPOSITORY_ROOT, "bin", "microq.js");
const workDir = mkdtempSync(join(tmpdir(), "microq-cli-"));

function microq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function fixturePath(relative: string): string {
  return resolve(TFLM_FIXTURES, relative);
}

/** Asserts exit status 1 with exactly one line on stderr that contains `pattern`. */
function assertOneLineError(result: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.is(result.status, 1, `exit status; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, `one stderr line, got: ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.not.match(result.stderr, /\n\s+at /, "no stack trace");
}

for (const engine of ["node", "xs", "quickjs"]) {
  test(`run --engine ${engine}: golden outputs`, () => {
    for (const name of ["hello_world_int8", "micro_speech_quantized", "person_detect"]) {
      const entry = tflmModel(name);
      const c = entry.cases[entry.cases.length - 1];
      const output = join(workDir, `${name}-${engine}.bin`);
      const inputArgs = c.inputs.flatMap((p) => ["--input", fixturePath(p)]);
      const result = microq("run", fixturePath(entry.model), ...inputArgs, "--output", output, "--engine", engine);
      assert.is(result.status, 0, result.stderr);
      assert.equal(Array.from(readFileSync(output)), Array.from(readFixture(c.outputs[0])), `${name} ${c.case}`);
    }
  });
}

test("run: node and xs agree on new random inputs", () => {
  let state = 0x2468ace;
  for (const name of ["micro_speech_quantized", "person_detect"]) {
    const entry = tflmModel(name);
    const size = readFixture(entry.cases[0].inputs[0]).byteLength;
    const input = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      input[i] = state >>> 24;
    }
    const inputPath = join(workDir, `${name}-random.bin`);
    writeFileSync(inputPath, input);
    const outputs = ["node", "xs"].map((engine) => {
      const output = join(workDir, `${name}-random-${engine}.bin`);
      const result = microq("run", fixturePath(entry.model), "--input", inputPath, "--output", output, "--engine", engine);
      assert.is(result.status, 0, result.stderr);
      return Array.from(readFileSync(output));
    });
    assert.equal(outputs[1], outputs[0], name);
  }
});

test("usage errors exit with 2", () => {
  assert.is(microq().status, 2);
  assert.is(microq("frobnicate").status, 2);
  assert.is(microq("run").status, 2);
  assert.is(microq("run", fixturePath("models/hello_world_int8.tflite"), "--output", "x.bin").status, 2);
  assert.is(microq("run", fixturePath("models/hello_world_int8.tflite"), "--input", "a", "--output", "b", "--engine", "v8").status, 2);
  assert.is(microq("inspect", "--bogus").status, 2);
});

test("model and input errors exit with 1 and one line", () => {
  const hello = fixturePath("models/hello_world_int8.tflite");
  const input = fixturePath("cases/hello_world_int8/rand0_in0.bin");
  const output = join(workDir, "out.bin");

  assertOneLineError(microq("run", join(workDir, "missing.tflite"), "--input", input, "--output", output), /not found/);

  const notModel = join(workDir, "not-a-model.tflite");
  writeFileSync(notModel, "this is a text file, not a flatbuffer at all");
  assertOneLineError(microq("run", notModel, "--input", input, "--output", output), /TFL3/);

  const truncated = join(workDir, "truncated.tflite");
  writeFileSync(truncated, readFileSync(hello).subarray(0, 1500));
  assertOneLineError(microq("run", truncated, "--input", input, "--output", output), /truncated|corrupted|outside/);

  const wrongSize = join(workDir, "wrong-size.bin");
  writeFileSync(wrongSize, new Uint8Array(7));
  assertOneLineError(microq("run", hello, "--input", wrongSize, "--output", output), /has 7 bytes.*needs 1/);

  assertOneLineError(microq("run", hello, "--input", input, "--input", input, "--output", output), /1 input tensors, but 2/);

  const mobilenet = fixturePath("models/mobilenet_v2_quantized_1x3x224x224.tflite");
  const mobilenetInput = fixturePath("cases/mobilenet_v2_quantized_1x3x224x224/rand0_in0.bin");
  assertOneLineError(microq("run", mobilenet, "--input", mobilenetInput, "--output", output), /unsupported operators?:.*PAD.*MEAN/);
});

test("inspect: text and JSON", () => {
  const text = microq("inspect", fixturePath("models/person_detect.tflite"));
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /CONV_2D\s+14/);
  assert.match(text.stdout, /DEPTHWISE_CONV_2D\s+14/);
  assert.match(text.stdout, /arena bytes \(activations and scratch\): 55296/);
  assert.match(text.stdout, /unsupported: none/);

  const json = microq("inspect", fixturePath("models/mobilenet_v2_quantized_1x3x224x224.tflite"), "--json");
  assert.is(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.is(report.operatorCounts.PAD, 18);
  assert.is(report.arenaBytes, null);
  const unsupportedNames = new Set(report.unsupported.map((line: string) => line.split(" ")[2]));
  assert.equal([...unsupportedNames].sort(), ["ADD", "MEAN", "PAD", "TRANSPOSE"]);
});

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
