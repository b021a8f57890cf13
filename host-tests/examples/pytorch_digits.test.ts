// The pytorch-digits example against PyTorch 1.13's own results for the
// quantized digits CNN. The committed files are what prepare.js writes from
// the export, and the converted models give PyTorch's int logits for all 360
// test images. The demo prints PyTorch's accuracy on Node and on XS.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CLASSES,
  EXAMPLE_DIR,
  VARIANTS,
  argmaxPerImage,
  countEqual,
  exampleFileNames,
  modelFile,
  readBinary,
  readTestSet,
  runOnNode,
} from "../../examples/pytorch-digits/digits.js";
import { writeExampleFiles } from "../../examples/pytorch-digits/generate.js";
import { REPOSITORY_ROOT, loadBundle } from "../../tools/bundle.js";
import { FIXTURES } from "../fixtures.js";

const DIGITS = resolve(FIXTURES, "pytorch", "digits");
const DEMO = resolve(REPOSITORY_ROOT, "build", "examples", "pytorch-digits", "demo.js");

interface TestJson {
  labels: number[];
  predictions: number[];
  logits_quantized: { values: number[] };
  quantized_test_accuracy: number;
}

function pytorchResults(variant: string): TestJson {
  return JSON.parse(readFileSync(resolve(DIGITS, `${variant}__test.json`), "utf8")) as TestJson;
}

/** Number of test images PyTorch classified correctly, checked against its stated accuracy. */
function pytorchCorrect(results: TestJson): number {
  const correct = countEqual(results.predictions, results.labels);
  assert.is(correct / results.labels.length, results.quantized_test_accuracy, "PyTorch's predictions give its stated accuracy");
  return correct;
}

/** Rows of the table under the header line whose first cell is `firstHeader`, split into cells. */
function tableRows(output: string, firstHeader: string): string[][] {
  const lines = output.split("\n");
  const header = lines.findIndex((line) => line.split(/\s{2,}/)[0] === firstHeader);
  assert.ok(header >= 0, `the demo printed a table headed "${firstHeader}"`);
  const rows: string[][] = [];
  for (let i = header + 2; i < lines.length && lines[i].trim() !== ""; i++) rows.push(lines[i].split(/\s{2,}/));
  return rows;
}

test("committed files equal prepare output", () => {
  const folder = mkdtempSync(join(tmpdir(), "microq-digits-"));
  try {
    const written = writeExampleFiles(DIGITS, folder);
    assert.equal([...written].sort(), exampleFileNames().sort(), "prepare writes every example file");
    for (const name of written) {
      const committed = readBinary(resolve(EXAMPLE_DIR, name));
      const regenerated = readBinary(join(folder, name));
      assert.ok(Buffer.compare(committed, regenerated) === 0, `examples/pytorch-digits/${name} differs from what prepare.js writes; run it`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

for (const { name } of VARIANTS) {
  test(`${name} int logits equal PyTorch's`, async () => {
    const microq = await loadBundle();
    const results = pytorchResults(name);
    const testSet = readTestSet();
    assert.is(testSet.count, results.labels.length, "test image count");

    const run = runOnNode(microq, readBinary(resolve(EXAMPLE_DIR, modelFile(name))), testSet);
    const expected = results.logits_quantized.values;
    const first = expected.findIndex((value, i) => run.logits[i] !== value);
    const where = first < 0 ? "" : `; first at image ${Math.floor(first / CLASSES)} class ${first % CLASSES}: ${run.logits[first]}, PyTorch ${expected[first]}`;
    assert.is(countEqual(run.logits, expected), expected.length, `int logits equal to PyTorch's${where}`);

    const correct = countEqual(argmaxPerImage(run.logits), results.labels);
    assert.is(correct / testSet.count, results.quantized_test_accuracy, "accuracy");
  });
}

test("demo prints PyTorch's accuracy", () => {
  const demo = spawnSync(process.execPath, [DEMO], { encoding: "utf8", timeout: 120_000 });
  assert.is(demo.status, 0, `demo exit status; stderr: ${demo.stderr}; stdout:\n${demo.stdout}`);
  const nodeRows = tableRows(demo.stdout, "node");
  const xsRows = tableRows(demo.stdout, "xs");
  assert.equal(nodeRows.map((row) => row[0]), VARIANTS.map((variant) => variant.name), "node table variants");
  assert.equal(xsRows.map((row) => row[0]), VARIANTS.map((variant) => variant.name), "xs table variants");

  VARIANTS.forEach(({ name, scheme }, index) => {
    const results = pytorchResults(name);
    const count = results.labels.length;
    const correct = pytorchCorrect(results);
    const accuracy = `${correct}/${count} ${((100 * correct) / count).toFixed(2)}%`;

    // node columns: variant, scheme, accuracy, same class as PyTorch, same int logits as PyTorch, arena.
    const [, nodeScheme, nodeAccuracy, sameClass, sameLogits] = nodeRows[index];
    assert.is(nodeScheme, scheme, `${name} scheme`);
    assert.is(nodeAccuracy, accuracy, `${name} accuracy on node`);
    assert.is(sameClass, `${count}/${count}`, `${name} predictions as PyTorch's`);
    assert.is(sameLogits, `${count * CLASSES}/${count * CLASSES}`, `${name} int logits as PyTorch's`);

    // xs columns: variant, accuracy, same int logits as node, arena, process time.
    const [, xsAccuracy, sameAsNode] = xsRows[index];
    assert.is(xsAccuracy, accuracy, `${name} accuracy on xs`);
    assert.is(sameAsNode, `yes ${count * CLASSES}/${count * CLASSES}`, `${name} xs int logits as node's`);
  });
});

test.run();
