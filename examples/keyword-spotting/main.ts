// Keyword spotting on a Moddable device: TFLM's micro_speech model listens for
// "yes" and "no" in a stream of audio features, as TFLM's micro_speech example does.
// A feature provider delivers a 40-value slice of features every 20 ms into a ring
// buffer of the latest 49 slices (about one second of audio). Every
// INFERENCE_INTERVAL_MS a timer copies that window into the model's input and runs
// the model. A recognizer averages the scores of the last second of inferences and
// reports a command when one label's average passes a threshold. The command is
// printed with its average score and the time, as TFLM's command responder does.
//
// The features come from a recording in flash (features.bin, 20 ms per 40 bytes)
// instead of a microphone; see README.md for what it holds.
import { Interpreter } from "microq";
import Resource from "Resource";
import Time from "time";
import Timer from "timer";

import { FeatureProvider, SLICE_COUNT, SLICE_SIZE, SLICE_STRIDE_MS } from "./device/feature_provider";
import { RecognizeCommands } from "./device/recognize_commands";

/** The model's output order (TFLM's kCategoryLabels). */
const LABELS = ["silence", "unknown", "yes", "no"];
const INFERENCE_INTERVAL_MS = 100;
/**
 * TFLM's defaults except the threshold, which is 200 there. The spectrograms of the
 * recording are random (see README.md), and the averages of the commands the model
 * finds in them are 156 to 159.
 */
const RECOGNIZER = { averageWindowMs: 1000, detectionThreshold: 150, suppressionMs: 1500, minimumCount: 3 };

// Both Resources are read in place: only the arena and the ring buffer are in RAM.
const interpreter = new Interpreter(new Resource("micro_speech_quantized.tflite"));
const input = interpreter.inputs[0];
const output = interpreter.outputs[0];
if (!(input.data instanceof Int8Array) || input.data.length !== SLICE_COUNT * SLICE_SIZE) {
  throw new Error(`model input is ${input.type} ${JSON.stringify(input.shape)}; this example needs int8 [1, ${SLICE_COUNT * SLICE_SIZE}]`);
}
if (!(output.data instanceof Int8Array) || output.data.length !== LABELS.length) {
  throw new Error(`model output is ${output.type} ${JSON.stringify(output.shape)}; this example needs int8 [1, ${LABELS.length}]`);
}
const inputData = input.data;
const scores = output.data;

const features = new FeatureProvider(new Int8Array(new Resource("features.bin")));
const recognizer = new RecognizeCommands(LABELS, RECOGNIZER);

trace(
  `keyword-spotting: arena ${interpreter.arenaBytes} bytes, ${features.totalSlices} feature slices ` +
    `(${features.totalSlices * SLICE_STRIDE_MS} ms), inference every ${INFERENCE_INTERVAL_MS} ms, ` +
    `scores ${LABELS.join(" ")}\n`,
);

const start = Time.ticks;
let commandCount = 0;
const timer = Timer.repeat(() => {
  const now = Time.delta(start);
  // An invoke that took longer than the interval only means more new slices here.
  if (features.update(now) === 0) return;

  features.copyWindowTo(inputData);
  interpreter.invoke();
  trace(`${now} ms: ${scores[0]} ${scores[1]} ${scores[2]} ${scores[3]}\n`);

  recognizer.process(scores, now);
  if (recognizer.isNewCommand) {
    commandCount++;
    trace(`Heard ${recognizer.foundCommand} (${recognizer.score}) @${now}ms\n`);
  }

  if (features.exhausted) {
    Timer.clear(timer);
    trace(`keyword-spotting: end of the recorded features at ${now} ms, ${commandCount} commands heard\n`);
  }
}, INFERENCE_INTERVAL_MS);
