// One real call per error class of the runtime: each must raise the class
// with its stable `code`, and its message must name the value at fault and
// the fix.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { writeModel } from "../../tools/tflite/writer.js";
import { readFixture, tflmModel } from "../fixtures.js";

function helloWorld(): Uint8Array {
  return readFixture(tflmModel("hello_world_int8").model);
}

/** Runs `call` and returns what it threw, failing the test when it returns. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  assert.unreachable("expected the call to throw");
  return undefined;
}

test("InvalidModelError for a non-TFLite file", async () => {
  const microq = await loadBundle();
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const error = thrownBy(() => new microq.Interpreter(png));

  assert.instance(error, microq.InvalidModelError);
  assert.instance(error, microq.MicroqError);
  const { code, message } = error as InstanceType<typeof microq.InvalidModelError>;
  assert.is(code, "INVALID_MODEL");
  assert.match(message, "expected \"TFL3\"");
  assert.match(message, "pass a TensorFlow Lite flatbuffer");
});

test("UnsupportedError for an EXP operator", async () => {
  const microq = await loadBundle();
  const tensor = (name: string) => ({ name, type: "int8" as const, shape: [1, 4], scale: [0.1], zeroPoint: [0] });
  const model = writeModel({
    tensors: [tensor("in"), tensor("out")],
    operators: [{ op: "EXP", inputs: [0], outputs: [1] }],
    inputs: [0],
    outputs: [1],
  });
  const error = thrownBy(() => new microq.Interpreter(model));

  assert.instance(error, microq.UnsupportedError);
  const { code, message, problems } = error as InstanceType<typeof microq.UnsupportedError>;
  assert.is(code, "UNSUPPORTED");
  assert.match(message, "EXP");
  assert.match(message, "Use only operators and types microq supports");
  assert.equal(problems, ["operator 0 EXP (not implemented)"]);
});

test("InvalidInputError for a typed array arena", async () => {
  const microq = await loadBundle();
  const error = thrownBy(() => new microq.Interpreter(helloWorld(), { arena: new Uint8Array(64) as unknown as ArrayBuffer }));

  assert.instance(error, microq.InvalidInputError);
  const { code, message } = error as InstanceType<typeof microq.InvalidInputError>;
  assert.is(code, "INVALID_INPUT");
  assert.match(message, "options.arena must be an ArrayBuffer, got a typed array");
  assert.match(message, "pass new ArrayBuffer(arenaBytes)");
});

test("ArenaTooSmallError for a 16-byte arena", async () => {
  const microq = await loadBundle();
  const needed = new microq.Interpreter(helloWorld()).arenaBytes;
  const error = thrownBy(() => new microq.Interpreter(helloWorld(), { arena: new ArrayBuffer(16) }));

  assert.instance(error, microq.ArenaTooSmallError);
  const { code, message } = error as InstanceType<typeof microq.ArenaTooSmallError>;
  assert.is(code, "ARENA_TOO_SMALL");
  assert.match(message, `arena has 16 bytes, the model needs ${needed}`);
  assert.match(message, `pass an ArrayBuffer of at least ${needed} bytes`);
});

test.run();
