// ADD, SUB and MUL under the "tflm" scheme, int8 and int16, on Node: the
// kernels against the BigInt transcription of TFLM's arithmetic in
// elementwise_reference.ts, exactly, and against a float64 reference within
// 1 LSB. The seanet ADD and SUB fixtures (outputs of TFLM's reference
// kernels) check the transcription itself.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { tflmAddKernel, tflmSubKernel } from "../../kernels/elementwise/add_sub.js";
import { tflmMulKernel } from "../../kernels/elementwise/mul.js";
import { PrepareContext } from "../../kernels/kernel.js";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { parseModel } from "../../runtime/model.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { SchemeName } from "../../runtime/requantization/scheme.js";
import { ModelSpec, writeModel } from "../../tools/tflite/writer.js";
import { seanetCases, valuesOf } from "../seanet/seanet_cases.js";
import {
  IntegerType,
  OPERATION_GROUPS,
  Operation,
  OperatorCase,
  ReferenceOperator,
  broadcastReference,
  buildModel,
  floatElementFunction,
  randomCase,
  randomValues,
  referenceElementFunction,
  typedValues,
} from "./elementwise_reference.js";
import { Xorshift32 } from "./test_data.js";

/** Runs the one-operator model through the interpreter's kernel registry. */
function runCase(spec: OperatorCase, a: readonly number[], b: readonly number[]): number[] {
  const interpreter = new Interpreter(buildModel(spec, b));
  interpreter.setInput(0, typedValues(spec.type, a));
  if (!spec.bConstant) interpreter.setInput(1, typedValues(spec.type, b));
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data as ArrayLike<number>);
}

const CASES_PER_GROUP = 60;

for (const [operation, type] of OPERATION_GROUPS) {
  test(`${operation} ${type}: random broadcasts match TFLM`, () => {
    const random = new Xorshift32(0x5eed + operation.charCodeAt(0) * 7 + type.length);
    let checked = 0;
    for (let n = 0; n < CASES_PER_GROUP; n++) {
      const spec = randomCase(random, operation, type);
      const aCount = spec.aShape.reduce((p, d) => p * d, 1);
      const bCount = spec.bShape.reduce((p, d) => p * d, 1);
      // Several rounds of values per model give each case at least 4000 input pairs.
      const rounds = Math.max(1, Math.ceil(4000 / Math.max(aCount, bCount)));
      const interpreter = new Interpreter(buildModel(spec, randomValues(new Xorshift32(n + 1), type, bCount)));
      for (let round = 0; round < rounds; round++) {
        const a = randomValues(random, type, aCount);
        const b = spec.bConstant ? randomValues(new Xorshift32(n + 1), type, bCount) : randomValues(random, type, bCount);
        interpreter.setInput(0, typedValues(type, a));
        if (!spec.bConstant) interpreter.setInput(1, typedValues(type, b));
        interpreter.invoke();
        const actual = Array.from(interpreter.outputs[0].data as ArrayLike<number>);

        const expected = broadcastReference(spec.aShape, a, spec.bShape, b, spec.outputShape, referenceElementFunction(spec));
        const label = `case ${n} [${spec.aShape}] ${operation} [${spec.bShape}] -> [${spec.outputShape}], ${JSON.stringify([spec.a, spec.b, spec.output, spec.activation])}`;
        assert.equal(actual, expected, label);

        const float = broadcastReference(spec.aShape, a, spec.bShape, b, spec.outputShape, floatElementFunction(spec));
        let maxError = 0;
        for (let i = 0; i < actual.length; i++) maxError = Math.max(maxError, Math.abs(actual[i] - float[i]));
        assert.ok(maxError <= 1, `${label}: ${maxError} LSB from the float64 result`);
        checked += actual.length;
      }
    }
    assert.ok(checked >= 200_000, `only ${checked} values checked`);
  });
}

// ---------------------------------------------------------------------------
// Exhaustive int8 pairs and edge scales.

const EDGE_CASES: Array<{ name: string; spec: Omit<OperatorCase, "aShape" | "bShape" | "outputShape" | "bConstant"> }> = [
  {
    name: "ADD equal scales, extreme zero points",
    spec: { operation: "ADD", type: "int8", a: { scale: 0.05, zeroPoint: -128 }, b: { scale: 0.05, zeroPoint: 127 }, output: { scale: 0.1, zeroPoint: 0 }, activation: "NONE" },
  },
  {
    name: "SUB output scale near the inputs' lower bound",
    spec: { operation: "SUB", type: "int8", a: { scale: 0.5, zeroPoint: 3 }, b: { scale: 0.25, zeroPoint: -7 }, output: { scale: 2 ** -19 + 2 ** -30, zeroPoint: 5 }, activation: "RELU6" },
  },
  {
    name: "ADD tiny second scale (flushed multiplier)",
    spec: { operation: "ADD", type: "int8", a: { scale: 1, zeroPoint: 0 }, b: { scale: 2 ** -40, zeroPoint: 9 }, output: { scale: 0.75, zeroPoint: -2 }, activation: "RELU" },
  },
  {
    name: "MUL with a left shift",
    spec: { operation: "MUL", type: "int8", a: { scale: 0.9, zeroPoint: 100 }, b: { scale: 1.7, zeroPoint: -100 }, output: { scale: 0.01, zeroPoint: -20 }, activation: "NONE" },
  },
  {
    name: "MUL with a left shift past the inlined range",
    spec: { operation: "MUL", type: "int8", a: { scale: 64, zeroPoint: -128 }, b: { scale: 64, zeroPoint: 127 }, output: { scale: 0.25, zeroPoint: 3 }, activation: "NONE" },
  },
  {
    name: "MUL multiplier exactly 0.5",
    spec: { operation: "MUL", type: "int8", a: { scale: 0.5, zeroPoint: 1 }, b: { scale: 0.25, zeroPoint: -1 }, output: { scale: 0.25, zeroPoint: 0 }, activation: "RELU_N1_TO_1" },
  },
];

for (const { name, spec } of EDGE_CASES) {
  test(`${name}: all int8 pairs match TFLM`, () => {
    // Every (a, b) pair once: a walks [256, 1] against b of [1, 256].
    const full: OperatorCase = { ...spec, aShape: [256, 1], bShape: [1, 256], outputShape: [256, 256], bConstant: false };
    const a = Array.from({ length: 256 }, (_, i) => i - 128);
    const b = a.slice();
    const actual = runCase(full, a, b);
    assert.equal(actual, broadcastReference(full.aShape, a, full.bShape, b, full.outputShape, referenceElementFunction(full)));
  });
}

test("int16 ADD and SUB: extreme values and zero points match TFLM", () => {
  const values = [-32768, -32767, -16384, -1, 0, 1, 16383, 32766, 32767];
  // Scale ratios up to 2^-30 give input right shifts of up to 31 bits.
  for (const operation of ["ADD", "SUB"] as const) {
    for (const [zeroPoint, bScale] of [[-32768, 0.0007], [-1, 0.001 * 2 ** -17], [0, 0.0007], [32767, 0.001 * 2 ** -30], [5, 0.001 * 2 ** -24]]) {
      const spec: OperatorCase = {
        operation,
        type: "int16",
        aShape: [values.length, 1],
        bShape: [1, values.length],
        outputShape: [values.length, values.length],
        a: { scale: 0.001, zeroPoint },
        b: { scale: bScale, zeroPoint: -zeroPoint >> 1 },
        output: { scale: 0.0023, zeroPoint: zeroPoint >> 2 },
        activation: "NONE",
        bConstant: false,
      };
      const actual = runCase(spec, values, values);
      const expected = broadcastReference(spec.aShape, values, spec.bShape, values, spec.outputShape, referenceElementFunction(spec));
      assert.equal(actual, expected, `${operation} zero point ${zeroPoint}, second scale ${bScale}`);
    }
  }
});

test("int16 MUL: extreme values match TFLM", () => {
  const values = [-32768, -32767, -256, -3, -1, 0, 1, 3, 255, 32767];
  // Power-of-two scales make the rounding ties of both roundings frequent.
  const scales: Array<[number, number, number]> = [
    [0.001, 0.002, 2 ** -20],
    [0.001, 0.002, 1e-6],
    [0.001, 0.002, 0.5],
    [0.001, 0.002, 3],
    [2 ** -8, 2 ** -8, 2 ** -10],
    [2 ** -8, 2 ** -9, 2 ** -30],
  ];
  for (const [aScale, bScale, outputScale] of scales) {
    const spec: OperatorCase = {
      operation: "MUL",
      type: "int16",
      aShape: [values.length, 1],
      bShape: [values.length],
      outputShape: [values.length, values.length],
      a: { scale: aScale, zeroPoint: 0 },
      b: { scale: bScale, zeroPoint: 0 },
      output: { scale: outputScale, zeroPoint: 0 },
      activation: "NONE",
      bConstant: false,
    };
    const actual = runCase(spec, values, values);
    const expected = broadcastReference(spec.aShape, values, spec.bShape, values, spec.outputShape, referenceElementFunction(spec));
    assert.equal(actual, expected, `scales ${aScale}, ${bScale}, ${outputScale}`);
  }
});

test("int16 ADD and SUB: rounding ties of the rescales match TFLM", () => {
  // The second input's multiplier is exactly 2^-16, so its odd centered
  // values end on a tie. An output multiplier near 1 (0.75) keeps each unit
  // of the raw sum visible, and 0.25 puts the output on ties.
  const a = [-1, 0, 1];
  const b = Array.from({ length: 8192 }, (_, i) => i - 4096);
  for (const operation of ["ADD", "SUB"] as const) {
    for (const outputScale of [2 ** -14 / 0.75, 2 ** -12]) {
      for (const bZeroPoint of [0, 1]) {
        const spec: OperatorCase = {
          operation,
          type: "int16",
          aShape: [3, 1],
          bShape: [8192],
          outputShape: [3, 8192],
          a: { scale: 1, zeroPoint: 0 },
          b: { scale: 2 ** -15, zeroPoint: bZeroPoint },
          output: { scale: outputScale, zeroPoint: 0 },
          activation: "NONE",
          bConstant: false,
        };
        const actual = runCase(spec, a, b);
        const expected = broadcastReference(spec.aShape, a, spec.bShape, b, spec.outputShape, referenceElementFunction(spec));
        assert.equal(actual, expected, `${operation} output scale ${outputScale}, zero point ${bZeroPoint}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// The seanet fixtures: TFLM's own outputs check the transcription above, and
// the kernels match them exactly.

/** Reads scales and zero points of a seanet model's three tensors into a ReferenceOperator. */
function seanetOperator(model: Uint8Array, operation: Operation): { spec: ReferenceOperator; shapes: number[][] } {
  const parsed = parseModel(model);
  const op = parsed.operators[0];
  const [a, b, output] = [op.inputs[0], op.inputs[1], op.outputs[0]].map((i) => parsed.tensors[i]);
  const q = (t: typeof a) => ({ scale: t.scale[0], zeroPoint: t.zeroPoint[0] });
  return {
    spec: { operation, type: "int16", a: q(a), b: q(b), output: q(output), activation: "NONE" },
    shapes: [a.shape.slice(), b.shape.slice(), output.shape.slice()],
  };
}

for (const [folder, operation] of [["add", "ADD"], ["sub", "SUB"]] as const) {
  test(`seanet ${folder}: kernel and transcription equal TFLM's output`, () => {
    for (const c of seanetCases(folder)) {
      const { spec, shapes } = seanetOperator(c.model, operation);
      const [a, b] = c.inputs.map((bytes) => valuesOf(bytes, "int16"));
      const oracle = valuesOf(c.oracle, "int16");
      const reference = broadcastReference(shapes[0], a, shapes[1], b, shapes[2], referenceElementFunction(spec));
      assert.equal(reference, oracle, `${c.name}: transcription`);

      const interpreter = new Interpreter(c.model);
      c.inputs.forEach((bytes, i) => interpreter.setInput(i, bytes));
      interpreter.invoke();
      assert.equal(Array.from(interpreter.outputs[0].data as ArrayLike<number>), oracle, `${c.name}: kernel`);
    }
  });
}

test("seanet sub: multipliers from double would miss TFLM's output", () => {
  // TFLM's SUB derives its multipliers in float32. The double derivation of
  // ADD changes at least one element of sub0, sub1 and sub3.
  const differing: string[] = [];
  for (const c of seanetCases("sub")) {
    const { spec, shapes } = seanetOperator(c.model, "SUB");
    const [a, b] = c.inputs.map((bytes) => valuesOf(bytes, "int16"));
    const withDouble = broadcastReference(shapes[0], a, shapes[1], b, shapes[2], referenceElementFunction(spec, true));
    const oracle = valuesOf(c.oracle, "int16");
    if (withDouble.some((value, i) => value !== oracle[i])) differing.push(c.name);
  }
  assert.equal(differing, ["sub0", "sub1", "sub3"]);
});

// ---------------------------------------------------------------------------
// Kernel choice and rejected operators.

function contextFor(spec: OperatorCase, scheme: SchemeName): { context: PrepareContext; op: ReturnType<typeof parseModel>["operators"][number] } {
  const parsed = parseModel(buildModel(spec, []));
  const context = {
    reader: parsed.reader,
    scheme: schemeByName(scheme),
    memoryFormat: "contiguous",
    tensor: (index: number) => parsed.tensors[index],
  } as unknown as PrepareContext;
  return { context, op: parsed.operators[0] };
}

const INT8_ADD: OperatorCase = {
  operation: "ADD",
  type: "int8",
  aShape: [2, 3],
  bShape: [3],
  outputShape: [2, 3],
  a: { scale: 0.1, zeroPoint: 1 },
  b: { scale: 0.2, zeroPoint: -1 },
  output: { scale: 0.3, zeroPoint: 0 },
  activation: "NONE",
  bConstant: false,
};

test("TFLM kernels accept int8 and int16 under tflm only", () => {
  for (const kernel of [tflmAddKernel, tflmSubKernel, tflmMulKernel]) {
    for (const type of ["int8", "int16"] as const) {
      const { context, op } = contextFor({ ...INT8_ADD, type }, "tflm");
      assert.ok(kernel.accepts!(context, op), `${kernel.name} ${type} under tflm`);
    }
    const onnx = contextFor(INT8_ADD, "onnx");
    assert.not.ok(kernel.accepts!(onnx.context, onnx.op), `${kernel.name} under onnx`);
    const uint8 = contextFor({ ...INT8_ADD, type: "uint8" as IntegerType }, "tflm");
    assert.not.ok(kernel.accepts!(uint8.context, uint8.op), `${kernel.name} uint8`);
  }
});

function assertPrepareError(type: Function, fragment: string, spec: OperatorCase, scheme: SchemeName = "tflm"): void {
  let error: unknown;
  try {
    new Interpreter(buildModel(spec, [], scheme));
  } catch (thrown) {
    error = thrown;
  }
  assert.instance(error, type, `${spec.operation}: expected ${type.name}`);
  assert.match(String(error), fragment);
}

test("int16 MUL with a nonzero zero point is rejected", () => {
  assertPrepareError(UnsupportedError, "zero point 3", { ...INT8_ADD, operation: "MUL", type: "int16", a: { scale: 0.1, zeroPoint: 3 } });
});

test("SUB and MUL under another scheme are rejected", () => {
  assertPrepareError(UnsupportedError, 'scheme is "onnx"', { ...INT8_ADD, operation: "SUB" }, "onnx");
  assertPrepareError(UnsupportedError, 'scheme is "pytorch-qnnpack"', { ...INT8_ADD, operation: "MUL" }, "pytorch-qnnpack");
});

test("ADD and SUB with a too small output scale are rejected", () => {
  const output = { scale: 2 ** -22, zeroPoint: 0 };
  assertPrepareError(UnsupportedError, "output multiplier", { ...INT8_ADD, output });
  assertPrepareError(UnsupportedError, "output multiplier", { ...INT8_ADD, operation: "SUB", output });
});

test("shapes that do not broadcast are rejected", () => {
  assertPrepareError(InvalidModelError, "do not broadcast", { ...INT8_ADD, bShape: [2] });
  assertPrepareError(InvalidModelError, "do not broadcast", { ...INT8_ADD, operation: "MUL", outputShape: [3, 3] });
});

test("rank 8 broadcast fusing to few loops matches TFLM", () => {
  const spec: OperatorCase = {
    ...INT8_ADD,
    operation: "MUL",
    aShape: [2, 3, 1, 1, 1, 1, 1, 4],
    bShape: [2, 3, 5, 1, 1, 1, 1, 4],
    outputShape: [2, 3, 5, 1, 1, 1, 1, 4],
  };
  const random = new Xorshift32(8);
  const a = randomValues(random, "int8", 24);
  const b = randomValues(random, "int8", 120);
  const expected = broadcastReference(spec.aShape, a, spec.bShape, b, spec.outputShape, referenceElementFunction(spec));
  assert.equal(runCase(spec, a, b), expected);
});

test("broadcast needing 7 loops is rejected", () => {
  assertPrepareError(UnsupportedError, "needs 7 nested loops", {
    ...INT8_ADD,
    aShape: [2, 1, 2, 1, 2, 1, 2],
    bShape: [1, 2, 1, 2, 1, 2, 1],
    outputShape: [2, 2, 2, 2, 2, 2, 2],
  });
});

test("mixed operand types are rejected", () => {
  const parsed: ModelSpec = {
    tensors: [
      { name: "a", type: "int8", shape: [4], scale: [0.1], zeroPoint: [0] },
      { name: "b", type: "int16", shape: [4], scale: [0.1], zeroPoint: [0] },
      { name: "output", type: "int8", shape: [4], scale: [0.1], zeroPoint: [0] },
    ],
    operators: [{ op: "SUB", inputs: [0, 1], outputs: [2] }],
    inputs: [0, 1],
    outputs: [2],
  };
  let error: unknown;
  try {
    new Interpreter(writeModel(parsed));
  } catch (thrown) {
    error = thrown;
  }
  assert.instance(error, UnsupportedError);
  assert.match(String(error), "int16");
});

test.run();
