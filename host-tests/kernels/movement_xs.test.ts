// The data-movement kernels on the XS engine through the rollup bundle:
// STRIDED_SLICE with negative strides and clamped bounds, SQUEEZE and
// EXPAND_DIMS (a copy inside the arena), int16 CONCATENATION and int16 PAD
// under the "tflm" scheme. Expected values are written out per case from
// the operators' definitions; the models are built with the TFLite writer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BUNDLE_FILE, RECORD_PREFIX, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { ModelSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { bytesOf } from "./test_data.js";

interface XsCase {
  name: string;
  spec: ModelSpec;
  /** int16 or int8 input values, one list per graph input. */
  inputs: number[][];
  expected: number[];
}

const int16 = (name: string, shape: number[], zeroPoint = 0): TensorSpec => ({ name, type: "int16", shape, scale: [0.5], zeroPoint: [zeroPoint] });
const int8 = (name: string, shape: number[]): TensorSpec => ({ name, type: "int8", shape, scale: [0.5], zeroPoint: [-1] });
const constantInt32 = (name: string, values: number[]): TensorSpec => ({ name, type: "int32", shape: [values.length], data: bytesOf("int32", values) });

/** 0, 1, ... 23 as a [4, 6] matrix, negated at odd positions. */
const MATRIX = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? i : -i));

const CASES: XsCase[] = [
  {
    // x[3:-10:-2, -1:0:-2] of a 4 x 6 matrix: rows 3 and 1, columns 5, 3 and 1.
    name: "strided_slice",
    spec: {
      tensors: [int16("x", [4, 6]), constantInt32("begin", [3, -1]), constantInt32("end", [-10, 0]), constantInt32("strides", [-2, -2]), int16("y", [2, 3])],
      operators: [{ op: "STRIDED_SLICE", inputs: [0, 1, 2, 3], outputs: [4] }],
      inputs: [0],
      outputs: [4],
    },
    inputs: [MATRIX],
    expected: [3 * 6 + 5, 3 * 6 + 3, 3 * 6 + 1, 1 * 6 + 5, 1 * 6 + 3, 1 * 6 + 1].map((i) => MATRIX[i]),
  },
  {
    name: "squeeze",
    spec: {
      tensors: [int8("x", [1, 3, 1, 2]), int8("y", [3, 2])],
      operators: [{ op: "SQUEEZE", inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    },
    inputs: [[-128, 127, 0, -1, 5, -6]],
    expected: [-128, 127, 0, -1, 5, -6],
  },
  {
    name: "expand_dims",
    spec: {
      tensors: [int16("x", [2, 3]), constantInt32("axis", [1]), int16("y", [2, 1, 3])],
      operators: [{ op: "EXPAND_DIMS", inputs: [0, 1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    },
    inputs: [[-32768, 32767, 0, -1, 5, -6]],
    expected: [-32768, 32767, 0, -1, 5, -6],
  },
  {
    // Rows of a [2, 1] and a [2, 2] block side by side. TFLM copies int16 across scales.
    name: "concatenation",
    spec: {
      tensors: [int16("a", [2, 1]), { ...int16("b", [2, 2]), scale: [0.01] }, int16("y", [2, 3])],
      operators: [{ op: "CONCATENATION", inputs: [0, 1], outputs: [2], options: { type: "ConcatenationOptions", fields: { axis: 1 } } }],
      inputs: [0, 1],
      outputs: [2],
    },
    inputs: [[7, -8], [100, -200, 300, -400]],
    expected: [7, 100, -200, -8, 300, -400],
  },
  {
    // One zero row above a [2, 2] matrix: TFLM fills int16 with 0 whatever the zero point.
    name: "pad",
    spec: {
      tensors: [int16("x", [2, 2], 9), { name: "paddings", type: "int32", shape: [2, 2], data: bytesOf("int32", [1, 0, 0, 0]) }, int16("y", [3, 2], 9)],
      operators: [{ op: "PAD", inputs: [0, 1], outputs: [2] }],
      inputs: [0],
      outputs: [2],
    },
    inputs: [[1, -2, 3, -4]],
    expected: [0, 0, 1, -2, 3, -4],
  },
];

test("data-movement kernels on XS", async () => {
  const entries = CASES.map((c) => {
    const inputBytes = c.inputs.map((values, i) => {
      const type = c.spec.tensors[c.spec.inputs[i]].type;
      return arrayBufferExpression(type === "int8" ? bytesOf("int8", values) : bytesOf("int16", values));
    });
    return `[${JSON.stringify(c.name)}, ${arrayBufferExpression(writeModel(c.spec))}, [${inputBytes.join(", ")}]]`;
  });
  const source = `import { Interpreter } from "./${BUNDLE_FILE}";
const cases = [
${entries.join(",\n")}
];
for (const [name, model, inputs] of cases) {
  try {
    const interpreter = new Interpreter(model);
    inputs.forEach((bytes, i) => interpreter.setInput(i, new Uint8Array(bytes)));
    interpreter.invoke();
    print("${RECORD_PREFIX}output " + name + " " + Array.from(interpreter.outputs[0].data).join(","));
  } catch (error) {
    print("${RECORD_PREFIX}error " + name + " " + error.message);
  }
}
`;
  const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs", { timeoutMs: 120_000 });
  assert.is(result.status, 0, `XS run failed: ${result.stderr} ${result.error?.message ?? ""}`);

  const printed = new Map<string, number[]>();
  const errors: string[] = [];
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith(`${RECORD_PREFIX}error `)) errors.push(line.slice(RECORD_PREFIX.length));
    if (!line.startsWith(`${RECORD_PREFIX}output `)) continue;
    const [, name, values] = line.split(" ");
    printed.set(name, values === "" ? [] : values.split(",").map(Number));
  }
  assert.equal(errors, [], "errors on XS");
  for (const c of CASES) assert.equal(printed.get(c.name), c.expected, `${c.name} on XS`);
});

test.run();
