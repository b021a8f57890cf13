// The host simulation's shims (tools/sim/shims) on XS, each run with a small generated
// main. Virtual timers fire in due order and stop when cleared or at the time limit. The
// sensor class replays recorded readings, then returns undefined. Resource returns the
// same buffer on every call and lists the known files when one is missing. trace prints
// whole lines.
import { test } from "uvu";
import * as assert from "uvu/assert";

import { sensorModuleSource, shimFiles } from "../../tools/sim/simulate.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { throwIfFailed } from "../../tools/xs/runner.js";

async function runMain(main: string, extra: Record<string, string> = {}, untilMs = 10_000): Promise<string[]> {
  const files = {
    ...shimFiles(),
    __sim_resources__: "export default { \"model.bin\": new Uint8Array([1, 2, 3]).buffer };\n",
    main,
    ...extra,
    "entry.js": `import { flushTrace } from "__sim_globals__";
import { runTimers } from "timer";
import "main";
const outcome = runTimers(${untilMs});
flushTrace();
print("end " + outcome.reason + " " + outcome.ms);
`,
  };
  const result = await runXsModule(files, "entry.js");
  throwIfFailed(result);
  return result.stdout.trimEnd().split("\n");
}

test("timer: order, repeat, clear", async () => {
  const lines = await runMain(`import Timer from "timer";
import Time from "time";
let count = 0;
Timer.set(() => trace("once at " + Time.ticks + "\\n"), 25);
Timer.repeat((timer) => {
  count += 1;
  trace("repeat " + count + " at " + Time.ticks + "\\n");
  if (count === 3) Timer.clear(timer);
}, 10);
`);
  assert.equal(lines, ["repeat 1 at 10", "repeat 2 at 20", "once at 25", "repeat 3 at 30", "end no timers 30"]);
});

test("timer: time limit", async () => {
  const lines = await runMain(`import Timer from "timer";
Timer.repeat(() => trace("tick\\n"), 40);
`, {}, 100);
  assert.equal(lines, ["tick", "tick", "end time limit 80"]);
});

test("sensor: replays then undefined", async () => {
  const specifier = "embedded:sensor/Accelerometer/Test";
  const sensor = sensorModuleSource(specifier, [{ x: 1, y: 2, z: 3 }, { x: -1, y: 0, z: 9.8 }], "a test");
  const lines = await runMain(`import Sensor from "${specifier}";
import device from "embedded:provider/builtin";
const sensor = new Sensor({ sensor: { ...device.I2C.default, io: device.io.I2C } });
sensor.configure({ range: 2 });
for (let i = 0; i < 3; i++) trace(JSON.stringify(sensor.sample()) + "\\n");
sensor.close();
`, { [specifier]: sensor });
  assert.equal(lines, ['{"x":1,"y":2,"z":3}', '{"x":-1,"y":0,"z":9.8}', "undefined", "end no timers 0"]);
});

test("Resource: one buffer, missing name", async () => {
  const lines = await runMain(`import Resource from "Resource";
const first = new Resource("model.bin");
trace((first === new Resource("model.bin")) + " " + first.byteLength + " " + Resource.exists("other.bin") + "\\n");
try { new Resource("other.bin"); } catch (error) { trace(error.message + "\\n"); }
`);
  assert.is(lines[0], "true 3 false");
  assert.match(lines[1], /Resource "other.bin" not found: .*model\.bin/);
});

test("trace: partial lines and PWM", async () => {
  const lines = await runMain(`import PWM from "embedded:io/pwm";
import LegacyPWM from "pins/pwm";
trace("a", 1);
trace("b\\nc");
new PWM({ pin: 4 }).write(1023);
new LegacyPWM({ pin: 5 }).write(7);
try { new PWM({ pin: 4 }).write(1024); } catch (error) { trace("\\n" + error.message + "\\n"); }
`);
  assert.equal(lines, [
    "a1b",
    "pwm pin=4 duty=1023",
    "pwm pin=5 duty=7",
    "c",
    "PWM value 1024 is out of range: use an integer from 0 to 1023",
    "end no timers 0",
  ]);
});

test("String.fromArrayBuffer: UTF-8 text", async () => {
  const lines = await runMain(`const bytes = new Uint8Array([0x69, 0x64, 0x6c, 0x65, 0x0a, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
trace(JSON.stringify(String.fromArrayBuffer(bytes.buffer)) + "\\n");
`);
  assert.equal(lines, [JSON.stringify("idle\n\u00e9\u20ac\u{1f600}"), "end no timers 0"]);
});

test.run();
