// Trains the gesture example's model and writes it with its replay data:
//   node build/tools/gesture/train.js [--output-dir examples/gesture] [--work-dir build/gesture]
// The output directory receives gesture.tflite, labels.txt, recorded.bin and
// recorded-labels.txt. The work directory receives the float model
// (gesture-float.onnx) and the calibration inputs (calibration.bin) that
// microq convert --quantize int8 reads.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GESTURE_CLASSES } from "./dataset.js";
import { buildGestureModel, float32Bytes } from "./pipeline.js";

function main(): void {
  const { values } = parseArgs({
    options: { "output-dir": { type: "string", default: "examples/gesture" }, "work-dir": { type: "string", default: "build/gesture" } },
  });
  const outputDir = values["output-dir"]!;
  const workDir = values["work-dir"]!;

  const started = Date.now();
  const model = buildGestureModel((line) => console.log(line));
  const percent = (correct: number): string => ((100 * correct) / model.testCount).toFixed(2);
  console.log(`float test accuracy: ${model.floatCorrect}/${model.testCount} (${percent(model.floatCorrect)}%)`);
  console.log(`int8 test accuracy:  ${model.int8Correct}/${model.testCount} (${percent(model.int8Correct)}%)`);

  mkdirSync(workDir, { recursive: true });
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(join(workDir, "gesture-float.onnx"), model.floatOnnx);
  writeFileSync(join(workDir, "calibration.bin"), model.calibration);
  writeFileSync(join(outputDir, "gesture.tflite"), model.tflite);
  writeFileSync(join(outputDir, "labels.txt"), GESTURE_CLASSES.join("\n") + "\n");
  writeFileSync(join(outputDir, "recorded.bin"), float32Bytes(model.recorded.windows));
  writeFileSync(join(outputDir, "recorded-labels.txt"), Array.from(model.recorded.labels, (label) => GESTURE_CLASSES[label]).join("\n") + "\n");
  console.log(`wrote ${join(outputDir, "gesture.tflite")} (${model.tflite.length} bytes), ${model.recorded.labels.length} recorded windows, and ${workDir}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
