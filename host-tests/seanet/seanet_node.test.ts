// All 127 seanet cases on Node.js through the rollup bundle: the output must
// equal TFLM's (oracle) exactly and TFLite's CSV golden within 1 LSB.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { maxDifference, seanetCases, seanetOps, valuesOf } from "./seanet_cases.js";

const OPS = seanetOps();

test("the fixtures hold 127 seanet cases over 8 operators", () => {
  assert.equal(OPS, ["add", "conv", "leaky_relu", "pad", "quantize", "strided_slice", "sub", "transpose_conv"]);
  assert.is(OPS.reduce((n, op) => n + seanetCases(op).length, 0), 127);
});

for (const op of OPS) {
  test(`seanet ${op}: TFLM's output exactly, TFLite's golden within 1 LSB`, async () => {
    const microq = await loadBundle();
    // Every case runs; the failures are listed together.
    const failures: string[] = [];
    for (const c of seanetCases(op)) {
      try {
        const interpreter = new microq.Interpreter(c.model);
        c.inputs.forEach((bytes, i) => interpreter.setInput(i, bytes));
        interpreter.invoke();
        const actual = valuesOf(interpreter.outputs[0].bytes, c.outputType);
        const oracle = valuesOf(c.oracle, c.outputType);
        const fromOracle = maxDifference(actual, oracle);
        const fromGolden = maxDifference(actual, c.golden);
        if (fromOracle !== 0) failures.push(`${c.name}: ${fromOracle} LSB from TFLM's output`);
        else if (fromGolden > 1) failures.push(`${c.name}: ${fromGolden} LSB from TFLite's golden`);
      } catch (error) {
        failures.push(`${c.name}: ${(error as Error).message}`);
      }
    }
    assert.equal(failures, [], `seanet ${op} failures`);
  });
}

test.run();
