// Tests of the XS harness (tools/xs) that need no runtime. Where a model run is needed,
// a stub bundle replaces dist/microq.js.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { EngineTimeoutError } from "../../tools/cli_errors.js";
import { measureXsAllocations, measureXsCallAllocations } from "../../tools/xs/allocation.js";
import { XsError, runModelOnXs, runXsModule, xsnapPath } from "../../tools/xs/engine.js";
import { BASE64_CHUNK_CHARS, arrayBufferExpression } from "../../tools/xs/model-module.js";

// A replacement for the runtime bundle with the same Interpreter API. Its output 0 contains
// the model's length and checksum, so a test can check that the model arrived unchanged.
// Output 1 contains input 0 plus the number of invokes so far, modulo 256. A model that
// starts with 0xaa makes invoke() allocate an object per call.
const STUB_BUNDLE = `
class MicroqError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = "MicroqError";
  }
}
class InvalidModelError extends MicroqError {
  constructor(message) {
    super("INVALID_MODEL", message);
    this.name = "InvalidModelError";
  }
}
export class Interpreter {
  constructor(model) {
    const bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
    if (bytes[0] === 0xff) {
      throw new InvalidModelError("model byte 0 is 0xff: expected a TFLite flatbuffer");
    }
    let checksum = 0;
    for (let index = 0; index < bytes.length; index++) {
      checksum = (Math.imul(checksum, 31) + bytes[index]) >>> 0;
    }
    this.checksum = checksum;
    this.modelLength = bytes.length;
    this.inputs = [{ bytes: new Uint8Array(4) }];
    this.outputs = [{ bytes: new Uint8Array(8) }, { bytes: new Uint8Array(4) }];
    this.view = new DataView(this.outputs[0].bytes.buffer);
    this.arenaBytes = 1234;
    this.invokes = 0;
    this.allocates = bytes[0] === 0xaa;
    this.records = [];
  }
  invoke() {
    this.invokes++;
    this.view.setUint32(0, this.modelLength, true);
    this.view.setUint32(4, this.checksum, true);
    const input = this.inputs[0].bytes;
    const output = this.outputs[1].bytes;
    for (let index = 0; index < 4; index++) {
      output[index] = input[index] + this.invokes;
    }
    if (this.allocates) {
      this.records.push({ invoke: this.invokes });
    }
  }
}
`;

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) {
    sum = (Math.imul(sum, 31) + byte) >>> 0;
  }
  return sum;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

let stubFolder = "";
let stubBundlePath = "";

test.before(() => {
  stubFolder = fs.mkdtempSync(path.join(os.tmpdir(), "microq-stub-"));
  stubBundlePath = path.join(stubFolder, "microq.js");
  fs.writeFileSync(stubBundlePath, STUB_BUNDLE);
});

test.after(() => {
  fs.rmSync(stubFolder, { recursive: true, force: true });
});

test("xsnapPath finds the built CLI", () => {
  assert.ok(fs.existsSync(xsnapPath()));
});

test("runXsModule runs module with relative import", async () => {
  const result = await runXsModule(
    {
      "main.mjs": `import { double } from "./lib/math.js";\nprint("double", double(21));`,
      "lib/math.js": "export function double(value) { return value * 2; }",
    },
    "main.mjs",
  );
  assert.is(result.stdout, "double 42\n");
  assert.is(result.stderr, "");
  assert.is(result.status, 0);
  assert.is(result.error, undefined);
});

test("runXsModule writes Uint8Array files as bytes", async () => {
  const source = new TextEncoder().encode(`print("from bytes");`);
  const result = await runXsModule({ "main.mjs": source }, "main.mjs");
  assert.is(result.stdout, "from bytes\n");
});

test("runXsModule captures non-ASCII print", async () => {
  const result = await runXsModule({ "main.mjs": `print("é", "😀", 1.5);` }, "main.mjs");
  assert.is(result.stdout, "é 😀 1.5\n");
});

test("runXsModule reports thrown error with code", async () => {
  const result = await runXsModule(
    {
      "main.mjs": `
        class ModelError extends Error {
          constructor(message) { super(message); this.name = "ModelError"; this.code = "INVALID_MODEL"; }
        }
        print("before");
        throw new ModelError("tensor 3 has 5 dimensions: the maximum is 4");
      `,
    },
    "main.mjs",
  );
  assert.is(result.status, 1);
  assert.is(result.stdout, "before\n");
  assert.is(result.error?.name, "ModelError");
  assert.is(result.error?.message, "tensor 3 has 5 dimensions: the maximum is 4");
  assert.is(result.error?.code, "INVALID_MODEL");
  assert.match(result.stderr, "uncaught ModelError: tensor 3 has 5 dimensions");
});

test("runXsModule reports thrown non-error value", async () => {
  const result = await runXsModule({ "main.mjs": `throw 42;` }, "main.mjs");
  assert.is(result.status, 1);
  assert.is(result.error?.message, "42");
  assert.is(result.error?.code, undefined);
});

test("runXsModule reports syntax error", async () => {
  const result = await runXsModule({ "main.mjs": "let = ;" }, "main.mjs");
  assert.is(result.status, 1);
  assert.is(result.error?.name, "SyntaxError");
});

test("runXsModule reports missing import", async () => {
  const result = await runXsModule({ "main.mjs": `import "./missing.js";` }, "main.mjs");
  assert.is(result.status, 1);
  assert.ok(result.error, "expected an error for the missing module");
});

test("runXsModule reports unsettled top-level await", async () => {
  const result = await runXsModule({ "main.mjs": "await new Promise(() => {});" }, "main.mjs");
  assert.is(result.status, 1);
  assert.is(result.error, undefined);
  assert.match(result.stderr, "before the entry module finished");
});

test("runXsModule rejects after timeout", async () => {
  const start = Date.now();
  const run = runXsModule({ "main.mjs": "for (;;) {}" }, "main.mjs", { timeoutMs: 500 });
  await run.then(
    () => assert.unreachable("the endless loop finished"),
    (error: Error) => {
      assert.instance(error, EngineTimeoutError);
      assert.is(error.message, "the XS run timed out after 500 ms; the model may be too large to run on XS in that time");
    },
  );
  assert.ok(Date.now() - start < 10_000, "the process was not killed at the timeout");
});

test("runXsModule rejects invalid file names", async () => {
  await runXsModule({ "../escape.mjs": "" }, "../escape.mjs").then(
    () => assert.unreachable("a file outside the run folder was accepted"),
    (error: Error) => assert.match(error.message, "invalid file name"),
  );
  await runXsModule({ "main.mjs": "" }, "other.mjs").then(
    () => assert.unreachable("a missing entry module was accepted"),
    (error: Error) => assert.match(error.message, "is not among the files"),
  );
});

test("arrayBufferExpression splits data into chunks", async () => {
  // One chunk of base64 decodes to 3/4 of its length in bytes.
  const chunkBytes = (BASE64_CHUNK_CHARS / 4) * 3;
  for (const size of [1, 2, chunkBytes, chunkBytes + 1, 3 * chunkBytes + 2]) {
    const bytes = new Uint8Array(size);
    for (let index = 0; index < size; index++) {
      bytes[index] = (index * 13 + (index >> 10)) & 0xff;
    }
    const expression = arrayBufferExpression(bytes);
    const literals = expression.match(/"[A-Za-z0-9+/=]*"/g) ?? [];
    assert.is(literals.length, Math.ceil(size / chunkBytes), `${size} bytes: number of literals`);
    for (const text of literals) {
      assert.ok(text.length - 2 <= BASE64_CHUNK_CHARS, `${size} bytes: a literal has ${text.length - 2} characters`);
    }

    const result = await runXsModule(
      {
        "main.mjs": `
          const buffer = ${expression};
          const bytes = new Uint8Array(buffer);
          let checksum = 0;
          for (let index = 0; index < bytes.length; index++) checksum = (Math.imul(checksum, 31) + bytes[index]) >>> 0;
          print(buffer.byteLength, buffer.resizable === true, checksum);
        `,
      },
      "main.mjs",
    );
    assert.is(result.stderr, "", `${size} bytes`);
    assert.is(result.stdout, `${size} false ${checksum(bytes)}\n`, `${size} bytes: length, fixed length and checksum`);
  }
});

test("runModelOnXs returns outputs of last invoke", async () => {
  const model = new Uint8Array(300 * 1024);
  for (let index = 0; index < model.length; index++) {
    model[index] = (index * 7 + (index >> 8)) & 0xff;
  }
  const result = await runModelOnXs({
    model,
    inputs: [new Uint8Array([10, 20, 30, 255])],
    bundlePath: stubBundlePath,
    repeat: 3,
  });
  assert.is(result.outputs.length, 2);
  assert.is(readUint32(result.outputs[0], 0), model.length);
  assert.is(readUint32(result.outputs[0], 4), checksum(model));
  assert.equal([...result.outputs[1]], [13, 23, 33, 2]);
  assert.is(result.arenaBytes, 1234);
  assert.is(result.meterPerInvoke, undefined);
});

test("runModelOnXs measures meter of one invoke", async () => {
  const result = await runModelOnXs({
    model: new Uint8Array([1, 2, 3]),
    inputs: [new Uint8Array(4)],
    bundlePath: stubBundlePath,
    measure: true,
  });
  assert.type(result.meterPerInvoke, "number");
  assert.ok((result.meterPerInvoke ?? 0) > 0, `meter ${result.meterPerInvoke} is not positive`);
});

test("runModelOnXs rejects with runtime message and code", async () => {
  const run = runModelOnXs({ model: new Uint8Array([0xff, 0]), inputs: [], bundlePath: stubBundlePath });
  await run.then(
    () => assert.unreachable("the invalid model was accepted"),
    (error: XsError) => {
      assert.instance(error, XsError);
      assert.is(error.message, "model byte 0 is 0xff: expected a TFLite flatbuffer");
      assert.is(error.code, "INVALID_MODEL");
      assert.is(error.xsName, "InvalidModelError");
    },
  );
});

test("runModelOnXs rejects wrong input count", async () => {
  const run = runModelOnXs({ model: new Uint8Array([1]), inputs: [], bundlePath: stubBundlePath });
  await run.then(
    () => assert.unreachable("a missing input was accepted"),
    (error: Error) => assert.is(error.message, "the model has 1 input but the request has 0: pass one Uint8Array per model input"),
  );
});

test("runModelOnXs rejects wrong input size", async () => {
  const run = runModelOnXs({ model: new Uint8Array([1]), inputs: [new Uint8Array(3)], bundlePath: stubBundlePath });
  await run.then(
    () => assert.unreachable("a short input was accepted"),
    (error: Error) => assert.is(error.message, "input 0 has 3 bytes but the model expects 4"),
  );
});

test("runModelOnXs rejects missing bundle", async () => {
  const bundlePath = path.join(stubFolder, "absent.js");
  const run = runModelOnXs({ model: new Uint8Array([1]), inputs: [new Uint8Array(4)], bundlePath });
  await run.then(
    () => assert.unreachable("a missing bundle was accepted"),
    (error: Error) => assert.match(error.message, "runtime bundle not found"),
  );
});

async function measureStep(source: string, calls = 10) {
  return measureXsCallAllocations({ "subject.mjs": source }, "subject.mjs", calls);
}

test("allocation count is zero for empty step", async () => {
  const count = await measureStep("export function step() {}");
  assert.equal(count, { slots: 0, chunkBytes: 0, chunkBytesInUse: 0 });
});

test("allocation count is zero for typed array arithmetic", async () => {
  const count = await measureStep(`
    const values = new Int32Array(64);
    const view = new DataView(values.buffer);
    export function step() {
      for (let index = 0; index < values.length; index++) {
        values[index] = Math.imul(values[index] + index, 3) >> 1;
      }
      view.setFloat32(0, view.getFloat32(4, true) * 0.5, true);
    }
  `);
  assert.equal(count, { slots: 0, chunkBytes: 0, chunkBytesInUse: 0 });
});

test("allocation count detects array per call", async () => {
  const count = await measureStep("export function step() { return [1, 2, 3]; }");
  assert.ok(count.slots > 0, `slots ${count.slots}`);
  assert.ok(count.chunkBytes > 0, `chunkBytes ${count.chunkBytes}`);
  assert.ok(count.chunkBytesInUse > 0, `chunkBytesInUse ${count.chunkBytesInUse}`);
});

test("allocation count detects string concatenation", async () => {
  const count = await measureStep(`let text = ""; export function step() { text = "value " + Math.random(); }`);
  assert.ok(count.chunkBytes > 0, `chunkBytes ${count.chunkBytes}`);
});

test("allocation count detects array growth", async () => {
  const count = await measureStep("const numbers = []; export function step() { numbers.push(1); }");
  assert.ok(count.chunkBytes > 0, `chunkBytes ${count.chunkBytes}`);
});

test("allocation count survives gc in step", async () => {
  // gc() does nothing while the collector is disabled, so it cannot reset the counters.
  const count = await measureStep("let latest; export function step() { latest = [1, 2, 3]; gc(); }");
  assert.ok(count.slots > 0, `slots ${count.slots}`);
  assert.ok(count.chunkBytes > 0, `chunkBytes ${count.chunkBytes}`);
});

test("allocation count is exact past heap growth", async () => {
  // 300000 calls allocate more slots than the initial heap of 256 Ki slots, which would
  // trigger collections if the collector were enabled.
  const one = await measureStep("export function step() { return [1, 2, 3]; }", 1);
  const many = await measureStep("export function step() { return [1, 2, 3]; }", 300_000);
  assert.is(many.slots, one.slots * 300_000);
  assert.is(many.chunkBytes, one.chunkBytes * 300_000);
});

test("allocation count reports step error", async () => {
  const run = measureStep(`export function step() { throw new RangeError("step failed"); }`);
  await run.then(
    () => assert.unreachable("the throwing step was measured"),
    (error: XsError) => {
      assert.instance(error, XsError);
      assert.is(error.message, "step failed");
      assert.is(error.xsName, "RangeError");
    },
  );
});

test("measureXsAllocations counts only invoke", async () => {
  const quiet = await measureXsAllocations(new Uint8Array([1, 2, 3]), 10, { bundlePath: stubBundlePath });
  assert.equal(quiet, { slots: 0, chunkBytes: 0, chunkBytesInUse: 0 });

  const allocating = await measureXsAllocations(new Uint8Array([0xaa, 2, 3]), 10, {
    bundlePath: stubBundlePath,
    inputs: [new Uint8Array([1, 2, 3, 4])],
  });
  assert.ok(allocating.slots > 0, `slots ${allocating.slots}`);
});

test.run();
