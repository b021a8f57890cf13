// Writes recorded/accel.json, the readings that the host simulation's accelerometer
// (tools/sim/shims/sensor.js) returns, one per sample() call, from ../recorded.bin:
// 12 windows x 64 samples x [x, y, z] little-endian float32 in m/s^2. Each float32 value
// is written as the shortest decimal that reads back as the same double, so the readings
// equal the recorded values exactly. host-tests/examples/gesture.test.ts fails when the
// JSON file no longer matches recorded.bin. Regenerate with
//   npx tsc -p tsconfig.node.json && node build/examples/gesture/recorded/generate.js
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

import { REPOSITORY_ROOT } from "../../../tools/bundle.js";

export const GESTURE_DIR = resolve(REPOSITORY_ROOT, "examples", "gesture");
export const RECORDED_BIN = resolve(GESTURE_DIR, "recorded.bin");
export const READINGS_JSON = resolve(GESTURE_DIR, "recorded", "accel.json");
const AXES = 3;

export interface Reading {
  x: number;
  y: number;
  z: number;
}

/** Decodes recorded.bin into one reading per sample. */
export function decodeRecorded(bytes: Uint8Array): Reading[] {
  if (bytes.byteLength % (4 * AXES) !== 0) {
    throw new Error(`recorded.bin has ${bytes.byteLength} bytes, not a whole number of x, y, z float32 samples`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const readings: Reading[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += 4 * AXES) {
    readings.push({
      x: view.getFloat32(offset, true),
      y: view.getFloat32(offset + 4, true),
      z: view.getFloat32(offset + 8, true),
    });
  }
  return readings;
}

/** Returns the text of recorded/accel.json for the readings: one reading per line. */
export function readingsJson(readings: Reading[]): string {
  return `[\n${readings.map((reading) => JSON.stringify(reading)).join(",\n")}\n]\n`;
}

function main(): void {
  const readings = decodeRecorded(new Uint8Array(readFileSync(RECORDED_BIN)));
  writeFileSync(READINGS_JSON, readingsJson(readings));
  console.log(`wrote ${READINGS_JSON}: ${readings.length} readings`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(REPOSITORY_ROOT, "build", "examples", "gesture", "recorded", "generate.js")) {
  main();
}
