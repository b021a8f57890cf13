// The microq command line as users and scripts call it: exit codes, one-line
// errors, help, input files, and outputs identical to TFLM's goldens on all
// engines.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type InspectReport, formatInspectReport } from "../../tools/commands/inspect.js";
import { writeModel } from "../../tools/tflite/writer.js";
import { TFLM_FIXTURES, readFixture, tflmManifest, tflmModel } from "../fixtures.js";
import { CLI, assertOneLineError, microq, runCli } from "./run_cli.js";

const workDir = mkdtempSync(join(tmpdir(), "microq-cli-"));

/** Writes a model of two EXP operators, which microq lacks, and returns its path. */
function unsupportedModelPath(): string {
  const tensor = (name: string) => ({ name, type: "int8" as const, shape: [1, 1], scale: [0.1], zeroPoint: [0] });
  const path = join(workDir, "unsupported.tflite");
  const model = writeModel({
    tensors: [tensor("in"), tensor("middle"), tensor("out")],
    operators: [
      { op: "EXP", inputs: [0], outputs: [1] },
      { op: "EXP", inputs: [1], outputs: [2] },
    ],
    inputs: [0],
    outputs: [2],
  });
  writeFileSync(path, model);
  return path;
}

function fixturePath(relative: string): string {
  return resolve(TFLM_FIXTURES, relative);
}

const HELLO_WORLD = fixturePath("models/hello_world_int8.tflite");
const HELLO_WORLD_INPUT = fixturePath("cases/hello_world_int8/rand0_in0.bin");
const HELLO_WORLD_OUTPUT = fixturePath("cases/hello_world_int8/rand0_out0.bin");

/** Writes a model of two RESHAPE operators: int8 input 0 [1,4] to output 0 [4], input 1 [1,2] to output 1 [2]. */
function writeTwoInputModel(path: string): void {
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
  writeFileSync(path, model);
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

  assertOneLineError(microq("run", hello, "--input", input, "--input", input, "--output", output), /has 1 input tensor, but 2 --input files were given/);

  assertOneLineError(microq("run", unsupportedModelPath(), "--input", input, "--output", output), /unsupported operators?:.*EXP/);
});

test("inspect: text and JSON", () => {
  const text = microq("inspect", fixturePath("models/person_detect.tflite"));
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /CONV_2D\s+14/);
  assert.match(text.stdout, /DEPTHWISE_CONV_2D\s+14/);
  assert.match(text.stdout, /arena bytes \(activations and scratch\): 55296/);
  assert.match(text.stdout, /requantization scheme: tflm/);
  assert.match(text.stdout, /unsupported: none/);

  const keyword = microq("inspect", fixturePath("models/keyword_scrambled_8bit.tflite"), "--json");
  assert.is(keyword.status, 0, keyword.stderr);
  const keywordReport = JSON.parse(keyword.stdout);
  assert.is(keywordReport.operatorCounts.SVDF, 7);
  assert.equal(keywordReport.unsupported, []);

  const json = microq("inspect", unsupportedModelPath(), "--json");
  assert.is(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.is(report.operatorCounts.EXP, 2);
  assert.is(report.arenaBytes, null);
  assert.is(report.requantization, null);
  const unsupportedNames = new Set(report.unsupported.map((line: string) => line.split(" ")[2]));
  assert.equal([...unsupportedNames], ["EXP"]);
});

test("inspect: every TFLM fixture model is supported", () => {
  for (const entry of tflmManifest().models) {
    const result = microq("inspect", fixturePath(entry.model), "--json");
    assert.is(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).unsupported, [], entry.name);
  }
});

test("command --help prints its usage", () => {
  for (const command of ["run", "inspect", "compare", "bench"]) {
    for (const args of [[command, "--help"], [command, "-h"], ["help", command], [command, HELLO_WORLD, "--help"]]) {
      const result = microq(...args);
      assert.is(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.is(result.stderr, "", `${args.join(" ")} stderr`);
      assert.match(result.stdout, new RegExp(`^usage: microq ${command} MODEL\\.tflite`), `${args.join(" ")} stdout`);
      assert.match(result.stdout, /options:/, `${args.join(" ")} lists the options`);
    }
  }
  assert.is(microq("help", "frobnicate").status, 2);
});

test("wrong output count exits with 1", () => {
  const output = join(workDir, "count.bin");
  assertOneLineError(
    microq("run", HELLO_WORLD, "--input", HELLO_WORLD_INPUT, "--output", output, "--output", join(workDir, "count2.bin")),
    /hello_world_int8\.tflite has 1 output tensor, but 2 --output files were given; pass one per output, in order$/,
  );

  const twoInputs = join(workDir, "two_inputs.tflite");
  writeTwoInputModel(twoInputs);
  const input0 = join(workDir, "two_in0.bin");
  const input1 = join(workDir, "two_in1.bin");
  writeFileSync(input0, new Uint8Array([1, 2, 3, 4]));
  writeFileSync(input1, new Uint8Array([5, 6]));
  assertOneLineError(
    microq("run", twoInputs, "--input", input0, "--input", input1, "--output", output),
    /has 2 output tensors, but 1 --output file was given/,
  );
});

test("count messages: singular and plural", () => {
  const twoInputs = join(workDir, "two_inputs.tflite");
  writeTwoInputModel(twoInputs);
  const input0 = join(workDir, "two_in0.bin");
  writeFileSync(input0, new Uint8Array([1, 2, 3, 4]));
  const outputs = ["--output", join(workDir, "o0.bin"), "--output", join(workDir, "o1.bin")];
  assertOneLineError(microq("run", twoInputs, "--input", input0, ...outputs), /has 2 input tensors, but 1 --input file was given/);
  assertOneLineError(
    microq("run", twoInputs, "--input", input0, "--input", input0, "--input", input0, ...outputs),
    /has 2 input tensors, but 3 --input files were given/,
  );

  const oneByte = join(workDir, "one_byte.bin");
  writeFileSync(oneByte, new Uint8Array(1));
  assertOneLineError(microq("run", twoInputs, "--input", oneByte, "--input", oneByte, ...outputs), /input 0 file .*one_byte\.bin has 1 byte, but/);
});

test("option followed by option: missing value", () => {
  const result = microq("run", HELLO_WORLD, "--input", "--output", join(workDir, "x.bin"));
  assert.is(result.status, 2, result.stderr);
  assert.is(result.stderr.split("\n")[0], "microq: option --input needs a value");

  const last = microq("run", HELLO_WORLD, "--output", join(workDir, "x.bin"), "--input");
  assert.is(last.stderr.split("\n")[0], "microq: option --input needs a value");

  // A value that starts with "--" can still be passed with "=".
  const equals = microq("run", HELLO_WORLD, "--input=--no-such-file", "--output", join(workDir, "x.bin"));
  assertOneLineError(equals, /input 0 file --no-such-file not found/);
});

test("input from /dev/stdin and a FIFO", () => {
  const expected = Array.from(readFileSync(HELLO_WORLD_OUTPUT));
  // Node's spawnSync gives the child a socket as stdin, and a shell pipeline a pipe.
  const fromSocket = join(workDir, "socket-out.bin");
  const result = runCli(["run", HELLO_WORLD, "--input", "/dev/stdin", "--output", fromSocket], { input: readFileSync(HELLO_WORLD_INPUT) });
  assert.is(result.status, 0, result.stderr);
  assert.equal(Array.from(readFileSync(fromSocket)), expected, "output from /dev/stdin on a socket");

  const fromPipe = join(workDir, "pipe-out.bin");
  const pipeline = spawnSync(
    "bash",
    ["-c", 'cat "$1" | "$2" "$3" run "$4" --input /dev/stdin --output "$5"', "bash", HELLO_WORLD_INPUT, process.execPath, CLI, HELLO_WORLD, fromPipe],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.is(pipeline.status, 0, pipeline.stderr);
  assert.equal(Array.from(readFileSync(fromPipe)), expected, "output from /dev/stdin on a pipe");

  const fifo = join(workDir, "input.fifo");
  const mkfifo = spawnSync("mkfifo", [fifo]);
  assert.is(mkfifo.status, 0, `mkfifo: ${mkfifo.stderr}`);
  const fromFifo = join(workDir, "fifo-out.bin");
  // The writer runs in the background, because opening a FIFO blocks until both ends are open.
  const shell = spawnSync(
    "bash",
    ["-c", 'cat "$1" > "$2" & "$3" "$4" run "$5" --input "$2" --output "$6"; status=$?; wait; exit $status', "bash",
      HELLO_WORLD_INPUT, fifo, process.execPath, CLI, HELLO_WORLD, fromFifo],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.is(shell.status, 0, shell.stderr);
  assert.equal(Array.from(readFileSync(fromFifo)), expected, "output from a FIFO");
});

test("input folder and oversized device rejected", () => {
  const output = join(workDir, "x.bin");
  assertOneLineError(microq("run", HELLO_WORLD, "--input", workDir, "--output", output), /input 0 file .* is a folder; pass a file path/);
  assertOneLineError(microq("run", workDir, "--input", HELLO_WORLD_INPUT, "--output", output), /model .* is a folder/);
  assertOneLineError(microq("run", HELLO_WORLD, "--input", "/dev/zero", "--output", output), /input 0 file \/dev\/zero has more bytes, over the \d+-byte limit/);
});

test("run --engine xs: 9 MB model and input", () => {
  // The XS parser rejects a string literal over 8 MiB, so the model and input must be
  // embedded in chunks. Operator 0 copies the 9 MiB input, operator 1 a 9 MiB constant.
  const size = 9 * 1024 * 1024;
  const constant = new Uint8Array(size);
  const input = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    constant[i] = (i * 31 + (i >> 9)) & 0xff;
    input[i] = (i * 7 + (i >> 13)) & 0xff;
  }
  const model = writeModel({
    tensors: [
      { name: "input", type: "int8", shape: [1, size] },
      { name: "input_copy", type: "int8", shape: [size] },
      { name: "constant", type: "int8", shape: [size], data: constant },
      { name: "constant_copy", type: "int8", shape: [1, size] },
    ],
    operators: [
      { op: "RESHAPE", inputs: [0], outputs: [1] },
      { op: "RESHAPE", inputs: [2], outputs: [3] },
    ],
    inputs: [0],
    outputs: [1, 3],
  });
  assert.ok(model.byteLength > size, `the model has ${model.byteLength} bytes`);
  const modelPath = join(workDir, "large.tflite");
  const inputPath = join(workDir, "large_in.bin");
  writeFileSync(modelPath, model);
  writeFileSync(inputPath, input);

  const outputs = [join(workDir, "large_out0.bin"), join(workDir, "large_out1.bin")];
  const result = microq("run", modelPath, "--input", inputPath, "--output", outputs[0], "--output", outputs[1], "--engine", "xs");
  assert.is(result.status, 0, result.stderr);
  assert.ok(Buffer.from(input).equals(readFileSync(outputs[0])), "output 0 is the input");
  assert.ok(Buffer.from(constant).equals(readFileSync(outputs[1])), "output 1 is the constant");
});

// Names with a NUL, ESC sequences, a line break and a right-to-left override.
const HOSTILE_NAME = "in\u0000\n\u202e evil \u001b[31mred\u001b[0m";
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/;

test("inspect text: control characters escaped", () => {
  const report: InspectReport = {
    model: "model\u001b[2J.tflite",
    modelBytes: 100,
    description: "made by \u001b]0;title\u0007",
    operatorCounts: { "CUSTOM\u001bX": 1 },
    operators: [{ index: 0, name: "CUSTOM\u001bX", inputs: [0], outputs: [1], macs: null }],
    tensors: [0, 1].map((index) => ({
      index,
      name: `${HOSTILE_NAME}${index}`,
      type: "int8",
      shape: [1, 4],
      scale: [],
      zeroPoint: [],
      quantizedDimension: 0,
      constant: false,
      variable: false,
      bytes: 4,
    })),
    inputs: [0],
    outputs: [1],
    macs: null,
    arenaBytes: null,
    persistentBytes: null,
    requantization: null,
    unsupported: ["operator 0 CUSTOM\u001bX is not supported"],
  };
  const text = formatInspectReport(report);
  assert.not.match(text, RAW_CONTROL, "no raw control character");
  assert.ok(text.includes("in\\x00\\x0a\\u202e evil \\x1b[31mred\\x1b[0m0"), "tensor 0 name escaped on one line");
  assert.ok(text.includes("made by \\x1b]0;title\\x07"), "description escaped");
  assert.ok(text.includes("CUSTOM\\x1bX"), "operator name escaped");
  assert.ok(text.includes("model\\x1b[2J.tflite"), "model path escaped");
  assert.is(text.split("\n").filter((line) => line.includes("evil")).length, 2, "each tensor on one line");
});

test("inspect: hostile names in model", () => {
  const model = writeModel({
    description: "desc\u001b[2J",
    tensors: [
      { name: HOSTILE_NAME, type: "int8", shape: [1, 4] },
      { name: "out\u0000put", type: "int8", shape: [4] },
    ],
    operators: [{ op: "RESHAPE", inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
  });
  const modelPath = join(workDir, "hostile_names.tflite");
  writeFileSync(modelPath, model);

  const text = microq("inspect", modelPath);
  assert.is(text.status, 0, text.stderr);
  assert.not.match(text.stdout, RAW_CONTROL, "no raw control character in the text output");
  assert.match(text.stdout, /evil/);

  const json = microq("inspect", modelPath, "--json");
  assert.is(json.status, 0, json.stderr);
  assert.not.match(json.stdout, RAW_CONTROL, "JSON escapes control characters");
  assert.is((JSON.parse(json.stdout) as InspectReport).tensors.length, 2);

  const wrongSize = join(workDir, "hostile_in.bin");
  writeFileSync(wrongSize, new Uint8Array(3));
  const run = microq("run", modelPath, "--input", wrongSize, "--output", join(workDir, "hostile_out.bin"));
  assertOneLineError(run, /has 3 bytes, but input tensor/);
  assert.not.match(run.stderr, RAW_CONTROL, "no raw control character in the error");
});

test.after(() => rmSync(workDir, { recursive: true, force: true }));

test.run();
