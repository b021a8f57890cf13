// ADD, SUB and MUL under the "tflm" scheme on the XS engine, through the
// rollup bundle. Random broadcasts and every int8 pair must equal the BigInt
// transcription of TFLM's arithmetic in elementwise_reference.ts, which
// checks the kernels' int32 limb arithmetic on XS as on Node.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsAllocations } from "../../tools/xs/allocation.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import {
  IntegerType,
  OPERATION_GROUPS,
  OperatorCase,
  broadcastReference,
  buildModel,
  randomCase,
  randomValues,
  referenceElementFunction,
  typedValues,
} from "./elementwise_reference.js";
import { Xorshift32 } from "./test_data.js";

const CASES_PER_GROUP = 3;

function bytes(type: IntegerType, values: readonly number[]): Uint8Array {
  const typed = typedValues(type, values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function outputValues(type: IntegerType, output: Uint8Array): number[] {
  const copy = output.slice();
  return Array.from(type === "int8" ? new Int8Array(copy.buffer) : new Int16Array(copy.buffer));
}

/** Runs the case on XS and asserts the BigInt reference's output. */
async function checkOnXs(spec: OperatorCase, a: number[], b: number[], label: string): Promise<void> {
  const inputs = spec.bConstant ? [bytes(spec.type, a)] : [bytes(spec.type, a), bytes(spec.type, b)];
  const result = await runModelOnXs({ model: buildModel(spec, b), inputs, timeoutMs: 120_000 });
  const expected = broadcastReference(spec.aShape, a, spec.bShape, b, spec.outputShape, referenceElementFunction(spec));
  assert.equal(outputValues(spec.type, result.outputs[0]), expected, label);
}

for (const [operation, type] of OPERATION_GROUPS) {
  test(`${operation} ${type} on XS: random broadcasts match TFLM`, async () => {
    const random = new Xorshift32(0x7357 + operation.charCodeAt(1) * 13 + type.length);
    for (let n = 0; n < CASES_PER_GROUP; n++) {
      const spec = randomCase(random, operation, type);
      const a = randomValues(random, type, spec.aShape.reduce((p, d) => p * d, 1));
      const b = randomValues(random, type, spec.bShape.reduce((p, d) => p * d, 1));
      await checkOnXs(spec, a, b, `case ${n} [${spec.aShape}] ${operation} [${spec.bShape}] -> [${spec.outputShape}]`);
    }
  });
}

const PAIR_CASES: Array<{ name: string; spec: Omit<OperatorCase, "aShape" | "bShape" | "outputShape" | "bConstant"> }> = [
  {
    name: "ADD",
    spec: { operation: "ADD", type: "int8", a: { scale: 0.031, zeroPoint: -5 }, b: { scale: 0.017, zeroPoint: 100 }, output: { scale: 0.04, zeroPoint: -9 }, activation: "RELU" },
  },
  {
    name: "SUB",
    spec: { operation: "SUB", type: "int8", a: { scale: 0.011, zeroPoint: -128 }, b: { scale: 0.029, zeroPoint: 27 }, output: { scale: 0.05, zeroPoint: 4 }, activation: "NONE" },
  },
  {
    name: "MUL with a right shift",
    spec: { operation: "MUL", type: "int8", a: { scale: 0.02, zeroPoint: 11 }, b: { scale: 0.03, zeroPoint: -40 }, output: { scale: 0.07, zeroPoint: 2 }, activation: "RELU6" },
  },
  {
    name: "MUL with a large left shift",
    spec: { operation: "MUL", type: "int8", a: { scale: 64, zeroPoint: -128 }, b: { scale: 64, zeroPoint: 127 }, output: { scale: 0.25, zeroPoint: 3 }, activation: "NONE" },
  },
];

for (const { name, spec } of PAIR_CASES) {
  test(`${name} on XS: all int8 pairs match TFLM`, async () => {
    const full: OperatorCase = { ...spec, aShape: [256, 1], bShape: [1, 256], outputShape: [256, 256], bConstant: false };
    const values = Array.from({ length: 256 }, (_, i) => i - 128);
    await checkOnXs(full, values, values, name);
  });
}

test("invoke allocates nothing on XS", async () => {
  // One operator of each row loop: int8 ADD and SUB, int8 MUL with a small
  // and with a large left shift, and int16 ADD, SUB and MUL.
  const shapes = { aShape: [3, 1, 8], bShape: [5, 1], outputShape: [3, 5, 8] };
  const specs: OperatorCase[] = [
    ...PAIR_CASES.map(({ spec }) => ({ ...spec, ...shapes, bConstant: false })),
    ...(["ADD", "SUB", "MUL"] as const).map((operation) => ({
      operation,
      type: "int16" as const,
      ...shapes,
      a: { scale: 0.001, zeroPoint: 0 },
      b: { scale: 0.002, zeroPoint: 0 },
      output: { scale: 0.003, zeroPoint: 0 },
      activation: "NONE" as const,
      bConstant: false,
    })),
  ];
  for (const spec of specs) {
    const random = new Xorshift32(99);
    const a = randomValues(random, spec.type, 24);
    const b = randomValues(random, spec.type, 5);
    const count = await measureXsAllocations(buildModel(spec, b), 20, { inputs: [bytes(spec.type, a), bytes(spec.type, b)] });
    const label = `${spec.operation} ${spec.type} ${spec.a.scale}`;
    assert.is(count.slots, 0, `${label}: slots`);
    assert.is(count.chunkBytes, 0, `${label}: chunk bytes taken`);
    assert.is(count.chunkBytesInUse, 0, `${label}: chunk bytes in use`);
  }
});

test.run();
