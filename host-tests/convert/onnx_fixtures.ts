// Fixture access and small helpers for the converter tests: the quantized
// digits CNN exported by torch.onnx (PyTorch 1.13), the ONNX backend node
// tests as JSON (onnx 1.12 test data), and NCHW/NHWC reordering of test data.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { FIXTURES } from "../fixtures.js";

export const DIGITS = resolve(FIXTURES, "pytorch", "digits");
export const ONNX_NODE_TESTS = resolve(FIXTURES, "onnx");

/** The digits variants and the requantization scheme of the engine that produced each one's integers. */
export const DIGITS_VARIANTS: ReadonlyArray<{ variant: string; scheme: string }> = [
  { variant: "qnnpack-qnnpack", scheme: "pytorch-qnnpack" },
  { variant: "onednn-onednn", scheme: "pytorch-onednn" },
  { variant: "onednn-fbgemm", scheme: "pytorch-onednn" },
];

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function readBytes(path: string): Uint8Array {
  const data = readFileSync(path);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface QuantizedJson {
  shape: number[];
  scale?: number;
  scale_f32_hex?: string;
  scales?: number[];
  scales_f32_hex?: string[];
  zero_point?: number;
  zero_points?: number[];
  qscheme?: string;
  axis?: number;
  values: number[];
}

export interface DigitsLayer {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  weight?: QuantizedJson;
  bias?: { values: number[]; hex: string[] };
  output_qparams?: { scale: number; scale_f32_hex: string; zero_point: number };
}

export interface DigitsModel {
  graph: DigitsLayer[];
}

export interface DigitsTest {
  labels: number[];
  pixels: { values: number[] };
  input_quantized: QuantizedJson;
  logits_quantized: QuantizedJson;
  /** Argmax of each image's int logits (the first maximum). */
  predictions: number[];
  layer_outputs_first_k: { k: number } & Record<string, QuantizedJson>;
}

export function digitsModel(variant: string): DigitsModel {
  return readJson(resolve(DIGITS, `${variant}__model.json`));
}

export function digitsTest(variant: string): DigitsTest {
  return readJson(resolve(DIGITS, `${variant}__test.json`));
}

/** float32 value of an IEEE-754 bit pattern such as "0x3b807070". */
export function float32FromHex(hex: string): number {
  return new Float32Array(Uint32Array.of(Number.parseInt(hex, 16)).buffer)[0];
}

/** Reorders row-major NCHW values to NHWC. */
export function nchwToNhwc(values: ArrayLike<number>, shape: readonly number[]): number[] {
  const [n, c, h, w] = shape;
  const output: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let channel = 0; channel < c; channel++) output.push(values[((b * c + channel) * h + y) * w + x]);
      }
    }
  }
  return output;
}

/** Reorders row-major NHWC values to NCHW; `shape` is the NCHW shape. */
export function nhwcToNchw(values: ArrayLike<number>, shape: readonly number[]): number[] {
  const [n, c, h, w] = shape;
  const output: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let channel = 0; channel < c; channel++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) output.push(values[((b * h + y) * w + x) * c + channel]);
      }
    }
  }
  return output;
}
