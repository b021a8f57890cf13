// The person-detection device example in its host simulation: main.ts, compiled for the
// device, reads TFLM's two test images from Resources on XS and prints their scores.
// They must equal TFLM's goldens for the same images, the fixture cases image_person and
// image_no_person. The ESP32 time it prints is an estimate from stored meter units;
// the stored figures are measured again here.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { decodeGrayBmp } from "../../tools/bmp.js";
import { simulateExample } from "../../tools/sim/simulate.js";
import {
  ASSUMED_CYCLES_PER_METER_UNIT,
  ESP32_CPU_HZ,
  EXAMPLE_DIR,
  IMAGE_FILES,
  measureMeterUnits,
} from "../../examples/person-detection/estimate.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

/** The device module, as compiled for the device by tsconfig.examples.json. */
interface DeviceBmp {
  copyGrayBmp(file: ArrayBufferLike, name: string, width: number, height: number, target: Uint8Array): void;
}
const DEVICE_BMP = resolve(REPOSITORY_ROOT, "build", "device", "examples", "person-detection", "device", "bmp.js");

/** Fixture case of TFLM's goldens for each test image. */
const CASES: Record<string, string> = { "person.bmp": "image_person", "no_person.bmp": "image_no_person" };
/** How far the stored meter units may drift from a new measurement before the estimate counts as stale. */
const METER_TOLERANCE = 0.02;

const SCORES = /^(\S+): scores \[no_person, person\] = \[(-?\d+), (-?\d+)\] -> (person|no_person)$/;
const ESTIMATE = /^(\S+): ESTIMATED ESP32 time per inference (\d+\.\d) s \((\d+) XS meter units measured on a PC x (\d+) cycles per unit, assumed, \/ (\d+) MHz; not measured on an ESP32\)$/;

function fixtureCase(name: string) {
  const found = tflmModel("person_detect").cases.find((entry) => entry.case === CASES[name]);
  if (found === undefined) throw new Error(`fixture case ${CASES[name]} not found`);
  return found;
}

test("person-detection files are TFLM's model and images", () => {
  const model = new Uint8Array(readFileSync(resolve(EXAMPLE_DIR, "person_detect.tflite")));
  assert.equal(model, readFixture("models/person_detect.tflite"), "person_detect.tflite");
  for (const name of IMAGE_FILES) {
    const bmp = decodeGrayBmp(new Uint8Array(readFileSync(resolve(EXAMPLE_DIR, "images", name))), name);
    assert.equal(bmp.pixels, readFixture(fixtureCase(name).inputs[0]), `${name} pixels are the input of ${CASES[name]}`);
  }
});

test("person-detection simulation prints TFLM's scores", async () => {
  const result = await simulateExample("person-detection");
  assert.is(result.reason, "no timers", "the example clears its timer after both images");
  assert.match(result.lines[0], /^person-detection: 7160194 MACs, arena \d+ bytes, persistent \d+ bytes$/);

  const lines = result.lines.slice(1);
  assert.is(lines.length, 2 * IMAGE_FILES.length, lines.join("\n"));
  for (let index = 0; index < IMAGE_FILES.length; index++) {
    const name = IMAGE_FILES[index];
    const match = SCORES.exec(lines[2 * index]);
    assert.ok(match, `scores line of ${name}: ${lines[2 * index]}`);
    const [, printedName, noPerson, person, label] = match;
    assert.is(printedName, name);
    const golden = asInt8(readFixture(fixtureCase(name).outputs[0]));
    assert.equal([Number(noPerson), Number(person)], golden, `${name}: TFLM's scores`);
    assert.is(label, golden[1] > golden[0] ? "person" : "no_person", `${name}: label`);

    const estimate = ESTIMATE.exec(lines[2 * index + 1]);
    assert.ok(estimate, `estimate line of ${name}: ${lines[2 * index + 1]}`);
    const [, estimateName, seconds, units, cycles, megahertz] = estimate;
    assert.is(estimateName, name);
    assert.is(Number(cycles), ASSUMED_CYCLES_PER_METER_UNIT);
    assert.is(Number(megahertz), ESP32_CPU_HZ / 1e6);
    assert.is(seconds, ((Number(units) * ASSUMED_CYCLES_PER_METER_UNIT) / ESP32_CPU_HZ).toFixed(1), `${name}: seconds`);
  }
});

test("person-detection stored meter units are current", async () => {
  const source = readFileSync(resolve(EXAMPLE_DIR, "device", "esp32_estimate.ts"), "utf8");
  const measured = await measureMeterUnits();
  for (let index = 0; index < IMAGE_FILES.length; index++) {
    const name = IMAGE_FILES[index];
    const stored = new RegExp(`${JSON.stringify(name)}: (\\d+),`).exec(source);
    assert.ok(stored, `device/esp32_estimate.ts has no meter units for ${name}`);
    const drift = Math.abs(Number(stored[1]) - measured[index]) / measured[index];
    assert.ok(
      drift <= METER_TOLERANCE,
      `${name}: stored ${stored[1]} meter units, measured ${measured[index]} (${(100 * drift).toFixed(1)}% apart): ` +
        "run npx tsc -p tsconfig.node.json && node build/examples/person-detection/estimate.js",
    );
  }
});

/** Builds an 8-bit BMP of 3x2 pixels 1..6 (top row 1 2 3), rows padded to 4 bytes, stored top-down or bottom-up. */
function tinyBmp(topDown: boolean): Uint8Array {
  const pixelOffset = 54 + 1024;
  const file = new Uint8Array(pixelOffset + 2 * 4);
  const view = new DataView(file.buffer);
  file[0] = 0x42;
  file[1] = 0x4d;
  view.setUint32(2, file.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, 3, true);
  view.setInt32(22, topDown ? -2 : 2, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 8, true);
  const rows = topDown ? [[1, 2, 3], [4, 5, 6]] : [[4, 5, 6], [1, 2, 3]];
  rows.forEach((row, index) => file.set(row, pixelOffset + 4 * index));
  return file;
}

test("device copyGrayBmp: row order and bad files", async () => {
  const { copyGrayBmp } = (await import(DEVICE_BMP)) as DeviceBmp;
  for (const topDown of [true, false]) {
    const target = new Uint8Array(6);
    copyGrayBmp(tinyBmp(topDown).buffer, "tiny.bmp", 3, 2, target);
    assert.equal(Array.from(target), [1, 2, 3, 4, 5, 6], topDown ? "top-down" : "bottom-up");
  }
  const notBmp = tinyBmp(true);
  notBmp[0] = 0;
  assert.throws(() => copyGrayBmp(notBmp.buffer, "x.bmp", 3, 2, new Uint8Array(6)), /x\.bmp is not a BMP file/);
  assert.throws(() => copyGrayBmp(tinyBmp(true).buffer, "x.bmp", 96, 96, new Uint8Array(9216)), /x\.bmp is 3x2 pixels: the model takes 96x96/);
  const truncated = tinyBmp(true).slice(0, 54 + 1024 + 5);
  assert.throws(() => copyGrayBmp(truncated.buffer, "x.bmp", 3, 2, new Uint8Array(6)), /the file is truncated/);
  const fourBit = tinyBmp(true);
  fourBit[28] = 4;
  assert.throws(() => copyGrayBmp(fourBit.buffer, "x.bmp", 3, 2, new Uint8Array(6)), /4 bits per pixel/);
});

test.run();
