// microq bench on a model that the naive baseline cannot prepare: the uint8
// PyTorch digits CNN of examples/pytorch-digits, whose CONV_2D and
// FULLY_CONNECTED layers the ported TFLM int8 kernels reject. The benchmark
// still measures microq and reports every naive figure as not available,
// while an int8 TFLM model keeps its comparison, and a naive failure other
// than UnsupportedError still fails the benchmark.

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NAIVE_UNAVAILABLE_REASON, benchModel } from "../../bench/harness/index.js";
import type { BenchInterpreter, BenchOptions } from "../../bench/harness/types.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import type { BenchReport } from "../../tools/bench/report.js";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { TFLM_FIXTURES, tflmModel } from "../fixtures.js";

const CLI = resolve(REPOSITORY_ROOT, "bin", "microq.js");
const DIGITS = resolve(REPOSITORY_ROOT, "examples", "pytorch-digits", "qnnpack-qnnpack.tflite");
const HELLO_WORLD = resolve(TFLM_FIXTURES, tflmModel("hello_world_int8").model);

/**
 * The digits CNN as examples/pytorch-digits/README.md describes it, on an
 * 8x8x1 input: conv 3x3 1->8 with padding 1 (8x8x8 outputs), conv 3x3 8->16
 * stride 2 with padding 1 (4x4x16 outputs), linear 256->10.
 */
const DIGITS_MACS = 8 * 8 * 8 * (3 * 3 * 1) + 4 * 4 * 16 * (3 * 3 * 8) + 256 * 10;

/** The converter writes PyTorch's padding as a PAD before each conv, and the float input and output as QUANTIZE and DEQUANTIZE. */
const DIGITS_OPERATORS = ["QUANTIZE", "PAD", "CONV_2D", "PAD", "CONV_2D", "RESHAPE", "FULLY_CONNECTED", "DEQUANTIZE"];

/** The uint8 layers, which the naive baseline's int8 ports of CONV_2D and FULLY_CONNECTED reject. */
const DIGITS_NAIVE_PROBLEMS = [/^operator 2 CONV_2D: /, /^operator 4 CONV_2D: /, /^operator 6 FULLY_CONNECTED: /];

function microq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function benchJson(model: string, ...args: string[]): BenchReport {
  const result = microq("bench", model, "--json", "--runs", "1", ...args);
  assert.is(result.status, 0, `exit status; stderr: ${result.stderr}`);
  return JSON.parse(result.stdout) as BenchReport;
}

function assertPositive(value: unknown, description: string): void {
  assert.type(value, "number", `${description} is a number`);
  assert.ok((value as number) > 0, `${description} is positive, got ${value}`);
}

test("uint8 digits on node: naive not available", () => {
  const report = benchJson(DIGITS, "--engine", "node", "--per-op");
  assert.is(report.model, "qnnpack-qnnpack");
  assert.is(report.naive, null, "no naive figures");
  assert.is(report.speedup, null, "no speedup");
  assert.is(report.outputsMatch, null, "no output comparison");
  assert.ok(report.naiveUnavailable !== null, "reason present");
  assert.is(report.naiveUnavailable.reason, NAIVE_UNAVAILABLE_REASON);
  const problems = report.naiveUnavailable.problems;
  assert.is(problems.length, DIGITS_NAIVE_PROBLEMS.length, `problems: ${problems.join(" | ")}`);
  DIGITS_NAIVE_PROBLEMS.forEach((pattern, i) => assert.match(problems[i], pattern));
});

test("uint8 digits on node: microq figures", () => {
  const report = benchJson(DIGITS, "--engine", "node", "--per-op");
  assert.is(report.macs, DIGITS_MACS);
  assert.is(report.operatorCount, DIGITS_OPERATORS.length);
  const result = report.microq;
  assert.is(result.kernels, "microq");
  assert.is(result.macs, DIGITS_MACS);
  assertPositive(result.invoke.medianMs, "median time");
  assert.is(result.invoke.runMs.length, 1, "one timed run");
  assertPositive(result.arenaBytes, "arena bytes");
  assert.ok(Number.isInteger(result.persistentBytes), `persistent bytes ${result.persistentBytes} is an integer`);
  assert.ok(result.persistentBytes >= 0, `persistent bytes ${result.persistentBytes} is not negative`);
  assert.ok(result.allocations !== null, "allocations counted");
  assert.is(result.allocations.method, "v8-young-generation");
  assert.is(result.allocations.allocationFree, true, `${result.allocations.bytes} bytes over ${result.allocations.invokes} invokes`);
});

test("uint8 digits on node: operator tables", () => {
  const report = benchJson(DIGITS, "--engine", "node", "--per-op");
  assert.ok(report.operators !== null, "per-operator table present");
  assert.equal(
    report.operators.map((op) => op.name),
    DIGITS_OPERATORS,
  );
  for (const op of report.operators) {
    assertPositive(op.microqMs, `operator ${op.index} microq time`);
    assert.is(op.naiveMs, null, `operator ${op.index} naive time`);
    assert.is(op.speedup, null, `operator ${op.index} speedup`);
  }
  assert.ok(report.operatorTypes !== null, "per-type table present");
  const conv = report.operatorTypes.find((type) => type.name === "CONV_2D");
  assert.ok(conv !== undefined, "CONV_2D row");
  assert.is(conv.count, 2);
  assert.is(conv.macs, 8 * 8 * 8 * (3 * 3 * 1) + 4 * 4 * 16 * (3 * 3 * 8));
  assert.is(conv.naiveMs, null, "CONV_2D naive time");
  assert.is(conv.speedup, null, "CONV_2D speedup");
});

test("uint8 digits on node: table output", () => {
  const result = microq("bench", DIGITS, "--runs", "1");
  assert.is(result.status, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.match(lines[0], /^qnnpack-qnnpack on node: median of 1 timed run after a warm-up/);
  assert.ok(
    lines.some((line) => /^invoke time\s+[0-9.]+ (µs|ms)\s+n\/a\s+n\/a$/.test(line)),
    `invoke time row with n/a naive and speedup cells:\n${result.stdout}`,
  );
  assert.ok(lines.some((line) => /^arena bytes\s+[0-9,]+\s+n\/a$/.test(line)), `arena row:\n${result.stdout}`);
  assert.is(lines.filter((line) => line === NAIVE_UNAVAILABLE_REASON).length, 1, `one reason line:\n${result.stdout}`);
  assert.not.match(result.stdout, /outputs match/);
});

test("uint8 digits on xs: per-op table", () => {
  const result = microq("bench", DIGITS, "--engine", "xs", "--runs", "1", "--per-op");
  assert.is(result.status, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.ok(lines.some((line) => /^XS meter \/ MAC\s+[0-9.]+\s+n\/a$/.test(line)), `meter per MAC row:\n${result.stdout}`);
  assert.ok(lines.includes(NAIVE_UNAVAILABLE_REASON), `reason line:\n${result.stdout}`);
  assert.ok(
    lines.some((line) => /^\s*2\s+CONV_2D\s+4,608\s+[0-9.]+ (µs|ms)\s+n\/a\s+n\/a\s+[0-9.]+( [kMG])?\s+n\/a\s+n\/a$/.test(line)),
    `operator 2 row with microq time and meter, n/a elsewhere:\n${result.stdout}`,
  );
});

test("int8 hello_world keeps naive comparison", () => {
  const report = benchJson(HELLO_WORLD, "--engine", "node");
  assert.is(report.naiveUnavailable, null, "no reason");
  assert.ok(report.naive !== null, "naive figures present");
  assertPositive(report.naive.invoke.medianMs, "naive median time");
  assert.ok(report.speedup !== null, "speedup present");
  assertPositive(report.speedup.time, "time speedup");
  assert.is(report.outputsMatch, true, "outputs match");
});

const OPTIONS: BenchOptions = { label: "fake on node", runs: 1, perOperator: true, minRunMs: 1, operatorMinRunMs: 1 };
const HOOKS = { now: () => performance.now(), progress: () => {} };

function fakeInterpreter(): BenchInterpreter {
  const bytes = new Uint8Array(4);
  return {
    macs: 1,
    arenaBytes: 4,
    persistentBytes: 0,
    operators: [{ name: "FAKE", macs: 1 }],
    inputs: [{ type: "uint8", data: bytes, bytes }],
    outputs: [{ bytes }],
    invoke: () => {
      bytes[1] = bytes[0] + 1;
    },
    invokeOperator() {},
  };
}

test("harness: UnsupportedError leaves naive out", () => {
  const result = benchModel(
    {
      microq: fakeInterpreter,
      naive: () => {
        throw new UnsupportedError("model uses 1 unsupported operator", ["operator 0 FAKE: input is uint8"]);
      },
    },
    OPTIONS,
    HOOKS,
  );
  assert.is(result.naive, null);
  assert.equal(result.naiveUnavailable, { reason: NAIVE_UNAVAILABLE_REASON, problems: ["operator 0 FAKE: input is uint8"] });
  assertPositive(result.microq.invoke.medianMs, "microq median time");
  assert.ok(result.operators !== null, "operator table present");
  assert.is(result.operators[0].naiveMs, null);
});

test("harness: other naive errors propagate", () => {
  assert.throws(
    () =>
      benchModel(
        {
          microq: fakeInterpreter,
          naive: () => {
            throw new InvalidModelError("tensor 3 is truncated");
          },
        },
        OPTIONS,
        HOOKS,
      ),
    /tensor 3 is truncated/,
  );
});

test.run();
