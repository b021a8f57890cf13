// The hello-world device example in its host simulation: main.ts, compiled for the
// device, runs on XS with the simulation's shims and prints one line per inference
// and one PWM write. Each line is checked against values computed here independently:
// - x and x_q: TFLM's example arithmetic in float32 (Math.fround after each step, C's
//   truncation toward zero), with the scale and zero point from the TFLM fixture
//   manifest, not from our parser;
// - y_q: TFLM's golden output where the fixture cases cover x_q (x_q = -63 and 0 are
//   real_hello_test cases; the test asserts that both are reached), and for every line
//   the output of the same model on the Node interpreter, which must match bit for bit;
// - y and duty: the example's formulas on y_q; y within 0.1 of sin(x), the model's error
//   over this cycle (largest measured: 0.086, at x = 3*pi/2).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { REPOSITORY_ROOT, loadBundle } from "../../tools/bundle.js";
import { simulateExample } from "../../tools/sim/simulate.js";
import { asInt8, readFixture, tflmManifest, tflmModel } from "../fixtures.js";

const STEPS = 20;
const X_RANGE = Math.fround(2 * Math.fround(3.14159265359));
const MAX_DUTY = 1023; // the simulated PWM's 10-bit range
const SINE_TOLERANCE = 0.1;

interface Quantization {
  scale: number[];
  zero_point: number[];
}

function fixtureQuantization(): { input: Quantization; output: Quantization } {
  const entry = tflmManifest().models.find((model) => model.name === "hello_world_int8") as unknown as {
    inputs: Quantization[];
    outputs: Quantization[];
  };
  return { input: entry.inputs[0], output: entry.outputs[0] };
}

/** TFLM's golden y_q for every x_q that a fixture case feeds in. */
function goldenOutputs(): Map<number, number> {
  const goldens = new Map<number, number>();
  for (const testCase of tflmModel("hello_world_int8").cases) {
    goldens.set(asInt8(readFixture(testCase.inputs[0]))[0], asInt8(readFixture(testCase.outputs[0]))[0]);
  }
  return goldens;
}

const LINE = /^x=(-?\d+\.\d+) x_q=(-?\d+) y_q=(-?\d+) y=(-?\d+\.\d+) duty=(\d+)$/;

test("hello-world simulation: x, y, duty lines", async () => {
  const result = await simulateExample("hello-world");
  assert.is(result.reason, "time limit");
  assert.is(result.virtualMs, 1000);
  assert.is(result.lines[0], "hello-world: arena 48 bytes, PWM resolution 10 bits");

  const { input, output } = fixtureQuantization();
  const inputScale = Math.fround(input.scale[0]);
  const outputScale = Math.fround(output.scale[0]);
  const goldens = goldenOutputs();
  const microq = await loadBundle();
  const model = readFileSync(resolve(REPOSITORY_ROOT, "examples", "hello-world", "hello_world_int8.tflite"));
  assert.equal(new Uint8Array(model), readFixture("models/hello_world_int8.tflite"), "the example's model is the fixture");
  const node = new microq.Interpreter(new Uint8Array(model));

  const lines = result.lines.slice(1);
  assert.is(lines.length, 2 * STEPS, lines.join("\n"));
  let goldenHits = 0;
  for (let step = 0; step < STEPS; step++) {
    const match = LINE.exec(lines[2 * step]);
    assert.ok(match, `line ${2 * step + 2}: ${lines[2 * step]}`);
    const [, xText, xqText, yqText, yText, dutyText] = match;

    const x = Math.fround(Math.fround(step / STEPS) * X_RANGE);
    const xq = Math.trunc(Math.fround(Math.fround(x / inputScale) + input.zero_point[0]));
    assert.is(xText, x.toFixed(6), `x at step ${step}`);
    assert.is(Number(xqText), xq, `x_q at step ${step}`);

    node.inputs[0].data[0] = xq;
    node.invoke();
    const nodeY = node.outputs[0].data[0];
    const yq = Number(yqText);
    assert.is(yq, nodeY, `y_q at step ${step}: XS and Node differ`);
    const golden = goldens.get(xq);
    if (golden !== undefined) {
      assert.is(yq, golden, `y_q at step ${step}: TFLM's golden for x_q ${xq}`);
      goldenHits++;
    }

    const y = Math.fround((yq - output.zero_point[0]) * outputScale);
    assert.is(yText, y.toFixed(6), `y at step ${step}`);
    assert.ok(Math.abs(y - Math.sin(x)) <= SINE_TOLERANCE, `y ${y} at x ${x} is not within ${SINE_TOLERANCE} of sin(x)`);
    const duty = Math.max(0, Math.min(MAX_DUTY, Math.trunc(Math.fround(Math.fround(MAX_DUTY / 2) * Math.fround(y + 1)))));
    assert.is(Number(dutyText), duty, `duty at step ${step}`);
    assert.is(lines[2 * step + 1], `pwm pin=2 duty=${duty}`);
  }
  assert.ok(goldenHits >= 2, `only ${goldenHits} steps hit a TFLM golden input`);
});

test.run();
