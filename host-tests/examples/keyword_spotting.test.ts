// The keyword-spotting device example in its host simulation: main.ts, compiled for
// the device, streams the feature recording features.bin slice by slice into a ring
// buffer, runs micro_speech every 100 ms and prints each inference's scores and each
// recognized command. Checked here against the TFLM fixtures only:
// - features.bin is the layout its README describes, rebuilt here from the fixture
//   cases (whole 49x40 spectrograms) and silence;
// - the three inferences whose window is exactly one fixture case print TFLM's golden
//   output bytes for that case;
// - the recognized commands are, in order, the labels that win TFLM's golden scores
//   of the cases in the recording, one each;
// - the example's model is the fixture model;
// - the recognizer gives the results that the tests of TFLM's RecognizeCommands class
//   expect (recognize_commands_test.cc, tflite-micro before commit d5a83db0d).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { simulateExample } from "../../tools/sim/simulate.js";
import { RecognizeCommands } from "../../examples/keyword-spotting/device/recognize_commands.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

const EXAMPLE = resolve(REPOSITORY_ROOT, "examples", "keyword-spotting");
const LABELS = ["silence", "unknown", "yes", "no"]; // TFLM's kCategoryLabels
const SLICE_SIZE = 40;
const SLICE_COUNT = 49;
const SLICE_MS = 20;
const INFERENCE_MS = 100;
/** The recording as the README describes it: silent slices, or a fixture case. */
const LAYOUT: Array<number | string> = [26, "rand0", 1, "rand1", 1, "rand2", 50];

interface CaseInRecording {
  name: string;
  golden: number[];
  /** Virtual time of the inference whose window ends with the case's last slice. */
  alignedMs: number;
}

function goldenLabel(scores: number[]): string {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return LABELS[best];
}

function expectedRecording(): { bytes: Uint8Array; cases: CaseInRecording[] } {
  const fixtureCases = new Map(tflmModel("micro_speech_quantized").cases.map((c) => [c.case, c]));
  const parts: Uint8Array[] = [];
  const cases: CaseInRecording[] = [];
  let slices = 0;
  for (const segment of LAYOUT) {
    if (typeof segment === "number") {
      parts.push(new Uint8Array(segment * SLICE_SIZE).fill(0x80));
      slices += segment;
      continue;
    }
    const fixture = fixtureCases.get(segment);
    assert.ok(fixture, `fixture case ${segment} of micro_speech_quantized`);
    const input = readFixture(fixture.inputs[0]);
    assert.is(input.length, SLICE_COUNT * SLICE_SIZE);
    parts.push(input);
    slices += SLICE_COUNT;
    cases.push({ name: segment, golden: asInt8(readFixture(fixture.outputs[0])), alignedMs: slices * SLICE_MS });
  }
  const bytes = new Uint8Array(slices * SLICE_SIZE);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, cases };
}

const SCORES = /^(\d+) ms: (-?\d+) (-?\d+) (-?\d+) (-?\d+)$/;
const HEARD = /^Heard (\w+) \((\d+)\) @(\d+)ms$/;

test("model and features come from fixtures", () => {
  assert.equal(new Uint8Array(readFileSync(resolve(EXAMPLE, "micro_speech_quantized.tflite"))), readFixture("models/micro_speech_quantized.tflite"));
  const { bytes, cases } = expectedRecording();
  assert.equal(new Uint8Array(readFileSync(resolve(EXAMPLE, "features.bin"))), bytes, "features.bin differs from the layout rebuilt from the fixtures");
  // Each case ends on an inference, and the cases win three different labels.
  for (const c of cases) assert.is(c.alignedMs % INFERENCE_MS, 0, `case ${c.name} ends between inferences`);
  assert.equal(cases.map((entry) => goldenLabel(entry.golden)), ["yes", "no", "unknown"]);
});

test("simulation prints golden scores and labels", async () => {
  const { bytes, cases } = expectedRecording();
  const totalMs = (bytes.length / SLICE_SIZE) * SLICE_MS;
  const result = await simulateExample("keyword-spotting");
  assert.is(result.reason, "no timers", "the example clears its timer when the recording is used up");
  assert.is(result.virtualMs, totalMs);
  assert.match(result.lines[0], /^keyword-spotting: arena \d+ bytes, 225 feature slices \(4500 ms\), inference every 100 ms, scores silence unknown yes no$/);
  assert.is(result.lines[result.lines.length - 1], `keyword-spotting: end of the recorded features at ${totalMs} ms, ${cases.length} commands heard`);

  const scoresAt = new Map<number, number[]>();
  const commands: Array<{ label: string; score: number; ms: number }> = [];
  for (const line of result.lines.slice(1, -1)) {
    const scores = SCORES.exec(line);
    const command = HEARD.exec(line);
    if (scores) scoresAt.set(Number(scores[1]), scores.slice(2).map(Number));
    else if (command) commands.push({ label: command[1], score: Number(command[2]), ms: Number(command[3]) });
    else assert.unreachable(`unexpected line: ${line}`);
  }
  // One inference per 100 ms while slices arrive.
  assert.is(scoresAt.size, totalMs / INFERENCE_MS);

  for (const c of cases) {
    assert.equal(scoresAt.get(c.alignedMs), c.golden, `scores at ${c.alignedMs} ms, whose window is exactly case ${c.name}`);
  }
  assert.equal(commands.map((heard) => heard.label), cases.map((entry) => goldenLabel(entry.golden)), result.lines.join("\n"));
  for (const heard of commands) {
    assert.ok(heard.score > 150, `score ${heard.score} of ${heard.label} is not above the threshold 150`);
    assert.ok(heard.score <= 255, `score ${heard.score} of ${heard.label} is above 255`);
    assert.ok(scoresAt.has(heard.ms), `command at ${heard.ms} ms follows no inference`);
  }
});

// TFLM's tests construct RecognizeCommands(1000, 51) and keep the other defaults.
const TFLM_TEST_SETTINGS = { averageWindowMs: 1000, detectionThreshold: 51, suppressionMs: 1500, minimumCount: 3 };

test("recognizer finds yes, then no", () => {
  const recognizer = new RecognizeCommands(LABELS, TFLM_TEST_SETTINGS);
  const yes = new Int8Array([-128, -128, 127, -128]);
  const no = new Int8Array([-128, -128, -128, 127]);

  const yesCommands: string[] = [];
  for (let i = 0; i < 10; i++) {
    recognizer.process(yes, i * 100);
    if (recognizer.isNewCommand) yesCommands.push(recognizer.foundCommand);
  }
  assert.equal(yesCommands, ["yes"]);

  const noCommands: string[] = [];
  for (let i = 0; i < 10; i++) {
    recognizer.process(no, 1000 + i * 100);
    if (recognizer.isNewCommand) noCommands.push(recognizer.foundCommand);
  }
  assert.equal(noCommands, ["no"]);
  // After the last result (1900 ms) the window contains the yes at 900 ms and ten no results:
  // TFLM's test expects the average 10 * 255 / 11, truncated.
  assert.is(recognizer.foundCommand, "no");
  assert.is(recognizer.score, 231);
});

test("recognizer waits for enough results", () => {
  const recognizer = new RecognizeCommands(LABELS, TFLM_TEST_SETTINGS);
  recognizer.process(new Int8Array([-128, -128, 127, -128]), 100);
  assert.is(recognizer.score, 0);
  assert.is(recognizer.isNewCommand, false);
});

test("recognizer rejects wrong length and time", () => {
  const recognizer = new RecognizeCommands(LABELS, TFLM_TEST_SETTINGS);
  assert.throws(() => recognizer.process(new Int8Array([-128, -128, 127]), 0), /got 3 scores for 4 labels/);
  recognizer.process(new Int8Array([-128, -128, 127, -128]), 100);
  assert.throws(() => recognizer.process(new Int8Array([-128, -128, 127, -128]), 0), /older than the oldest kept/);
});

test.run();
