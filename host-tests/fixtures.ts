// Locations of the shared reference fixtures (TFLM goldens and models),
// which sit beside the repository in ../shared/fixtures.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { REPOSITORY_ROOT } from "../tools/bundle.js";

export const FIXTURES = resolve(REPOSITORY_ROOT, "..", "shared", "fixtures");
export const TFLM_FIXTURES = resolve(FIXTURES, "tflm");

if (!existsSync(TFLM_FIXTURES)) {
  throw new Error(`reference fixtures not found at ${TFLM_FIXTURES}; the tests expect the shared/ folder beside the repository`);
}

export interface TflmCase {
  case: string;
  inputs: string[];
  outputs: string[];
}

export interface TflmModelEntry {
  name: string;
  model: string;
  tflm_arena_used_bytes: number;
  ops: Record<string, number>;
  cases: TflmCase[];
}

export function tflmManifest(): { models: TflmModelEntry[] } {
  return JSON.parse(readFileSync(resolve(TFLM_FIXTURES, "manifest.json"), "utf8"));
}

export function tflmModel(name: string): TflmModelEntry {
  const entry = tflmManifest().models.find((m) => m.name === name);
  if (entry === undefined) throw new Error(`model ${name} is not in the TFLM fixture manifest`);
  return entry;
}

export function readFixture(relativePath: string): Uint8Array {
  const data = readFileSync(resolve(TFLM_FIXTURES, relativePath));
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Signed view of int8 bytes, for readable assertion output. */
export function asInt8(bytes: Uint8Array): number[] {
  return Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
