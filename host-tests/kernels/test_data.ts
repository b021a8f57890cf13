// Seeded random numbers and typed conversions of tensor values, shared by
// the kernel tests that build single-operator models.

import { TensorTypeName } from "../../tools/tflite/writer.js";

/** Marsaglia's xorshift32 generator: small, deterministic and good enough for test data. */
export class Xorshift32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }

  /** Uniform integer in [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  int8Array(length: number, min = -128, max = 127): Int8Array {
    return Int8Array.from({ length }, () => this.integer(min, max));
  }
}

/** Seeded xorshift32 integers in [min, max], so failures reproduce. */
export function randomIntegers(count: number, min: number, max: number, seed: number): number[] {
  let state = seed | 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values.push(min + ((state >>> 0) % (max - min + 1)));
  }
  return values;
}

/** Range of an integer tensor type, both bounds included. */
export function typeRange(type: TensorTypeName): [number, number] {
  if (type === "uint8") return [0, 255];
  if (type === "int8") return [-128, 127];
  if (type === "int16") return [-32768, 32767];
  if (type === "int32") return [-0x80000000, 0x7fffffff];
  throw new Error(`no integer range for ${type}`);
}

/** Returns the values stored as `type`, in a typed array of that element type. */
export function typedArrayOf(type: TensorTypeName, values: readonly number[]): Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array {
  switch (type) {
    case "uint8":
      return Uint8Array.from(values);
    case "int8":
      return Int8Array.from(values);
    case "int16":
      return Int16Array.from(values);
    case "int32":
      return Int32Array.from(values);
    case "float32":
      return Float32Array.from(values);
    default:
      throw new Error(`no typed array for ${type}`);
  }
}

/** Little-endian bytes of `values` stored as `type`. */
export function bytesOf(type: TensorTypeName, values: readonly number[]): Uint8Array {
  return new Uint8Array(typedArrayOf(type, values).buffer);
}
