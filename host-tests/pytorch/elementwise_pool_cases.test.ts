// PyTorch 1.13 quantized add, add_relu, cat, avg_pool2d,
// adaptive_avg_pool2d, max_pool2d, hardswish, sigmoid, flatten and reshape:
// one case file per engine (qnnpack, onednn) and operator, the tie-heavy
// ties_* cases included. Each case becomes a .tflite model with the engine's
// scheme in its metadata and runs through the Interpreter, which must
// reproduce torch's output integers exactly.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { ELEMENTWISE_OPS, buildElementwiseModel } from "./elementwise_case_model.js";
import { CaseTensor, opCaseFiles, readOpCase, schemeForEngine } from "./op_case_model.js";

const files = opCaseFiles(ELEMENTWISE_OPS);

test("every elementwise op has cases of both engines", () => {
  for (const op of ELEMENTWISE_OPS) {
    const engines = new Set(files.map(readOpCase).filter((c) => c.op === op).map((c) => c.engine));
    assert.equal([...engines].sort(), ["onednn", "qnnpack"], `engines of op ${op}`);
  }
  assert.ok(files.some((file) => file.includes("__ties_")), "the tie-heavy cases are present");
});

for (const file of files) {
  test(`${file} matches torch`, () => {
    const opCase = readOpCase(file);
    const built = buildElementwiseModel(opCase);
    const interpreter = new Interpreter(built.model);
    assert.is(interpreter.requantization, schemeForEngine(opCase.engine));
    assert.is(interpreter.memoryFormat, opCase.inputs[0].memory_format);

    built.inputs.forEach((values, i) => {
      const isInt8 = interpreter.inputs[i].data instanceof Int8Array;
      interpreter.setInput(i, isInt8 ? Int8Array.from(values) : Uint8Array.from(values));
    });
    interpreter.invoke();
    const actual = Array.from(interpreter.outputs[0].data);
    assert.is(actual.length, built.expected.length);
    const mismatches = actual.filter((value, i) => value !== built.expected[i]).length;
    assert.is(mismatches, 0, `${mismatches} of ${actual.length} outputs differ (operators ${built.operators.join(", ")})`);
    assert.equal(actual, built.expected);
  });
}

/** Raw bytes of quantized values of a case tensor's type. */
function quantizedBytes(values: readonly number[], tensor: CaseTensor): Uint8Array {
  return tensor.dtype === "quint8" ? Uint8Array.from(values) : new Uint8Array(Int8Array.from(values).buffer);
}

test("every case matches torch on XS", async () => {
  for (const file of files) {
    const opCase = readOpCase(file);
    const built = buildElementwiseModel(opCase);
    const inputs = built.inputs.map((values, i) => quantizedBytes(values, opCase.inputs[i]));
    const result = await runModelOnXs({ model: built.model, inputs });
    assert.equal(Array.from(result.outputs[0]), Array.from(quantizedBytes(built.expected, opCase.output)), file);
  }
});

test("XS invoke allocates nothing", async () => {
  // One case per operator route, so that every kernel and both schemes run.
  const sample = files.filter((file) => /__(ties_add|add_relu|cat|avg_pool2d_k3s1p1|adaptive_avg_pool2d_1x1_nhwc|max_pool2d_k3s2p1|hardswish|sigmoid|flatten)\.json$/.test(file));
  assert.is(sample.length, 18, "sample cases: 9 routes times 2 engines");
  for (const file of sample) {
    const opCase = readOpCase(file);
    const built = buildElementwiseModel(opCase);
    const inputs = built.inputs.map((values, i) => quantizedBytes(values, opCase.inputs[i]));
    const count = await measureXsAllocations(built.model, 20, { inputs });
    assert.is(count.slots, 0, `${file} slots`);
    assert.is(count.chunkBytes, 0, `${file} chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${file} chunk bytes in use`);
  }
});

test.run();
