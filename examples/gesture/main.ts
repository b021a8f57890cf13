// Gesture recognition on a Moddable device. A timer samples an ECMA-419 accelerometer
// at 50 Hz, and every 64 samples (1.28 s) fill one window of x, y, z in m/s^2. A small
// int8 model (gesture.tflite, see MODEL.md) classifies the window as one of the labels
// in labels.txt, and each window prints its label and score.
//
// On a device the sensor is an LIS3DH on the default I2C bus. In the host simulation the
// same class replays recorded windows (sim.json) and returns undefined when they are
// used up; the example then stops.
import { Interpreter } from "microq";
import Resource from "Resource";
import Timer from "timer";
import device from "embedded:provider/builtin";
import Accelerometer from "embedded:sensor/Accelerometer/LIS3DH";

const SAMPLE_RATE_HZ = 50;
const WINDOW_SAMPLES = 64;
const AXES = 3;
/** LIS3DH configuration codes of Moddable's driver: data rate 50 Hz, range +-4 g. */
const LIS3DH_RATE_50_HZ = 0b0100;
const LIS3DH_RANGE_4_G = 0b01;

/**
 * Returns the non-empty lines of an ASCII text file. Decoded by hand because XS's
 * String.fromArrayBuffer, present on devices, is missing from the simulation's XS build.
 */
function readLines(file: ArrayBufferLike): string[] {
  const bytes = new Uint8Array(file);
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
}

// The model and the labels stay in flash: the Resources are read in place.
const interpreter = new Interpreter(new Resource("gesture.tflite"));
const input = interpreter.inputs[0];
const output = interpreter.outputs[0];
if (input.type !== "int8" || input.data.length !== WINDOW_SAMPLES * AXES) {
  throw new Error(`gesture.tflite takes ${input.data.length} ${input.type} values: this example feeds ${WINDOW_SAMPLES * AXES} int8 values (64 samples of x, y, z)`);
}
const labels = readLines(new Resource("labels.txt"));
if (labels.length !== output.data.length) {
  throw new Error(`labels.txt has ${labels.length} labels but gesture.tflite has ${output.data.length} outputs: use the labels.txt written with the model`);
}

// Quantize each sample with the model's own input parameters, which change when the
// model is retrained: q = clamp(round(x / scale) + zeroPoint, -128, 127).
const inputData = input.data;
const inputScale = input.scale;
const inputZeroPoint = input.zeroPoint;
const outputData = output.data;

const sensor = new Accelerometer({ sensor: { ...device.I2C.default, io: device.io.SMBus } });
sensor.configure({ rate: LIS3DH_RATE_50_HZ, range: LIS3DH_RANGE_4_G });

trace(`gesture: ${labels.length} labels (${labels.join(", ")}), arena ${interpreter.arenaBytes} bytes, ${SAMPLE_RATE_HZ} Hz, ${WINDOW_SAMPLES} samples per window\n`);

function quantize(value: number): number {
  return Math.max(-128, Math.min(127, Math.round(value / inputScale) + inputZeroPoint));
}

/** Runs the model on the window in the input tensor and prints the best label. */
function classify(window: number): void {
  interpreter.invoke();
  let best = 0;
  for (let i = 1; i < outputData.length; i++) {
    if (outputData[i] > outputData[best]) best = i;
  }
  const score = (outputData[best] - output.zeroPoint) * output.scale;
  let logits = "";
  for (let i = 0; i < outputData.length; i++) logits += (i > 0 ? ", " : "") + outputData[i];
  trace(`window ${window}: ${labels[best]} score ${score.toFixed(2)} (int8 logits [${logits}])\n`);
}

let sampleIndex = 0;
let windows = 0;
const timer = Timer.repeat(() => {
  const reading = sensor.sample();
  if (reading === undefined) {
    // Only the host simulation runs out of readings.
    Timer.clear(timer);
    sensor.close();
    trace(`gesture: no more readings after ${windows} windows\n`);
    return;
  }
  const offset = sampleIndex * AXES;
  inputData[offset] = quantize(reading.x);
  inputData[offset + 1] = quantize(reading.y);
  inputData[offset + 2] = quantize(reading.z);
  sampleIndex++;
  if (sampleIndex === WINDOW_SAMPLES) {
    // Every value of the input is written before each invoke, which may reuse its memory.
    sampleIndex = 0;
    windows++;
    classify(windows);
  }
}, 1000 / SAMPLE_RATE_HZ);
