// Person detection on a Moddable device: TFLM's person_detect model classifies the two
// 96x96 grayscale test images of TFLM's example, read from flash as Resources, and
// prints the scores [no_person, person] and an ESTIMATED ESP32 time per inference.
//
// The model and the images stay in flash: the interpreter reads the weights in place,
// and each image is copied once, straight into the input tensor.
import { Interpreter } from "microq";
import Resource from "Resource";
import Timer from "timer";

import { copyGrayBmp } from "./device/bmp";
import { ASSUMED_CYCLES_PER_METER_UNIT, ESP32_CPU_HZ, METER_UNITS_PER_INVOKE } from "./device/esp32_estimate";

const IMAGES = ["person.bmp", "no_person.bmp"];
/** Labels of the two output scores, in the model's order. */
const LABELS = ["no_person", "person"];
const INTERVAL_MS = 100;

const interpreter = new Interpreter(new Resource("person_detect.tflite"));
const input = interpreter.inputs[0];
const output = interpreter.outputs[0];
// The input is [1, height, width, 1].
const height = input.shape[1];
const width = input.shape[2];

trace(`person-detection: ${interpreter.macs} MACs, arena ${interpreter.arenaBytes} bytes, persistent ${interpreter.persistentBytes} bytes\n`);

let next = 0;
const timer = Timer.repeat(() => {
  const name = IMAGES[next];
  // TFLM's example feeds the 0..255 pixel bytes unchanged into the int8 input.
  copyGrayBmp(new Resource(name), name, width, height, input.bytes);
  interpreter.invoke();

  const noPerson = output.data[0];
  const person = output.data[1];
  const label = person > noPerson ? LABELS[1] : LABELS[0];
  trace(`${name}: scores [no_person, person] = [${noPerson}, ${person}] -> ${label}\n`);

  // A device cannot read the XS meter: the meter units come from a measurement on the
  // host's XS, and the cycles per unit are assumed (device/esp32_estimate.ts).
  const units = METER_UNITS_PER_INVOKE[name];
  const seconds = (units * ASSUMED_CYCLES_PER_METER_UNIT) / ESP32_CPU_HZ;
  trace(
    `${name}: ESTIMATED ESP32 time per inference ${seconds.toFixed(1)} s ` +
      `(${units} XS meter units measured on a PC x ${ASSUMED_CYCLES_PER_METER_UNIT} cycles per unit, assumed, / ${ESP32_CPU_HZ / 1e6} MHz; not measured on an ESP32)\n`,
  );

  next++;
  if (next === IMAGES.length) Timer.clear(timer);
}, INTERVAL_MS);
