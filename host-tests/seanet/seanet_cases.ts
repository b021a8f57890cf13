// The seanet single-operator cases of TFLM's integration tests
// (fixtures tflm/seanet/<op>/): int16 activations, int8 weights. Each case
// NAME has NAME.tflite, inputs NAME_in<i>.bin, TFLM's output
// NAME_oracle_out0.bin and TFLite's golden NAME_golden_<type>.csv.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { TFLM_FIXTURES } from "../fixtures.js";

export const SEANET = resolve(TFLM_FIXTURES, "seanet");

export interface SeanetCase {
  op: string;
  name: string;
  model: Uint8Array;
  inputs: Uint8Array[];
  oracle: Uint8Array;
  /** Element type of the output, from the golden CSV's file name. */
  outputType: "int16" | "int32" | "int8";
  golden: number[];
}

function readBytes(path: string): Uint8Array {
  const data = readFileSync(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function seanetOps(): string[] {
  return readdirSync(SEANET).filter((name) => existsSync(resolve(SEANET, name))).sort();
}

export function seanetCases(op: string): SeanetCase[] {
  const dir = resolve(SEANET, op);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".tflite"))
    .map((f) => f.slice(0, -".tflite".length))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return names.map((name) => {
    const inputs: Uint8Array[] = [];
    for (let i = 0; existsSync(resolve(dir, `${name}_in${i}.bin`)); i++) inputs.push(readBytes(resolve(dir, `${name}_in${i}.bin`)));
    const goldenFile = readdirSync(dir).find((f) => f.startsWith(`${name}_golden_`) && f.endsWith(".csv"));
    if (goldenFile === undefined) throw new Error(`seanet case ${op}/${name} has no golden CSV`);
    const outputType = goldenFile.slice(`${name}_golden_`.length, -".csv".length) as SeanetCase["outputType"];
    const golden = readFileSync(resolve(dir, goldenFile), "utf8")
      .split(/[,\s]+/)
      .filter((s) => s.length > 0)
      .map(Number);
    return {
      op,
      name,
      model: readBytes(resolve(dir, `${name}.tflite`)),
      inputs,
      oracle: readBytes(resolve(dir, `${name}_oracle_out0.bin`)),
      outputType,
      golden,
    };
  });
}

export function valuesOf(bytes: Uint8Array, type: SeanetCase["outputType"]): number[] {
  const copy = bytes.slice();
  if (type === "int16") return Array.from(new Int16Array(copy.buffer, 0, copy.byteLength >> 1));
  if (type === "int32") return Array.from(new Int32Array(copy.buffer, 0, copy.byteLength >> 2));
  return Array.from(new Int8Array(copy.buffer));
}

/** Largest absolute difference between two equally long value lists; Infinity when the lengths differ. */
export function maxDifference(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
