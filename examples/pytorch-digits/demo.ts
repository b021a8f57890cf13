// The digits CNN quantized by PyTorch 1.13 and converted from ONNX, run on
// the 360 test images on Node.js and on the XS engine. Prints, per variant,
// the accuracy, the agreement with PyTorch, and whether XS computed the same
// int logits as Node. Exits with 1 when a logit differs from PyTorch's or
// XS differs from Node.

import { resolve } from "node:path";
import { formatTable, formatTime } from "../../tools/bench/table.js";
import { loadBundle } from "../../tools/bundle.js";
import {
  CLASSES,
  EXAMPLE_DIR,
  VARIANTS,
  argmaxPerImage,
  countEqual,
  modelFile,
  pytorchLogitsFile,
  readBinary,
  readTestSet,
  runOnNode,
  runOnXs,
} from "./digits.js";

function fraction(part: number, whole: number): string {
  return `${part}/${whole}`;
}

function accuracy(correct: number, count: number): string {
  return `${correct}/${count} ${((100 * correct) / count).toFixed(2)}%`;
}

async function main(): Promise<number> {
  const microq = await loadBundle();
  const testSet = readTestSet();
  const logitCount = testSet.count * CLASSES;
  const models = VARIANTS.map(({ name }) => readBinary(resolve(EXAMPLE_DIR, modelFile(name))));
  let failures = 0;

  const nodeRuns = models.map((model) => runOnNode(microq, model, testSet));
  const nodeRows = VARIANTS.map(({ name, scheme }, index) => {
    const run = nodeRuns[index];
    const pytorchLogits = readBinary(resolve(EXAMPLE_DIR, pytorchLogitsFile(name)));
    const predictions = argmaxPerImage(run.logits);
    const equalLogits = countEqual(run.logits, pytorchLogits);
    if (equalLogits !== logitCount) failures++;
    return [
      name,
      scheme,
      accuracy(countEqual(predictions, testSet.labels), testSet.count),
      fraction(countEqual(predictions, argmaxPerImage(pytorchLogits)), testSet.count),
      fraction(equalLogits, logitCount),
      `${run.arenaBytes} B`,
    ];
  });
  console.log(`digits CNN, ${testSet.count} test images of 8x8 pixels\n`);
  console.log(
    formatTable(
      [
        { header: "node", align: "left" },
        { header: "scheme", align: "left" },
        { header: "accuracy", align: "right" },
        { header: "same class as PyTorch", align: "right" },
        { header: "same int logits as PyTorch", align: "right" },
        { header: "arena", align: "right" },
      ],
      nodeRows,
    ),
  );

  // One xsnap process per variant, all three at once, and each runs every image.
  const xsRuns = await Promise.all(models.map((model) => runOnXs(microq, model, testSet)));
  const xsRows = VARIANTS.map(({ name }, index) => {
    const run = xsRuns[index];
    const equalLogits = countEqual(run.logits, nodeRuns[index].logits);
    if (equalLogits !== logitCount) failures++;
    return [
      name,
      accuracy(countEqual(argmaxPerImage(run.logits), testSet.labels), testSet.count),
      `${equalLogits === logitCount ? "yes" : "NO"} ${fraction(equalLogits, logitCount)}`,
      `${run.arenaBytes} B`,
      formatTime(run.milliseconds),
    ];
  });
  console.log();
  console.log(
    formatTable(
      [
        { header: "xs", align: "left" },
        { header: "accuracy", align: "right" },
        { header: "same int logits as node", align: "right" },
        { header: "arena", align: "right" },
        { header: "xsnap process", align: "right" },
      ],
      xsRows,
    ),
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
