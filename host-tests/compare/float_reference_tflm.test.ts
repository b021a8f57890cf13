// Every layer of the seven TFLM fixture models and of the 127 seanet cases
// against the float reference of tools/reference/: dequantize the layer's
// inputs as microq computed them, compute in double, requantize. A kernel
// that follows TFLM's integer arithmetic stays within 1 LSB of that; the
// recurrent layers start from reset state, as every fixture case does.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadBundle } from "../../tools/bundle.js";
import { CompareReport, buildCompareReport } from "../../tools/commands/compare.js";
import { TFLM_FIXTURES, readFixture, tflmManifest } from "../fixtures.js";
import { seanetCases, seanetOps } from "../seanet/seanet_cases.js";

/** Lists the layers more than 1 LSB from the reference, and those the reference does not model. */
function problemsOf(label: string, report: CompareReport): string[] {
  const problems: string[] = [];
  for (const layer of report.layers) {
    if (layer.operatorIndex === null) continue;
    const where = `${label} operator ${layer.operatorIndex} ${layer.operator}`;
    if (layer.reference === null) problems.push(`${where}: no reference (${layer.referenceNote})`);
    else if (layer.reference.maxDifference > 1) problems.push(`${where}: ${layer.reference.maxDifference} LSB`);
  }
  return problems;
}

for (const entry of tflmManifest().models) {
  test(`${entry.name}: layers within 1 LSB of float`, async () => {
    const microq = await loadBundle();
    const modelBytes = readFixture(entry.model);
    // mobilenet_v2's float reference takes seconds per case, so only its real image runs.
    const cases = entry.name.startsWith("mobilenet") ? entry.cases.filter((c) => c.case.startsWith("real_")) : entry.cases;
    assert.ok(cases.length > 0, "cases found");
    const problems: string[] = [];
    for (const c of cases) {
      const inputs = c.inputs.map((path) => new Uint8Array(readFileSync(resolve(TFLM_FIXTURES, path))));
      const report = buildCompareReport(microq, { modelPath: entry.model, modelBytes, inputPaths: c.inputs, inputs, dump: null });
      problems.push(...problemsOf(`${entry.name} ${c.case}`, report));
    }
    assert.equal(problems, []);
  });
}

for (const op of seanetOps()) {
  test(`seanet ${op}: within 1 LSB of float`, async () => {
    const microq = await loadBundle();
    const problems: string[] = [];
    for (const c of seanetCases(op)) {
      const inputPaths = c.inputs.map((_, i) => `${c.name}_in${i}.bin`);
      const report = buildCompareReport(microq, { modelPath: c.name, modelBytes: c.model, inputPaths, inputs: c.inputs, dump: null });
      problems.push(...problemsOf(`${op}/${c.name}`, report));
    }
    assert.equal(problems, []);
  });
}

test.run();
