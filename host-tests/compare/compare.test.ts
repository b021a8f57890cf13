// microq compare through the command line: against TFLM's layer dumps of
// case rand0, against a dump with one corrupted byte, on a float32 model,
// and its exit codes and one-line errors.

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { type CompareReport, type LayerRow, formatCompareReport } from "../../tools/commands/compare.js";
import { writeModel } from "../../tools/tflite/writer.js";
import { TFLM_FIXTURES, tflmModel } from "../fixtures.js";

const CLI = resolve(REPOSITORY_ROOT, "bin", "microq.js");
const workDir = mkdtempSync(join(tmpdir(), "microq-compare-"));

function microq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function fixturePath(relative: string): string {
  return resolve(TFLM_FIXTURES, relative);
}

interface Rand0 {
  model: string;
  input: string;
  dumps: string;
}

function rand0(name: string): Rand0 {
  const entry = tflmModel(name);
  const c = entry.cases.find((candidate) => candidate.case === "rand0");
  if (c === undefined) throw new Error(`${name} has no case rand0 in the fixture manifest`);
  return { model: fixturePath(entry.model), input: fixturePath(c.inputs[0]), dumps: resolve(TFLM_FIXTURES, "dumps", name, "rand0") };
}

function compareJson(...args: string[]): CompareReport {
  const result = microq("compare", ...args, "--json");
  assert.is(result.status, 0, `exit status; stderr: ${result.stderr}`);
  return JSON.parse(result.stdout) as CompareReport;
}

function dumpIndex(directory: string): { tensors: Array<{ index: number; file: string; producer_op_index: number | null }> } {
  return JSON.parse(readFileSync(join(directory, "index.json"), "utf8"));
}

/** Asserts exit status 1 with exactly one line on stderr that matches `pattern`. */
function assertOneLineError(result: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.is(result.status, 1, `exit status; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, `one stderr line, got: ${result.stderr}`);
  assert.match(lines[0], pattern);
}

// Operators whose float reference error is bounded by 1 LSB: a correct
// integer kernel differs from the rounded real result only near a rounding tie.
const ONE_LSB_OPERATORS = new Set(["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX"]);

for (const name of ["person_detect", "micro_speech_quantized"]) {
  test(`${name} rand0: every layer matches the dump`, () => {
    const files = rand0(name);
    const report = compareJson(files.model, "--input", files.input, "--dumps", files.dumps);
    const dumped = dumpIndex(files.dumps).tensors;
    const compared = report.layers.filter((row) => row.dump !== null);
    assert.is(compared.length, dumped.length, "every dumped tensor is compared");
    assert.equal(report.notes, [], "no dump entry is skipped");
    for (const row of compared) {
      assert.is(row.dump?.differing, 0, `tensor ${row.tensorIndex} (${row.operator}) differs from the dump`);
    }
    assert.is(report.firstMismatch, null);
    assert.not.ok(report.layers.some((row) => row.firstMismatch), "no row is marked");
  });

  test(`${name} rand0: float reference within 1 LSB`, () => {
    const files = rand0(name);
    const report = compareJson(files.model, "--input", files.input);
    const operators = report.layers.filter((row) => row.operatorIndex !== null);
    assert.ok(operators.length > 0, "the report has operator rows");
    for (const row of operators) {
      assert.is(row.referenceNote, null, `operator ${row.operatorIndex} (${row.operator}) has a float reference`);
      const stats = row.reference;
      assert.ok(stats !== null, `operator ${row.operatorIndex} has reference statistics`);
      const limit = ONE_LSB_OPERATORS.has(row.operator) ? 1 : 0;
      assert.ok(
        stats.maxDifference <= limit,
        `operator ${row.operatorIndex} (${row.operator}) is ${stats.maxDifference} LSB from the float reference, more than ${limit}`,
      );
    }
  });
}

test("person_detect text output table", () => {
  const files = rand0("person_detect");
  const result = microq("compare", files.model, "--input", files.input, "--dumps", files.dumps);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^op\s+operator\s+tensor\s+type\s+shape\s+ref max\s+ref mean\s+dump diffs\s+dump max\s+tensor name$/m);
  assert.match(result.stdout, /^ 0 {2}DEPTHWISE_CONV_2D +34 {2}int8 {2}\[1,48,48,8\] /m);
  assert.match(result.stdout, /^dump: all 32 compared tensors match microq$/m);
  assert.not.match(result.stdout, /first mismatch/);
});

test("corrupted dump byte: first mismatch at that layer", () => {
  const files = rand0("person_detect");
  const corrupted = join(workDir, "person_detect_rand0");
  cpSync(files.dumps, corrupted, { recursive: true });
  // Operator 5's output, a layer in the middle of the graph.
  const target = dumpIndex(corrupted).tensors.find((tensor) => tensor.producer_op_index === 5);
  assert.ok(target !== undefined, "the dump has operator 5's output");
  const path = join(corrupted, target.file);
  const bytes = readFileSync(path);
  bytes[100] ^= 0x01;
  writeFileSync(path, bytes);

  const report = compareJson(files.model, "--input", files.input, "--dumps", corrupted);
  assert.equal(report.firstMismatch?.tensorIndex, target.index);
  assert.is(report.firstMismatch?.operatorIndex, 5);
  const differing = report.layers.filter((row: LayerRow) => row.dump !== null && row.dump.differing > 0);
  assert.equal(
    differing.map((row) => row.tensorIndex),
    [target.index],
    "only the corrupted tensor differs",
  );
  assert.is(differing[0].dump?.differing, 1);
  assert.is(differing[0].dump?.maxDifference, 1);
  assert.equal(
    report.layers.filter((row) => row.firstMismatch).map((row) => row.tensorIndex),
    [target.index],
  );

  const text = microq("compare", files.model, "--input", files.input, "--dumps", corrupted);
  assert.is(text.status, 0, "a mismatch is a finding, not an error");
  const marked = text.stdout.split("\n").filter((line) => line.includes("<-- first mismatch"));
  assert.is(marked.length, 1, `one marked line, got: ${marked.join(" | ")}`);
  assert.match(marked[0], new RegExp(`^ 5 {2}DEPTHWISE_CONV_2D +${target.index} `));
});

test("unproduced dump entries become notes", () => {
  const files = rand0("micro_speech_quantized");
  const edited = join(workDir, "micro_speech_extra");
  cpSync(files.dumps, edited, { recursive: true });
  const index = JSON.parse(readFileSync(join(edited, "index.json"), "utf8"));
  // Tensor 7 is the constant weights, 999 is past the model's tensors, and 4.bin is removed.
  index.tensors.push({ ...index.tensors[0], index: 7, file: "7.bin", name: "final_fc_weights/read/transpose", type: "int8", shape: [4, 4000] });
  index.tensors.push({ ...index.tensors[0], index: 999, file: "999.bin" });
  writeFileSync(join(edited, "index.json"), JSON.stringify(index));
  rmSync(join(edited, "4.bin"));

  const report = compareJson(files.model, "--input", files.input, "--dumps", edited);
  assert.is(report.notes.length, 3, report.notes.join("\n"));
  assert.match(report.notes.join("\n"), /dump tensor 7 "final_fc_weights\/read\/transpose" not compared: microq does not produce it/);
  assert.match(report.notes.join("\n"), /dump tensor 999 .* not compared: the model has only 10 tensors/);
  assert.match(report.notes.join("\n"), /dump tensor 4 .* not compared: .*4\.bin not readable/);
  assert.is(report.layers.find((row) => row.tensorIndex === 4)?.dump, null);
  assert.is(report.firstMismatch, null);
});

test("float32 output error in LSB", () => {
  // float32 -> QUANTIZE (scale 0.1, zero point 2) -> DEQUANTIZE -> float32.
  const model = writeModel({
    tensors: [
      { name: "real", type: "float32", shape: [1, 6] },
      { name: "quantized", type: "int8", shape: [1, 6], scale: [0.1], zeroPoint: [2] },
      { name: "dequantized", type: "float32", shape: [1, 6] },
    ],
    operators: [
      { op: "QUANTIZE", inputs: [0], outputs: [1] },
      { op: "DEQUANTIZE", inputs: [1], outputs: [2] },
    ],
    inputs: [0],
    outputs: [2],
  });
  const modelPath = join(workDir, "quantize_dequantize.tflite");
  writeFileSync(modelPath, model);
  const inputPath = join(workDir, "quantize_dequantize_in.bin");
  const input = Float32Array.from([0, 0.05, -0.35, 1.234, 50, -50]);
  writeFileSync(inputPath, new Uint8Array(input.buffer));

  const report = compareJson(modelPath, "--input", inputPath);
  const [inputRow, quantizeRow, dequantizeRow] = report.layers;
  assert.is(inputRow.operator, "input");
  assert.is(quantizeRow.operator, "QUANTIZE");
  assert.ok((quantizeRow.reference?.maxDifference ?? 2) <= 1, "QUANTIZE within 1 LSB");
  assert.is(dequantizeRow.operator, "DEQUANTIZE");
  assert.ok(Math.abs(dequantizeRow.lsb - 0.1) < 1e-7, `DEQUANTIZE error unit is the input scale, got ${dequantizeRow.lsb}`);
  // float32 rounding of scale * (q - zero_point) stays far below 1e-4 LSB.
  assert.ok((dequantizeRow.reference?.maxDifference ?? 1) < 1e-4, `DEQUANTIZE error ${dequantizeRow.reference?.maxDifference}`);
});

test("usage errors exit with 2", () => {
  const files = rand0("micro_speech_quantized");
  assert.is(microq("compare").status, 2);
  assert.is(microq("compare", files.model).status, 2, "no --input");
  assert.is(microq("compare", "--input", files.input).status, 2, "no model");
  assert.is(microq("compare", files.model, files.model, "--input", files.input).status, 2, "two models");
  assert.is(microq("compare", files.model, "--input", files.input, "--dumps", "a", "--dumps", "b").status, 2, "--dumps twice");
  assert.is(microq("compare", files.model, "--input", files.input, "--output", "x").status, 2, "unknown option");
  assert.is(microq("compare", files.model, "--input", files.input, "--json=yes").status, 2, "--json with a value");
});

test("model and input errors exit with 1 and one line", () => {
  const files = rand0("micro_speech_quantized");
  const shortInput = join(workDir, "short.bin");
  writeFileSync(shortInput, new Uint8Array(10));
  assertOneLineError(
    microq("compare", files.model, "--input", shortInput),
    /input 0 file .*short\.bin has 10 bytes, but input tensor "Reshape_1" \(int8 \[1,1960\]\) needs 1960/,
  );
  assertOneLineError(
    microq("compare", files.model, "--input", files.input, "--input", files.input),
    /has 1 input tensor, but 2 --input files were given/,
  );
  assertOneLineError(microq("compare", join(workDir, "missing.tflite"), "--input", files.input), /model .*missing\.tflite not found/);
  assertOneLineError(microq("compare", files.input, "--input", files.input), /file identifier|corrupted|invalid/i);
  assertOneLineError(microq("compare", files.model, "--input", files.input, "--dumps", join(workDir, "no-such-dump")), /dump folder .* not found/);
  assertOneLineError(microq("compare", files.model, "--input", files.input, "--dumps", workDir), /has no index\.json/);
  const badIndex = join(workDir, "bad-index");
  cpSync(files.dumps, badIndex, { recursive: true });
  writeFileSync(join(badIndex, "index.json"), "{ not json");
  assertOneLineError(microq("compare", files.model, "--input", files.input, "--dumps", badIndex), /index\.json is not valid JSON/);
});

test("dump of another model exits with 1", () => {
  const helloWorld = rand0("hello_world_int8");
  const personDetect = rand0("person_detect");

  // person_detect's dumped tensors have indices past hello_world's 10 tensors, so none is compared.
  const noneCompared = microq("compare", helloWorld.model, "--input", helloWorld.input, "--dumps", personDetect.dumps);
  assertOneLineError(
    noneCompared,
    /^microq: no tensor of dump folder .*person_detect\/rand0 could be compared with .*hello_world_int8\.tflite .*; pass the dump folder of this model$/,
  );
  assert.is(noneCompared.stdout, "", "no report");

  // hello_world's dumped tensor 0 is int8 [1,1], person_detect's tensor 0 is int8 [1,3,3,8].
  const otherShape = microq("compare", personDetect.model, "--input", personDetect.input, "--dumps", helloWorld.dumps);
  assertOneLineError(
    otherShape,
    /^microq: dump tensor 0 "serving_default_dense_input:0" in .*hello_world_int8\/rand0 is int8 \[1,1\], but tensor 0 .* of .*person_detect\.tflite is int8 \[1,3,3,8\], so the dump is of another model; pass the dump folder of this model$/,
  );
  assert.not.match(otherShape.stderr, /internal error/);

  for (const args of [["--json"], []]) {
    const result = microq("compare", helloWorld.model, "--input", helloWorld.input, "--dumps", personDetect.dumps, ...args);
    assert.is(result.status, 1, `with ${args.join(" ") || "text output"}`);
  }
});

test("dump entry of another type or shape", () => {
  const files = rand0("micro_speech_quantized");
  for (const [field, value] of [["shape", [1, 7]], ["type", "uint8"]] as const) {
    const edited = join(workDir, `micro_speech_other_${field}`);
    cpSync(files.dumps, edited, { recursive: true });
    const index = JSON.parse(readFileSync(join(edited, "index.json"), "utf8"));
    const last = index.tensors[index.tensors.length - 1];
    last[field] = value;
    writeFileSync(join(edited, "index.json"), JSON.stringify(index));
    assertOneLineError(
      microq("compare", files.model, "--input", files.input, "--dumps", edited),
      new RegExp(`^microq: dump tensor ${last.index} .* so the dump is of another model; pass the dump folder of this model$`),
    );
  }
});

test("dump with no comparable tensor", () => {
  const files = rand0("micro_speech_quantized");
  const edited = join(workDir, "micro_speech_none");
  cpSync(files.dumps, edited, { recursive: true });
  const index = JSON.parse(readFileSync(join(edited, "index.json"), "utf8"));
  index.tensors = [{ ...index.tensors[0], index: 999, file: "999.bin" }];
  writeFileSync(join(edited, "index.json"), JSON.stringify(index));
  assertOneLineError(
    microq("compare", files.model, "--input", files.input, "--dumps", edited),
    /no tensor of dump folder .* could be compared with .*: dump tensor 999 .* the model has only 10 tensors.*; pass the dump folder of this model$/,
  );

  writeFileSync(join(edited, "index.json"), JSON.stringify({ tensors: [] }));
  assertOneLineError(
    microq("compare", files.model, "--input", files.input, "--dumps", edited),
    /no tensor of dump folder .* could be compared .*index\.json lists no usable tensor\); pass the dump folder of this model$/,
  );
});

test("text output escapes control characters", () => {
  const row: LayerRow = {
    operatorIndex: 0,
    operator: "CUSTOM\u001b[2J",
    tensorIndex: 1,
    tensorName: "out\u001b[31m\u0000\u202e",
    type: "int8",
    shape: [4],
    lsb: 1,
    reference: null,
    referenceNote: "no reference for \u001b]0;x\u0007",
    dump: null,
    firstMismatch: false,
  };
  const text = formatCompareReport({ model: "m.tflite", inputs: ["in.bin"], dumps: null, layers: [row], firstMismatch: null, notes: ["note \u001b[1m"] });
  assert.not.match(text, /[\u0000-\u0009\u000b-\u001f\u202e]/, "no raw control character");
  assert.ok(text.includes("out\\x1b[31m\\x00\\u202e"), "tensor name escaped");
  assert.ok(text.includes("CUSTOM\\x1b[2J"), "operator name escaped");
  assert.ok(text.includes("note \\x1b[1m"), "note escaped");
});

test.after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

test("converted digits model with a float32 bias: within 1 LSB", () => {
  // The first test image of the digits example, as the float32 pixel / 16 the model reads.
  const pixels = readFileSync(resolve(REPOSITORY_ROOT, "examples", "pytorch-digits", "test-images.bin")).subarray(0, 64);
  const input = join(workDir, "digit0.bin");
  writeFileSync(input, new Uint8Array(Float32Array.from(pixels, (p) => p / 16).buffer));
  for (const variant of ["qnnpack-qnnpack", "onednn-onednn"]) {
    const model = resolve(REPOSITORY_ROOT, "examples", "pytorch-digits", `${variant}.tflite`);
    const report = compareJson(model, "--input", input);
    const layers = report.layers.filter((row) => row.operator === "CONV_2D" || row.operator === "FULLY_CONNECTED");
    assert.is(layers.length, 3, `${variant}: two convolutions and one fully connected layer`);
    for (const row of layers) {
      assert.ok(row.reference !== null, `${variant} operator ${row.operatorIndex} has a float reference`);
      assert.ok(row.reference.maxDifference <= 1, `${variant} operator ${row.operatorIndex}: ${row.reference.maxDifference} LSB`);
    }
  }
});

test.run();
