// microq bench as users call it: the JSON report's fields on each engine,
// the counts that do not depend on timing (MACs, allocations, matching
// outputs), and the exit codes of usage and model errors. Times and meter
// units vary from run to run, so they are only checked to be positive.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KernelSetResult, Speedup } from "../../bench/harness/types.js";
import type { BenchReport } from "../../tools/bench/report.js";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { TFLM_FIXTURES, readFixture, tflmModel } from "../fixtures.js";

const CLI = resolve(REPOSITORY_ROOT, "bin", "microq.js");
const HELLO_WORLD = resolve(TFLM_FIXTURES, tflmModel("hello_world_int8").model);
/** hello_world_int8 is three FULLY_CONNECTED layers: 1x16, 16x16 and 16x1. */
const HELLO_WORLD_MACS = 16 + 16 * 16 + 16;

function microq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A report with the naive baseline's figures, which every int8 TFLM model gets. */
type ComparedReport = BenchReport & { naive: KernelSetResult; speedup: Speedup; outputsMatch: boolean };

function benchJson(...args: string[]): ComparedReport {
  const result = microq("bench", HELLO_WORLD, "--json", "--runs", "1", ...args);
  assert.is(result.status, 0, `exit status; stderr: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as BenchReport;
  assert.is(report.naiveUnavailable, null, "naive baseline available");
  assert.ok(report.naive !== null, "naive figures present");
  assert.ok(report.speedup !== null, "speedup present");
  return report as ComparedReport;
}

function assertPositive(value: unknown, description: string): void {
  assert.type(value, "number", `${description} is a number`);
  assert.ok((value as number) > 0, `${description} is positive, got ${value}`);
}

function assertKernelSetFields(result: KernelSetResult, kernels: string): void {
  assert.is(result.kernels, kernels);
  assert.is(result.macs, HELLO_WORLD_MACS, `${kernels} MACs`);
  assert.is(result.operatorCount, 3, `${kernels} operator count`);
  assertPositive(result.invoke.medianMs, `${kernels} median time`);
  assert.is(result.invoke.runMs.length, 1, `${kernels} one timed run`);
  assert.ok(Number.isInteger(result.invoke.callsPerRun), `${kernels} calls per run is an integer`);
  assert.ok(result.invoke.callsPerRun >= 1, `${kernels} calls per run is at least 1`);
  assertPositive(result.arenaBytes, `${kernels} arena bytes`);
  assertPositive(result.persistentBytes, `${kernels} persistent bytes`);
  assert.is(result.operators, null, `${kernels} has no operator timings without --per-op`);
}

test("bench --engine node: JSON fields", () => {
  const report = benchJson("--engine", "node");
  assert.is(report.model, "hello_world_int8");
  assert.is(report.engine, "node");
  assert.is(report.runs, 1);
  assert.is(report.macs, HELLO_WORLD_MACS);
  assert.is(report.outputsMatch, true, "microq and naive outputs match");
  assertKernelSetFields(report.microq, "microq");
  assertKernelSetFields(report.naive, "naive");
  assertPositive(report.speedup.time, "time speedup");
  assert.is(report.speedup.meter, null, "no meter on node");
  assert.is(report.microq.invoke.meter, null, "no meter per invoke on node");
});

test("bench --engine node: no allocations", () => {
  const report = benchJson("--engine", "node");
  for (const result of [report.microq, report.naive]) {
    const allocations = result.allocations;
    assert.ok(allocations !== null, `${result.kernels} allocations counted`);
    assert.is(allocations.method, "v8-young-generation");
    assert.is(allocations.unexpectedCollections, 0, `${result.kernels} no collection during the count`);
    assert.ok(Math.abs(allocations.bytes ?? NaN) < 512, `${result.kernels} ${allocations.bytes} bytes over ${allocations.invokes} invokes`);
    assert.is(allocations.allocationFree, true, `${result.kernels} allocation-free`);
  }
});

test("bench --engine xs: JSON fields and meter", () => {
  const report = benchJson("--engine", "xs");
  assert.is(report.engine, "xs");
  assert.is(report.macs, HELLO_WORLD_MACS);
  assert.is(report.outputsMatch, true, "microq and naive outputs match");
  assertKernelSetFields(report.microq, "microq");
  assertKernelSetFields(report.naive, "naive");
  for (const result of [report.microq, report.naive]) {
    assertPositive(result.invoke.meter, `${result.kernels} meter per invoke`);
    assertPositive(result.meterPerMac, `${result.kernels} meter per MAC`);
  }
  assertPositive(report.speedup.time, "time speedup");
  assertPositive(report.speedup.meter, "meter speedup");
});

test("bench --engine xs: no allocations", () => {
  const report = benchJson("--engine", "xs");
  for (const result of [report.microq, report.naive]) {
    const allocations = result.allocations;
    assert.ok(allocations !== null, `${result.kernels} allocations counted`);
    assert.is(allocations.method, "xs-heap-counters");
    assert.ok(allocations.invokes >= 1, `${result.kernels} counted invokes`);
    assert.is(allocations.slots, 0, `${result.kernels} slots`);
    assert.is(allocations.chunkBytes, 0, `${result.kernels} chunk bytes`);
    assert.is(allocations.allocationFree, true, `${result.kernels} allocation-free`);
  }
});

test("bench --engine quickjs: JSON fields", () => {
  const report = benchJson("--engine", "quickjs");
  assert.is(report.engine, "quickjs");
  assert.is(report.macs, HELLO_WORLD_MACS);
  assert.is(report.outputsMatch, true, "microq and naive outputs match");
  assertKernelSetFields(report.microq, "microq");
  assertKernelSetFields(report.naive, "naive");
  assert.is(report.microq.allocations, null, "allocations not counted");
  assert.type(report.allocationsNote, "string", "reason allocations are not counted");
});

test("bench --per-op: operators and types", () => {
  const report = benchJson("--engine", "node", "--per-op");
  assert.ok(report.operators !== null, "per-operator table present");
  assert.ok(report.operatorTypes !== null, "per-type table present");
  assert.equal(
    report.operators.map((op) => [op.index, op.name, op.macs]),
    [
      [0, "FULLY_CONNECTED", 16],
      [1, "FULLY_CONNECTED", 256],
      [2, "FULLY_CONNECTED", 16],
    ],
  );
  for (const op of report.operators) {
    assertPositive(op.microqMs, `operator ${op.index} microq time`);
    assertPositive(op.naiveMs, `operator ${op.index} naive time`);
  }
  assert.equal(
    report.operatorTypes.map((type) => [type.name, type.count, type.macs]),
    [["FULLY_CONNECTED", 3, HELLO_WORLD_MACS]],
  );
});

test("bench: table output", () => {
  const result = microq("bench", HELLO_WORLD, "--runs", "1");
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^hello_world_int8 on node: median of 1 timed run after a warm-up/);
  assert.match(result.stdout, /invoke time .* \d+\.\d\dx/);
  assert.match(result.stdout, /outputs match: yes/);
});

const USAGE_ERRORS: Array<[string, string[], RegExp]> = [
  ["no model", ["bench"], /bench takes one model file/],
  ["two models", ["bench", HELLO_WORLD, HELLO_WORLD], /bench takes one model file/],
  ["unknown engine", ["bench", HELLO_WORLD, "--engine", "v8"], /--engine must be node, xs or quickjs, got "v8"/],
  ["zero runs", ["bench", HELLO_WORLD, "--runs", "0"], /--runs must be a whole number from 1 to 1000, got "0"/],
  ["fractional runs", ["bench", HELLO_WORLD, "--runs", "2.5"], /--runs must be a whole number/],
  ["runs without value", ["bench", HELLO_WORLD, "--runs"], /option --runs needs a value/],
  ["unknown option", ["bench", HELLO_WORLD, "--fast"], /unknown option --fast/],
];

for (const [name, args, message] of USAGE_ERRORS) {
  test(`bench usage error: ${name}`, () => {
    const result = microq(...args);
    assert.is(result.status, 2, `exit status; stderr: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.is(result.stdout, "", "nothing on stdout");
  });
}

test("bench: truncated model exits 1", () => {
  const folder = mkdtempSync(join(tmpdir(), "microq-bench-"));
  try {
    const truncated = join(folder, "truncated.tflite");
    writeFileSync(truncated, readFixture(tflmModel("hello_world_int8").model).subarray(0, 400));
    const result = microq("bench", truncated, "--engine", "xs");
    assert.is(result.status, 1, `exit status; stderr: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split("\n");
    assert.is(lines.length, 1, `one stderr line, got: ${result.stderr}`);
    assert.match(lines[0], /^microq: .*truncated/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("bench: missing model exits 1", () => {
  const result = microq("bench", join(tmpdir(), "microq-no-such-model.tflite"));
  assert.is(result.status, 1, `exit status; stderr: ${result.stderr}`);
  assert.is(result.stderr.trimEnd().split("\n").length, 1, `one stderr line, got: ${result.stderr}`);
  assert.match(result.stderr, /not found/);
});

test.run();
