// microq inspect --moddable: the creation block a model needs. Its figures are checked
// against measurements on microq-xs-host, not against themselves: the slot heap must hold
// the slots that loading the bundle and creating the interpreter keep alive (heap counters
// after a full collection), the chunk heap must hold the arena and persistent bytes of the
// plan plus the parsed model (the host's own chunk figure, which counts each array element
// as 32 bytes where a device uses 16, must stay below twice the estimate's model term plus
// the bytecode copies that only the host makes), and the stack must exceed the deepest
// stack use that tools/moddable/stack_probe.ts measures.
import { test } from "uvu";
import * as assert from "uvu/assert";

import { measureXsHeapCost } from "../../tools/moddable/heap_cost.js";
import { probeStackUse } from "../../tools/moddable/stack_probe.js";
import { readFixture, tflmModel } from "../fixtures.js";
import { assertOneLineError, microq } from "./run_cli.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeModel } from "../../tools/tflite/writer.js";
import { TFLM_FIXTURES } from "../fixtures.js";

const MODELS = [
  "hello_world_int8",
  "micro_speech_quantized",
  "person_detect",
  "keyword_scrambled_8bit",
  "trained_lstm_int8",
  "dtln_noise_suppression",
];
/** Bytecode the host copies into chunks for the closures that prepare creates (measured: at most about 12 KB). */
const HOST_CODE_COPIES = 32 * 1024;

interface Estimate {
  creation: { static: number; chunk: { initial: number; incremental: number }; heap: { initial: number; incremental: number }; stack: number };
  chunkTerms: { arena: number; persistent: number; model: number; runtime: number; app: number };
  slotTerms: { bundle: number; interpreter: number; app: number };
}

function modelPath(name: string): string {
  return resolve(TFLM_FIXTURES, tflmModel(name).model);
}

test("inspect without --moddable: report only", () => {
  const result = microq("inspect", modelPath("hello_world_int8"));
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /^model: /);
  assert.match(result.stdout, /arena bytes \(activations and scratch\): 48/);
  assert.not.match(result.stdout, /creation/);
});

test("inspect --moddable: comments and JSON", () => {
  const result = microq("inspect", modelPath("hello_world_int8"), "--moddable");
  assert.is(result.status, 0, result.stderr);
  const lines = result.stdout.split("\n");
  const jsonStart = lines.findIndex((line) => line.startsWith("{"));
  assert.ok(jsonStart >= 1);
  for (const line of lines.slice(0, jsonStart)) assert.match(line, /^\/\/ /);
  assert.match(lines[0], /arena 48 \+ persistent 1393/);
  const block = JSON.parse(lines.slice(jsonStart).join("\n")) as { creation: Estimate["creation"] };
  assert.equal(Object.keys(block.creation), ["static", "chunk", "heap", "stack"]);
  assert.is(block.creation.static, 0);
  assert.is(block.creation.chunk.incremental, 0);
  assert.is(block.creation.heap.incremental, 0);
});

for (const name of MODELS) {
  test(`inspect --moddable ${name}: covers XS heap use`, async () => {
    const result = microq("inspect", modelPath(name), "--moddable", "--json");
    assert.is(result.status, 0, result.stderr);
    const estimate = JSON.parse(result.stdout) as Estimate;
    const cost = await measureXsHeapCost(readFixture(tflmModel(name).model));

    assert.is(estimate.chunkTerms.arena, cost.arenaBytes);
    assert.is(estimate.chunkTerms.persistent, cost.persistentBytes);
    const slotsNeeded = cost.bundle.slots + cost.interpreter.slots + cost.firstInvoke.slots;
    assert.ok(estimate.slotTerms.bundle >= cost.bundle.slots, `bundle ${cost.bundle.slots} slots`);
    assert.ok(
      estimate.slotTerms.bundle + estimate.slotTerms.interpreter >= slotsNeeded,
      `${slotsNeeded} slots measured, ${estimate.slotTerms.bundle + estimate.slotTerms.interpreter} estimated`,
    );
    const hostOther = cost.interpreter.chunkBytes - cost.arenaBytes - cost.persistentBytes;
    assert.ok(hostOther >= 0);
    assert.ok(hostOther <= 2 * estimate.chunkTerms.model + HOST_CODE_COPIES, `host chunks beyond the plan: ${hostOther}`);
    assert.ok(estimate.creation.chunk.initial >= cost.arenaBytes + cost.persistentBytes + estimate.chunkTerms.model);
  });
}

test("inspect --moddable: stack margin", () => {
  const use = probeStackUse(readFixture(tflmModel("person_detect").model));
  const result = microq("inspect", modelPath("person_detect"), "--moddable", "--json");
  const estimate = JSON.parse(result.stdout) as Estimate;
  const deepest = Math.max(use.invokeSlots, use.constructSlots);
  assert.ok(estimate.creation.stack >= deepest + 512, `stack ${estimate.creation.stack}, measured ${deepest}`);
});

test("inspect --moddable: unsupported model", () => {
  // One EXP operator, which microq lacks.
  const tensor = (name: string) => ({ name, type: "int8" as const, shape: [1, 4], scale: [0.1], zeroPoint: [0] });
  const model = writeModel({ tensors: [tensor("in"), tensor("out")], operators: [{ op: "EXP", inputs: [0], outputs: [1] }], inputs: [0], outputs: [1] });
  const dir = mkdtempSync(join(tmpdir(), "microq-moddable-"));
  try {
    const path = join(dir, "exp.tflite");
    writeFileSync(path, model);
    assertOneLineError(microq("inspect", path, "--moddable"), /no creation block/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
