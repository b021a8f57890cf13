// The onnx scheme against the ONNX backend node tests (libonnx-testdata
// 1.12.0) for QLinearConv, QLinearMatMul and QuantizeLinear. The test
// computes the integer accumulators itself with plain loops, requantizes
// them with the scheme and saturates to uint8. Every output must equal the
// test's expected output.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FIXTURES } from "../fixtures.js";
import { onnxScheme } from "../../runtime/requantization/onnx.js";

interface Tensor {
  name: string;
  shape: number[];
  values: number[];
}

interface NodeTest {
  test: string;
  test_data_sets: { inputs: Tensor[]; outputs: Tensor[] }[];
}

function loadNodeTest(name: string): { tensor: (name: string) => Tensor; expected: Tensor } {
  const data = JSON.parse(readFileSync(resolve(FIXTURES, "onnx", `node__${name}.json`), "utf8")) as NodeTest;
  assert.is(data.test_data_sets.length, 1, `${name}: one data set`);
  const [set] = data.test_data_sets;
  const tensor = (tensorName: string): Tensor => {
    const found = set.inputs.find((t) => t.name === tensorName);
    if (found === undefined) throw new Error(`${name} has no input ${tensorName}`);
    return found;
  };
  return { tensor, expected: set.outputs[0] };
}

const saturateUint8 = (value: number) => Math.min(255, Math.max(0, value));

test("test_qlinearconv exact", () => {
  const { tensor, expected } = loadNodeTest("test_qlinearconv");
  const x = tensor("x");
  const w = tensor("w");
  const xZeroPoint = tensor("x_zero_point").values[0];
  const wZeroPoint = tensor("w_zero_point").values[0];
  // A 1x1 kernel over one channel, no padding: each accumulator is one product.
  assert.equal(w.shape, [1, 1, 1, 1]);
  const requantizer = onnxScheme.accumulator({
    kind: "conv",
    inputScale: tensor("x_scale").values[0],
    weightScales: tensor("w_scale").values,
    outputScale: tensor("y_scale").values[0],
    outputZeroPoint: tensor("y_zero_point").values[0],
    channels: 1,
    bias: null,
  });
  const actual = x.values.map((value) => saturateUint8(requantizer.requantize((value - xZeroPoint) * (w.values[0] - wZeroPoint), 0)));
  assert.equal(actual, expected.values);
});

for (const name of ["test_qlinearmatmul_2D", "test_qlinearmatmul_3D"]) {
  test(`${name} exact`, () => {
    const { tensor, expected } = loadNodeTest(name);
    const a = tensor("a");
    const b = tensor("b");
    const aZeroPoint = tensor("a_zero_point").values[0];
    const bZeroPoint = tensor("b_zero_point").values[0];
    const [rows, depth] = a.shape.slice(-2);
    const columns = b.shape[b.shape.length - 1];
    const batches = a.values.length / (rows * depth);

    const requantizer = onnxScheme.accumulator({
      kind: "fully_connected",
      inputScale: tensor("a_scale").values[0],
      weightScales: tensor("b_scale").values,
      outputScale: tensor("y_scale").values[0],
      outputZeroPoint: tensor("y_zero_point").values[0],
      channels: columns,
      bias: null,
    });

    const actual: number[] = [];
    for (let batch = 0; batch < batches; batch++) {
      // B is [depth, columns], or one such matrix per batch.
      const bOffset = b.shape.length === 3 ? batch * depth * columns : 0;
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          let acc = 0;
          for (let k = 0; k < depth; k++) {
            acc += (a.values[(batch * rows + row) * depth + k] - aZeroPoint) * (b.values[bOffset + k * columns + column] - bZeroPoint);
          }
          actual.push(saturateUint8(requantizer.requantize(acc, column)));
        }
      }
    }

    assert.equal(actual, expected.values);
  });
}

test("test_quantizelinear exact", () => {
  const { tensor, expected } = loadNodeTest("test_quantizelinear");
  const scale = tensor("y_scale").values[0];
  const zeroPoint = tensor("y_zero_point").values[0];
  const actual = tensor("x").values.map((value) => saturateUint8(onnxScheme.quantizeReal(value, scale, zeroPoint)));
  assert.equal(actual, expected.values);
});

test("test_quantizelinear_axis exact", () => {
  const { tensor, expected } = loadNodeTest("test_quantizelinear_axis");
  const x = tensor("x");
  const scales = tensor("y_scale").values;
  const zeroPoints = tensor("y_zero_point").values;
  // Axis 1 (the default) of an NCHW tensor: one scale per channel.
  const [, channels, height, width] = x.shape;
  const actual = x.values.map((value, i) => {
    const channel = Math.floor(i / (height * width)) % channels;
    return saturateUint8(onnxScheme.quantizeReal(value, scales[channel], zeroPoints[channel]));
  });
  assert.equal(actual, expected.values);
});

test.run();
