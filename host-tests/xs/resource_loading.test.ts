// Loading a model from a buffer that stays the only copy of the file, as a Moddable
// Resource in flash is: on XS, creating the Interpreter must not copy the weights.
//
// Method. XS on the host has no read-only host buffer, so the model is an ArrayBuffer
// that the run decodes once and hands to `new Interpreter` directly, as the simulation's
// Resource shim does. tools/moddable/heap_cost.ts reads microq-xs-host's heap counters
// after a full collection before and after `new Interpreter(model)`, with the model
// already in the heap, so the difference is what the interpreter keeps alive. That is:
// the arena, the persistent parameters, the parsed model (on this 64-bit host each plain
// array element is a 32-byte slot, while person_detect's 5,476 per-channel scales and as
// many zero points are 4-byte typed array elements) and the bytecode the host copies for each closure the kernels create
// (a device keeps bytecode in flash). The test subtracts the first three and requires
// the rest to be far below the 219 KB of weights. A positive control gives the Interpreter a
// copy of the model made inside the measured step and checks that the counters show it.
// Last, the weights are changed in the buffer after the interpreter was created: the
// output changes, so invoke reads them from that buffer.
import { test } from "uvu";
import * as assert from "uvu/assert";

import { loadBundle } from "../../tools/bundle.js";
import { measureXsHeapCost } from "../../tools/moddable/heap_cost.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { BUNDLE_FILE, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { throwIfFailed } from "../../tools/xs/runner.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

const HOST_SLOT_BYTES = 32;

async function personDetect() {
  const entry = tflmModel("person_detect");
  const model = readFixture(entry.model);
  const microq = await loadBundle();
  const parsed = microq.parseModel(model);
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
  return { entry, model, parsed, elements, typedBytes, nameBytes, weightBytes };
}

test("Interpreter from buffer: weights not copied", async () => {
  const { model, elements, typedBytes, nameBytes, weightBytes } = await personDetect();
  assert.ok(weightBytes > 200_000, `person_detect weights ${weightBytes} bytes`);

  const cost = await measureXsHeapCost(model);
  assert.is(cost.modelBytes, model.byteLength);
  assert.ok(cost.model.chunkBytes >= model.byteLength, "the counters see the model buffer itself");
  assert.is(cost.arenaBytes, 55_296);

  // Plain arrays take a slot per element. The scale and zero point typed arrays take
  // their bytes plus chunk headers, which this lower bound leaves out.
  const parsedModelBytes = elements * HOST_SLOT_BYTES + typedBytes + nameBytes;
  const rest = cost.interpreter.chunkBytes - cost.arenaBytes - cost.persistentBytes - parsedModelBytes;
  assert.ok(rest >= 0, `interpreter chunks ${cost.interpreter.chunkBytes} are below their known parts`);
  assert.ok(rest < 40_000, `${rest} chunk bytes beyond arena, parameters and parsed model; weights are ${weightBytes}`);
  assert.is(cost.firstInvoke.chunkBytes, 0, "the first invoke allocates no chunks");

  const control = await measureXsHeapCost(model, { copyModel: true });
  const copied = control.interpreter.chunkBytes - cost.interpreter.chunkBytes;
  assert.ok(copied >= model.byteLength, `a copy shows as ${copied} bytes`);
  assert.ok(copied < model.byteLength + 1024, `a copy shows as ${copied} bytes`);
});

test("invoke reads weights in place", async () => {
  const { entry, model, parsed } = await personDetect();
  const personCase = entry.cases.find((c) => c.case === "image_person");
  assert.ok(personCase);
  // The last FULLY_CONNECTED or CONV_2D layer's filter (input 1), negated in place after the
  // interpreter exists.
  const layer = [...parsed.operators].reverse().find((op) => op.name === "CONV_2D" || op.name === "FULLY_CONNECTED");
  assert.ok(layer);
  const filter = parsed.tensors[layer.inputs[1]];
  assert.ok(filter.dataOffset >= 0);
  const source = `import { Interpreter } from "./${BUNDLE_FILE}";
const model = ${arrayBufferExpression(model)};
const image = new Uint8Array(${arrayBufferExpression(readFixture(personCase.inputs[0]))});
const interpreter = new Interpreter(model);
function scores() {
  interpreter.inputs[0].bytes.set(image);
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data);
}
const before = scores();
const filter = new Int8Array(model, ${filter.dataOffset}, ${filter.byteLength});
for (let i = 0; i < filter.length; i++) filter[i] = filter[i] === -128 ? 127 : -filter[i];
const after = scores();
print(JSON.stringify({ before, after }));
`;
  const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs");
  throwIfFailed(result);
  const { before, after } = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as { before: number[]; after: number[] };
  assert.equal(before, asInt8(readFixture(personCase.outputs[0])), "TFLM's golden scores");
  assert.not.equal(after, before, "negating the filter in the buffer changed the scores");
});

test.run();
