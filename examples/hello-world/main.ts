// Hello world on a Moddable device: TFLM's sine model sets the brightness of an
// LED, as TFLM's hello_world example does. Every INTERVAL_MS a timer takes the
// next x of STEPS evenly spaced values from 0 towards 2*pi, runs the int8 model
// on it and writes the predicted sine, scaled to the PWM range, to the LED.
//
// The arithmetic mirrors TFLM's example, which computes in C float (float32):
// Math.fround rounds each step to float32, and the quantized input is truncated
// toward zero like C's float-to-int8_t conversion.
import { Interpreter } from "microq";
import Resource from "Resource";
import Timer from "timer";
import PWM from "embedded:io/pwm";
import device from "embedded:provider/builtin";

/** Inferences per cycle of x from 0 to 2*pi (TFLM's kInferencesPerCycle). */
const STEPS = 20;
/** TFLM's kXrange, 2.f * 3.14159265359f. */
const X_RANGE = Math.fround(2 * Math.fround(3.14159265359));
const INTERVAL_MS = 50;

// The model stays in flash: the Resource is read in place, only the arena is in RAM.
const interpreter = new Interpreter(new Resource("hello_world_int8.tflite"));
const input = interpreter.inputs[0];
const output = interpreter.outputs[0];

const led = new PWM({ pin: device.pin.led ?? 2 });
const maxDuty = 2 ** led.resolution - 1;
const halfDuty = Math.fround(maxDuty / 2);

trace(`hello-world: arena ${interpreter.arenaBytes} bytes, PWM resolution ${led.resolution} bits\n`);

let step = 0;
Timer.repeat(() => {
  const position = Math.fround(step / STEPS);
  const x = Math.fround(position * X_RANGE);
  const scaled = Math.fround(Math.fround(x / input.scale) + input.zeroPoint);
  const xQuantized = Math.max(-128, Math.min(127, Math.trunc(scaled)));
  input.data[0] = xQuantized;

  interpreter.invoke();

  const yQuantized = output.data[0];
  const y = Math.fround((yQuantized - output.zeroPoint) * output.scale);
  // TFLM's Arduino output handler: brightness = (int)(127.5f * (y + 1)) for 8 bits;
  // here 127.5 becomes half of this PWM's range, and the result is kept inside it.
  const duty = Math.max(0, Math.min(maxDuty, Math.trunc(Math.fround(halfDuty * Math.fround(y + 1)))));
  trace(`x=${x.toFixed(6)} x_q=${xQuantized} y_q=${yQuantized} y=${y.toFixed(6)} duty=${duty}\n`);
  led.write(duty);

  // Loop over the cycle forever, as TFLM's example does. The host simulation stops
  // after one cycle (sim.json: untilMs 1000 = STEPS * INTERVAL_MS).
  step = (step + 1) % STEPS;
}, INTERVAL_MS);
