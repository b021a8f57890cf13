// Loads each example model from a read-only buffer that stays the only copy of the file,
// as a Moddable Resource in flash does. On XS, creating the Interpreter must not copy the
// weights, so invoke reads them from that buffer.
//
// Method. microq-xs-host's readOnlyResource(path) (tools/xs/host/host.c) reads the .tflite
// file into memory outside the XS heaps and returns it as a petrified host buffer, which
// is what Moddable's Resource returns. For each model in examples/*/*.tflite the run:
// - writes one byte through a Uint8Array over the buffer and expects a TypeError, so the
//   buffer is read-only and the runtime cannot have written into it either;
// - reads the chunk-heap counter after a full collection before and after
//   `new Interpreter(resource)`. The model's bytes are not in the chunk heap, so the
//   difference is what the interpreter keeps alive: the arena, persistentBytes, the parsed
//   model and a fixed rest (see the accounting below). A copy of the weights would add
//   at least their bytes;
// - invokes once with a known input and compares the outputs with an independent result:
//   TFLM's golden scores for person_detect's fixture image, and for the other models the
//   Node build of the runtime on the same input, loaded from an ordinary ArrayBuffer.
import fs from "node:fs";
import path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { REPOSITORY_ROOT, loadBundle } from "../../tools/bundle.js";
import { BUNDLE_FILE, RECORD_PREFIX, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { defaultBundlePath, xsHostPath } from "../../tools/xs/paths.js";
import { runModuleOn, throwIfFailed } from "../../tools/xs/runner.js";
import { readFixture, tflmModel } from "../fixtures.js";

// Accounting of what `new Interpreter` keeps alive, on XS in @agoric/xsnap 0.15.0 on a
// 64-bit host. Its known parts:
// - arenaBytes: the arena ArrayBuffer.
// - persistentBytes: what prepare allocates per operator. These are bias copies (int32,
//   read from the model once) and derived per-channel multipliers and shifts, not weights.
// - the parsed model: a 32-byte slot per element of each plain array (tensor shapes,
//   operator inputs and outputs), the bytes of each tensor's scale and zero point typed
//   arrays and the characters of each tensor name. Chunk headers are left out, so this
//   is an estimate from below.
// Two counters are checked against them, each with a fixed slack:
// - Chunk bytes in use (heapChunkBytesInUse). Beyond the known parts they hold chunk
//   headers, the tables of each prepared operator and, above all, a copy of the bytecode
//   of every closure that prepare creates. xsRun.c (XS_CODE_CODE) copies a function's
//   bytecode into a new chunk each time it makes a closure, while a device runs it from
//   flash. That rest was 3,350 to 12,588 bytes for the examples (person_detect's 31
//   operators the most), so CHUNK_SLACK is 16,384, down from 40,000. It cannot go below
//   hello_world's 420 weight bytes: hello_world's own rest is 3,461 bytes.
// - Bytes of live ArrayBuffers (heapArrayBufferBytes), which leave out code, headers and
//   other chunks. They must not exceed arena + persistentBytes + scale and zero point
//   bytes by more than BUFFER_SLACK. The excess was at most 160 bytes (the pytorch-digits
//   models; persistentBytes also notes some memory that is not in an ArrayBuffer, so the
//   excess is negative for the other examples), and BUFFER_SLACK is 256, below the
//   420 weight bytes of the smallest model. The test checks for each model that one copy
//   of its weights in an ArrayBuffer would exceed BUFFER_SLACK.
// A positive control creates a second Interpreter from a copy of the model made inside
// the measured step: the ArrayBuffer bytes must grow by exactly the model's size more.
const HOST_SLOT_BYTES = 32;
const CHUNK_SLACK = 16_384;
const BUFFER_SLACK = 256;
const RECORD = `${RECORD_PREFIX}resource `;

interface ResourceRun {
  readOnly: string;
  chunkBytes: number;
  bufferBytes: number;
  firstInvokeChunkBytes: number;
  controlChunkBytes: number;
  controlBufferBytes: number;
  modelBytes: number;
  arenaBytes: number;
  persistentBytes: number;
  outputs: number[][];
}

function exampleModels(): string[] {
  const examples = path.join(REPOSITORY_ROOT, "examples");
  const files: string[] = [];
  for (const folder of fs.readdirSync(examples).sort()) {
    const dir = path.join(examples, folder);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith(".tflite")) files.push(path.join(dir, name));
    }
  }
  return files;
}

/** Deterministic input bytes (a linear congruential generator), different for each input. */
function knownInput(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

function runSource(modelPath: string, inputs: Uint8Array[]): string {
  return `// Generated by host-tests/xs/resource_loading.test.ts.
function reading() {
  gc();
  return { chunkBytes: heapChunkBytesInUse(), bufferBytes: heapArrayBufferBytes() };
}
const microq = await import("./${BUNDLE_FILE}");
const inputs = [${inputs.map((bytes) => arrayBufferExpression(bytes)).join(", ")}];
const resource = readOnlyResource(${JSON.stringify(modelPath)});
let readOnly = "the write was accepted";
try {
  new Uint8Array(resource)[0] ^= 1;
} catch (error) {
  readOnly = String(error);
}
const before = reading();
const interpreter = new microq.Interpreter(resource);
const created = reading();
for (let index = 0; index < inputs.length; index++) interpreter.inputs[index].bytes.set(new Uint8Array(inputs[index]));
interpreter.invoke();
const invoked = reading();
// Positive control: an Interpreter given a copy of the model, made inside the measured step.
const controlBefore = reading();
const control = new microq.Interpreter(new Uint8Array(resource).slice().buffer);
const controlCreated = reading();
print(${JSON.stringify(RECORD)} + JSON.stringify({
  readOnly,
  chunkBytes: created.chunkBytes - before.chunkBytes,
  bufferBytes: created.bufferBytes - before.bufferBytes,
  firstInvokeChunkBytes: invoked.chunkBytes - created.chunkBytes,
  controlChunkBytes: controlCreated.chunkBytes - controlBefore.chunkBytes,
  controlBufferBytes: controlCreated.bufferBytes - controlBefore.bufferBytes,
  modelBytes: new Uint8Array(resource).length,
  arenaBytes: interpreter.arenaBytes,
  persistentBytes: interpreter.persistentBytes,
  outputs: interpreter.outputs.map((output) => Array.from(output.bytes)),
}));
`;
}

async function runFromResource(modelPath: string, inputs: Uint8Array[]): Promise<ResourceRun> {
  const files = { [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": runSource(modelPath, inputs) };
  const result = await runModuleOn({ path: xsHostPath(), args: [] }, files, "main.mjs", { timeoutMs: 120_000 });
  throwIfFailed(result);
  const line = result.stdout.split("\n").find((text) => text.startsWith(RECORD));
  if (line === undefined) throw new Error(`the XS run printed no record: the stdout was ${JSON.stringify(result.stdout)}`);
  return JSON.parse(line.slice(RECORD.length)) as ResourceRun;
}

const models = exampleModels();

test("examples: at least four models", () => {
  assert.ok(models.length >= 4, `found ${models.length} models in examples/`);
});

for (const modelPath of models) {
  const name = path.relative(REPOSITORY_ROOT, modelPath);
  test(`${name}: runs from read-only buffer`, async () => {
    const bytes = new Uint8Array(fs.readFileSync(modelPath));
    const microq = await loadBundle();
    const parsed = microq.parseModel(bytes);
    let elements = 0;
    let typedBytes = 0;
    let nameBytes = 0;
    let weightBytes = 0;
    for (const tensor of parsed.tensors) {
      elements += tensor.shape.length;
      typedBytes += tensor.scale.byteLength + tensor.zeroPoint.byteLength;
      nameBytes += tensor.name.length;
      if (tensor.dataOffset >= 0) weightBytes += tensor.byteLength;
    }
    for (const op of parsed.operators) elements += op.inputs.length + op.outputs.length;
    const parsedModelBytes = elements * HOST_SLOT_BYTES + typedBytes + nameBytes;

    // The reference: TFLM's golden scores for person_detect, otherwise Node on the same input.
    let inputs: Uint8Array[];
    let expected: number[][];
    if (path.basename(modelPath) === "person_detect.tflite") {
      const entry = tflmModel("person_detect");
      assert.equal(bytes, readFixture(entry.model), "the example is TFLM's fixture model");
      const personCase = entry.cases.find((c) => c.case === "image_person");
      assert.ok(personCase);
      inputs = [readFixture(personCase.inputs[0])];
      expected = [Array.from(readFixture(personCase.outputs[0]))];
      assert.equal(Array.from(new Int8Array(new Uint8Array(expected[0]).buffer)), [-113, 113], "TFLM's golden scores");
    } else {
      const reference = new microq.Interpreter(bytes.slice().buffer);
      inputs = reference.inputs.map((tensor, index) => knownInput(tensor.bytes.byteLength, index + 1));
      inputs.forEach((input, index) => reference.inputs[index].bytes.set(input));
      reference.invoke();
      expected = reference.outputs.map((output) => Array.from(output.bytes));
    }

    const run = await runFromResource(modelPath, inputs);
    assert.is(run.readOnly, "TypeError: read-only buffer", "a write into the buffer throws");
    assert.equal(run.outputs, expected);

    const chunkRest = run.chunkBytes - run.arenaBytes - run.persistentBytes - parsedModelBytes;
    assert.ok(chunkRest >= 0, `interpreter chunks ${run.chunkBytes} are below their known parts`);
    assert.ok(
      chunkRest < CHUNK_SLACK,
      `${chunkRest} chunk bytes beyond arena, persistent parameters and parsed model; weights are ${weightBytes}`,
    );
    const bufferRest = run.bufferBytes - run.arenaBytes - run.persistentBytes - typedBytes;
    assert.ok(
      bufferRest <= BUFFER_SLACK,
      `${bufferRest} ArrayBuffer bytes beyond arena, persistent parameters, scales and zero points; weights are ${weightBytes}`,
    );
    assert.ok(
      bufferRest + weightBytes > BUFFER_SLACK,
      `a copy of the ${weightBytes} weight bytes would show: ${bufferRest} + ${weightBytes} exceeds ${BUFFER_SLACK}`,
    );
    assert.is(run.firstInvokeChunkBytes, 0, "the first invoke allocates no chunks");

    assert.is(run.modelBytes, bytes.length);
    assert.is(run.controlBufferBytes - run.bufferBytes, bytes.length, "the ArrayBuffer count shows a copy of the model exactly");
    assert.ok(run.controlChunkBytes - run.chunkBytes >= bytes.length, "the chunk count shows a copy of the model");
  });
}

test.run();
