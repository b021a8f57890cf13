// SVDF on the XS engine. The compiled kernel runs unbundled on hand-built
// operators with int8 and int16 state, and must give the integers of the
// BigInt reference of TFLM's EvalIntegerSvdfReference over several invokes.
// Its invoke must allocate nothing on the XS heap. keyword_scrambled_8bit
// covers int8 state inside whole models (models/tflm_xs.test.ts), but int16
// state runs on XS only here.

import { readFileSync } from "node:fs";
import { posix, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { measureXsCallAllocations } from "../../tools/xs/allocation.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { INT16_CASE, INT8_CASE, SvdfCase, SvdfData, randomData, referenceSvdf, svdfSetup } from "./svdf_cases.js";

const BUILD = resolve(REPOSITORY_ROOT, "build");
const RECORD = "svdf ";

/**
 * Returns the compiled modules that `roots` (paths relative to build/)
 * import, directly or not, renamed to .mjs with their relative imports
 * rewritten, because the XS host loads only .mjs files as modules. The
 * sourceMappingURL comment is removed, because xsnap rejects a module that
 * has one.
 */
function moduleFiles(roots: readonly string[]): Record<string, string> {
  const files: Record<string, string> = {};
  const pending = [...roots];
  while (pending.length > 0) {
    const path = pending.pop()!;
    const key = path.replace(/\.js$/, ".mjs");
    if (key in files) continue;
    const source = readFileSync(resolve(BUILD, path), "utf8");
    for (const match of source.matchAll(/from "(\.{1,2}\/[^"]*\.js)"/g)) pending.push(posix.join(posix.dirname(path), match[1]));
    files[key] = source.replace(/(from "\.{1,2}\/[^"]*)\.js"/g, '$1.mjs"').replace(/^\/\/# sourceMappingURL=.*$/m, "");
  }
  return files;
}

/**
 * Source of setup.mjs: prepareSvdf() prepares the kernel on the case's
 * tensors and options, binds one buffer per tensor, loads the weights and
 * resets the state as TFLM does.
 */
function setupSource(c: SvdfCase, data: SvdfData): string {
  const setup = svdfSetup(c);
  const table = setup.op.options!;
  const spec = {
    optionsBytes: Array.from(setup.reader.bytes),
    optionsPosition: table.position,
    tensors: setup.tensors.map((t) => ({ ...t, scale: Array.from(t.scale), zeroPoint: Array.from(t.zeroPoint) })),
    op: { ...setup.op, options: null },
    stateIsInt16: c.stateType === TensorType.INT16,
    stateFill: c.stateType === TensorType.INT8 ? c.stateZeroPoint : 0,
    ...data,
  };
  return `
import { svdfKernel } from "./kernels/svdf.mjs";
import { FlatBufferReader } from "./runtime/flatbuffer.mjs";

export const spec = ${JSON.stringify(spec)};

export function prepareSvdf() {
  const reader = new FlatBufferReader(new Uint8Array(spec.optionsBytes));
  const tensors = spec.tensors.map((t) => ({ ...t, scale: new Float32Array(t.scale), zeroPoint: new Int32Array(t.zeroPoint) }));
  const op = { ...spec.op, options: reader.table(spec.optionsPosition, "SVDF options") };

  const scratch = [];
  const context = {
    reader,
    scheme: { name: "tflm" },
    memoryFormat: "contiguous",
    tensor: (index) => tensors[index],
    isConstant: () => false,
    constantBytes: () => { throw new Error("no constant tensors here"); },
    constantInt32: () => { throw new Error("no constant tensors here"); },
    requestScratch: (bytes) => scratch.push(new ArrayBuffer(bytes)) - 1,
    notePersistentBytes: () => {},
  };
  const prepared = svdfKernel.prepare(context, op);

  const buffers = tensors.map((t) => new ArrayBuffer(t.byteLength));
  prepared.bind({
    int8: (index) => new Int8Array(buffers[index]),
    uint8: (index) => new Uint8Array(buffers[index]),
    int16: (index) => new Int16Array(buffers[index]),
    int32: (index) => new Int32Array(buffers[index]),
    float32: (index) => new Float32Array(buffers[index]),
    scratchInt32: (handle, length) => new Int32Array(scratch[handle], 0, length),
  });

  const StateArray = spec.stateIsInt16 ? Int16Array : Int8Array;
  new Int8Array(buffers[1]).set(spec.weightsFeature);
  new StateArray(buffers[2]).set(spec.weightsTime);
  if (spec.op.inputs[3] >= 0) new Int32Array(buffers[3]).set(spec.bias);
  const state = new StateArray(buffers[4]);
  state.fill(spec.stateFill);
  return { prepared, input: new Int8Array(buffers[0]), output: new Int8Array(buffers[5]), state };
}
`;
}

const RUN_SOURCE = `
import { prepareSvdf, spec } from "./setup.mjs";
const layer = prepareSvdf();
for (const row of spec.inputs) {
  layer.input.set(row);
  layer.prepared.invoke();
  print("${RECORD}output " + Array.from(layer.output).join(","));
}
print("${RECORD}state " + Array.from(layer.state).join(","));
`;

const STEP_SOURCE = `
import { prepareSvdf, spec } from "./setup.mjs";
const layer = prepareSvdf();
layer.input.set(spec.inputs[0]);
export function step() {
  layer.prepared.invoke();
}
`;

function kernelFiles(): Record<string, string> {
  return moduleFiles(["kernels/svdf.js", "runtime/flatbuffer.js"]);
}

const CASES: Array<[string, SvdfCase, SvdfData]> = [
  ["int8 state", INT8_CASE, randomData(INT8_CASE, 7, 11)],
  ["int16 state", INT16_CASE, randomData(INT16_CASE, 7, 37)],
  ["int16 state with a zero point", { ...INT16_CASE, stateZeroPoint: -1234, hasBias: false }, randomData({ ...INT16_CASE, hasBias: false }, 6, 41)],
  [
    "int8 state that saturates and wraps",
    { ...INT8_CASE, inputScale: Math.fround(0.5), weightsFeatureScale: Math.fround(0.5), stateScale: Math.fround(8), stateZeroPoint: 100 },
    randomData(INT8_CASE, 5, 53),
  ],
];

// Sums beyond int32 become doubles on XS before `| 0` wraps them.
const WRAPPING_CASE: SvdfCase = { ...INT16_CASE, memorySize: 600, rank: 3, units: 2, batches: 1, inputScale: Math.fround(2), stateScale: Math.fround(0.01) };
const wrappingData = randomData(WRAPPING_CASE, 20, 79, 2 ** 31 - 1);
wrappingData.weightsTime = wrappingData.weightsTime.map((w) => (w < 0 ? -32768 : 32767));
CASES.push(["int16 sums that wrap int32", WRAPPING_CASE, wrappingData]);

for (const [name, c, data] of CASES) {
  test(`svdf ${name} on XS matches reference`, async () => {
    const expected = referenceSvdf(c, data);
    const files = { ...kernelFiles(), "setup.mjs": setupSource(c, data), "main.mjs": RUN_SOURCE };
    const result = await runXsModule(files, "main.mjs", { timeoutMs: 60_000 });
    assert.is(result.error, undefined, `XS threw: ${JSON.stringify(result.error)}`);
    const records = result.stdout.split("\n").filter((line) => line.startsWith(RECORD));
    const outputs = records.filter((line) => line.startsWith(`${RECORD}output `)).map((line) => line.split(" ")[2].split(",").map(Number));
    const state = records.find((line) => line.startsWith(`${RECORD}state `))?.split(" ")[2].split(",").map(Number);
    assert.is(outputs.length, data.inputs.length, "one output line per invoke");
    expected.outputs.forEach((output, i) => assert.equal(outputs[i], output, `output of invoke ${i}`));
    assert.equal(state, expected.state, "state after the last invoke");
  });
}

for (const [name, c] of [
  ["int8", INT8_CASE],
  ["int16", INT16_CASE],
] as const) {
  test(`svdf ${name} state invoke allocates nothing on XS`, async () => {
    const files = { ...kernelFiles(), "setup.mjs": setupSource(c, randomData(c, 1, 5)), "step.mjs": STEP_SOURCE };
    const count = await measureXsCallAllocations(files, "step.mjs", 50);
    assert.is(count.slots, 0, "slots");
    assert.is(count.chunkBytes, 0, "chunk bytes taken");
  });
}

test.run();
