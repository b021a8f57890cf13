// The gesture device example in its host simulation: main.ts, compiled for the device,
// reads the replayed accelerometer at 50 Hz on XS, classifies each 64-sample window and
// prints the label and the int8 logits. The labels must equal recorded-labels.txt (the
// true classes of the recorded windows), and labels and logits must equal those of the
// Node interpreter on the same windows, quantized here as MODEL.md documents.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { Interpreter } from "../../runtime/interpreter.js";
import { simulateExample } from "../../tools/sim/simulate.js";
import { GESTURE_DIR, READINGS_JSON, RECORDED_BIN, decodeRecorded, readingsJson } from "../../examples/gesture/recorded/generate.js";

const WINDOW_SAMPLES = 64;
const AXES = 3;
const LINE = /^window (\d+): (\S+) score (-?\d+\.\d\d) \(int8 logits \[(-?\d+(?:, -?\d+)*)\]\)$/;

function textLines(file: string): string[] {
  return readFileSync(resolve(GESTURE_DIR, file), "utf8").trimEnd().split("\n");
}

/** Runs each recorded window on the Node interpreter and returns its int8 logits. */
function nodeLogits(): number[][] {
  const interpreter = new Interpreter(new Uint8Array(readFileSync(resolve(GESTURE_DIR, "gesture.tflite"))));
  const input = interpreter.inputs[0];
  const bytes = new Uint8Array(readFileSync(RECORDED_BIN));
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const windowValues = WINDOW_SAMPLES * AXES;
  const logits: number[][] = [];
  for (let start = 0; start + windowValues <= values.length; start += windowValues) {
    for (let i = 0; i < windowValues; i++) {
      const q = Math.round(values[start + i] / input.scale) + input.zeroPoint;
      input.data[i] = Math.max(-128, Math.min(127, q));
    }
    interpreter.invoke();
    logits.push(Array.from(interpreter.outputs[0].data));
  }
  return logits;
}

function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

test("gesture replay readings match recorded.bin", () => {
  const expected = readingsJson(decodeRecorded(new Uint8Array(readFileSync(RECORDED_BIN))));
  assert.ok(
    readFileSync(READINGS_JSON, "utf8") === expected,
    "recorded/accel.json is stale: run npx tsc -p tsconfig.node.json && node build/examples/gesture/recorded/generate.js",
  );
});

test("gesture simulation prints the recorded labels", async () => {
  const labels = textLines("labels.txt");
  const recordedLabels = textLines("recorded-labels.txt");
  const logits = nodeLogits();
  assert.is(logits.length, recordedLabels.length, "one label per recorded window");

  const result = await simulateExample("gesture");
  assert.is(result.reason, "no timers", "the example stops when the readings are used up");
  assert.is(result.lines[0], `gesture: 4 labels (${labels.join(", ")}), arena 224 bytes, 50 Hz, 64 samples per window`);
  const windows = result.lines.slice(1, -1);
  assert.is(windows.length, recordedLabels.length, result.lines.join("\n"));
  assert.is(result.lines[result.lines.length - 1], `gesture: no more readings after ${recordedLabels.length} windows`);
  // 64 samples every 20 ms per window, and the tick that finds no reading.
  assert.is(result.virtualMs, 20 * (recordedLabels.length * WINDOW_SAMPLES + 1));

  for (let index = 0; index < windows.length; index++) {
    const match = LINE.exec(windows[index]);
    assert.ok(match, `window ${index + 1}: ${windows[index]}`);
    const [, number, label, , printedLogits] = match;
    assert.is(Number(number), index + 1);
    assert.equal(printedLogits.split(", ").map(Number), logits[index], `window ${index + 1}: logits of the Node interpreter`);
    assert.is(label, labels[argmax(logits[index])], `window ${index + 1}: argmax of the Node interpreter`);
    assert.is(label, recordedLabels[index], `window ${index + 1}: recorded label`);
  }
});

test.run();
