// int16 logistic and tanh of the LSTM kernel against a BigInt transcription
// of TFLM's reference_integer_ops::Logistic and Tanh for int16 (commit
// 90b983c2), over every int16 input, for the input scalings TFLM's LSTM
// uses and a few general ones.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { logisticInt16, tanhInt16 } from "../../kernels/activations/int16_sigmoid_table.js";
import { cellStateTanhScaling, int16ActivationScaling } from "../../kernels/lstm/int16_activations.js";
import { TFLM_SIGMOID_TABLE, referenceCellTanhParameters, referenceLogisticInt16, referenceTanhInt16 } from "./lstm_reference.js";

/** TFLM's (input_multiplier, input_left_shift) pairs: the LSTM gates' (0, 0), cell state scalings, and general scalings. */
const SCALINGS: ReadonlyArray<[number, number]> = [
  [0, 0],
  [0, 1],
  [0, 3],
  [3, 1],
  [3, 4],
  [3, 15],
  [12345, 13],
  [0x7fff, 15],
];

/** Compares an activation with its reference over all 65536 int16 inputs; returns the first mismatch or null. */
function firstMismatch(
  actual: (x: number) => number,
  expected: (x: number) => number,
): { input: number; actual: number; expected: number } | null {
  for (let input = -32768; input <= 32767; input++) {
    const a = actual(input);
    const e = expected(input);
    if (a !== e) return { input, actual: a, expected: e };
  }
  return null;
}

for (const [inputMultiplier, inputLeftShift] of SCALINGS) {
  test(`logistic int16 scaling (${inputMultiplier}, ${inputLeftShift}) all inputs`, () => {
    const { multiplier, rightShift } = int16ActivationScaling(inputMultiplier, inputLeftShift);
    const mismatch = firstMismatch(
      (x) => logisticInt16(x, multiplier, rightShift),
      (x) => referenceLogisticInt16(x, inputMultiplier, inputLeftShift),
    );
    assert.is(mismatch, null, JSON.stringify(mismatch));
  });

  test(`tanh int16 scaling (${inputMultiplier}, ${inputLeftShift}) all inputs`, () => {
    const { multiplier, rightShift } = int16ActivationScaling(inputMultiplier, inputLeftShift);
    const mismatch = firstMismatch(
      (x) => tanhInt16(x, multiplier, rightShift),
      (x) => referenceTanhInt16(x, inputMultiplier, inputLeftShift),
    );
    assert.is(mismatch, null, JSON.stringify(mismatch));
  });
}

test("cell state tanh scaling per power", () => {
  for (let power = -43; power <= 2; power++) {
    const [inputMultiplier, inputLeftShift] = referenceCellTanhParameters(power);
    const expected = int16ActivationScaling(inputMultiplier, inputLeftShift);
    assert.equal(cellStateTanhScaling(power), expected, `power ${power}`);
  }
  // Cell scale 2^-11 (dtln's first LSTM): 3 << 1 and no shift; 2^-15: 3 and a right shift of 3.
  assert.equal(cellStateTanhScaling(-11), { multiplier: 6, rightShift: 0 });
  assert.equal(cellStateTanhScaling(-15), { multiplier: 3, rightShift: 3 });
});

test("cell state tanh at 2^-13 all inputs", () => {
  const { multiplier, rightShift } = cellStateTanhScaling(-13);
  const [inputMultiplier, inputLeftShift] = referenceCellTanhParameters(-13);
  const mismatch = firstMismatch(
    (x) => tanhInt16(x, multiplier, rightShift),
    (x) => referenceTanhInt16(x, inputMultiplier, inputLeftShift),
  );
  assert.is(mismatch, null, JSON.stringify(mismatch));
});

test("logistic and tanh int16 near the real functions", () => {
  // Gate scaling: inputs in units of 2^-12, outputs in units of 2^-15.
  assert.is(logisticInt16(0, 3, 0), 16384, "sigmoid(0) = 1/2");
  assert.is(tanhInt16(0, 3, 0), 0, "tanh(0) = 0");
  // 3 * 32767 >> 8 is beyond the table, so tanh saturates at the ends.
  assert.is(tanhInt16(32767, 3, 0), 32767);
  assert.is(tanhInt16(-32768, 3, 0), -32767);
  for (const x of [-8, -4, -2, -1, -0.5, 0.25, 1, 2, 4, 7.99]) {
    const input = Math.round(x * 4096);
    const real = input / 4096;
    const sigmoid = 32768 / (1 + Math.exp(-real));
    const tanh = 32768 * Math.tanh(real);
    assert.ok(Math.abs(logisticInt16(input, 3, 0) - sigmoid) <= 2, `sigmoid(${real}): ${logisticInt16(input, 3, 0)} vs ${sigmoid}`);
    assert.ok(Math.abs(tanhInt16(input, 3, 0) - Math.min(tanh, 32767)) <= 3, `tanh(${real}): ${tanhInt16(input, 3, 0)} vs ${tanh}`);
  }
});

test("sigmoid table near 2^16 sigmoid(i / 24)", () => {
  assert.is(TFLM_SIGMOID_TABLE.length, 256);
  // The largest difference is 1.11, at entry 35.
  for (let i = 0; i < 256; i++) {
    const exact = 65536 / (1 + Math.exp(-i / 24));
    assert.ok(Math.abs(TFLM_SIGMOID_TABLE[i] - exact) < 1.2, `entry ${i}: ${TFLM_SIGMOID_TABLE[i]} vs ${exact}`);
  }
});

test.run();
