// The activation kernels of the "tflm" scheme on the XS engine, through the
// rollup bundle: one-operator models fed every int8 value (and a spread of
// int16 values) must give the integers of the TFLM 90b983c2 transcriptions in
// activations_reference.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ModelSpec, OptionsSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import {
  hardSwishRef,
  int16LogisticRef,
  int16RescaleRef,
  int16TanhRef,
  int8LogisticOrTanhRef,
  leakyReluRef,
  relu6Ref,
  reluRef,
} from "./activations_reference.js";
import { TFLM_SIGMOID_TABLE } from "./lstm_reference.js";

interface XsCase {
  op: string;
  type: TensorTypeName;
  input: [number, number];
  output: [number, number];
  options?: OptionsSpec;
  expected: (value: number) => number;
}

const INT8_VALUES = Array.from({ length: 256 }, (_, i) => i - 128);
const INT16_VALUES = Array.from({ length: 512 }, (_, i) => i * 128 - 32768 + (i % 7));

function int16Rescaled(isTanh: boolean, scale: number): (v: number) => number {
  const [multiplier, shift] = int16RescaleRef(scale, isTanh);
  return (v) => (isTanh ? int16TanhRef : int16LogisticRef)(v, multiplier, shift, TFLM_SIGMOID_TABLE);
}

const CASES: XsCase[] = [
  { op: "LOGISTIC", type: "int8", input: [0.06, -5], output: [1 / 256, -128], expected: (v) => int8LogisticOrTanhRef(v, 0.06, -5, false) },
  { op: "TANH", type: "int8", input: [0.04, 7], output: [1 / 128, 0], expected: (v) => int8LogisticOrTanhRef(v, 0.04, 7, true) },
  { op: "RELU", type: "int8", input: [0.05, -10], output: [0.03, -128], expected: (v) => reluRef(v, 0.05, -10, 0.03, -128, -128, 127) },
  { op: "RELU6", type: "int8", input: [0.03, -20], output: [0.03, -20], expected: (v) => relu6Ref(v, 0.03, -20, -128, 127) },
  {
    op: "LEAKY_RELU",
    type: "int8",
    input: [0.05, 3],
    output: [0.04, -30],
    options: { type: "LeakyReluOptions", fields: { alpha: 0.2 } },
    expected: (v) => leakyReluRef(v, 0.05, 3, 0.04, -30, 0.2, -128, 127),
  },
  { op: "HARD_SWISH", type: "int8", input: [0.05, 0], output: [0.03, -40], expected: (v) => hardSwishRef(v, 0.05, 0, 0.03, -40) },
  { op: "LOGISTIC", type: "int16", input: [0.0005, 0], output: [2 ** -15, 0], expected: int16Rescaled(false, 0.0005) },
  { op: "TANH", type: "int16", input: [2 ** -11, 0], output: [2 ** -15, 0], expected: int16Rescaled(true, 2 ** -11) },
  { op: "RELU", type: "int16", input: [0.001, 0], output: [0.0007, 0], expected: (v) => reluRef(v, 0.001, 0, 0.0007, 0, -32768, 32767) },
  {
    op: "LEAKY_RELU",
    type: "int16",
    input: [0.0058, 0],
    output: [0.0046, 0],
    options: { type: "LeakyReluOptions", fields: { alpha: 0.3 } },
    expected: (v) => leakyReluRef(v, 0.0058, 0, 0.0046, 0, 0.3, -32768, 32767),
  },
];

function oneOperatorModel(c: XsCase, count: number): Uint8Array {
  const spec: ModelSpec = {
    tensors: [
      { name: "input", type: c.type, shape: [1, count], scale: [c.input[0]], zeroPoint: [c.input[1]] },
      { name: "output", type: c.type, shape: [1, count], scale: [c.output[0]], zeroPoint: [c.output[1]] },
    ],
    operators: [{ op: c.op, inputs: [0], outputs: [1], options: c.options }],
    inputs: [0],
    outputs: [1],
    metadata: { microq_requantization: new TextEncoder().encode("tflm") },
  };
  return writeModel(spec);
}

for (const c of CASES) {
  test(`${c.type} ${c.op} on XS matches TFLM transcription`, async () => {
    const values = c.type === "int8" ? INT8_VALUES : INT16_VALUES;
    const typed = c.type === "int8" ? Int8Array.from(values) : Int16Array.from(values);
    const result = await runModelOnXs({
      model: oneOperatorModel(c, values.length),
      inputs: [new Uint8Array(typed.buffer)],
      timeoutMs: 60_000,
    });
    const bytes = result.outputs[0].slice();
    const actual = c.type === "int8" ? Array.from(new Int8Array(bytes.buffer)) : Array.from(new Int16Array(bytes.buffer));
    assert.equal(actual, values.map(c.expected));
  });
}

test.run();
