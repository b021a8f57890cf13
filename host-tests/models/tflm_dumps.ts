// Reading TFLM's layer dumps (dumps/<model>/rand0): which tensor each
// operator produces, and the state tensors after the whole invoke.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { TFLM_FIXTURES } from "../fixtures.js";

export interface DumpedTensor {
  index: number;
  file: string;
  type: string;
  /** Operator that writes the tensor, or null for graph inputs and variable tensors. */
  producer_op_index: number | null;
  producer_op: string | null;
  is_variable: boolean;
}

export interface ModelDump {
  dir: string;
  tensors: DumpedTensor[];
}

/** Reads the dump of case rand0; returns undefined for models without one (mobilenet_v2). */
export function readDump(modelName: string): ModelDump | undefined {
  const dir = resolve(TFLM_FIXTURES, "dumps", modelName, "rand0");
  if (!existsSync(resolve(dir, "index.json"))) return undefined;
  const index = JSON.parse(readFileSync(resolve(dir, "index.json"), "utf8")) as { tensors: DumpedTensor[] };
  return { dir, tensors: index.tensors };
}

export function dumpBytes(dump: ModelDump, tensor: DumpedTensor): Uint8Array {
  const data = readFileSync(resolve(dump.dir, tensor.file));
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Signed element values of raw little-endian tensor bytes, for readable assertion output. */
export function elementValues(bytes: Uint8Array, type: string): number[] {
  const copy = bytes.slice();
  if (type === "int16") return Array.from(new Int16Array(copy.buffer, 0, copy.byteLength >> 1));
  if (type === "int32") return Array.from(new Int32Array(copy.buffer, 0, copy.byteLength >> 2));
  if (type === "uint8") return Array.from(copy);
  return Array.from(new Int8Array(copy.buffer));
}
