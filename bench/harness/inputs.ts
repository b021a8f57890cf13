// Deterministic input data for benchmarks. The kernels' run time does not
// depend on the values, but both kernel sets must see the same inputs so that
// their outputs can be compared.

import { BenchInterpreter } from "./types.js";

/**
 * Fills every input tensor with the same pseudo-random sequence on every
 * call: a 32-bit linear congruential generator (multiplier 1664525, increment
 * 1013904223) supplies raw bytes, and float32 tensors get values in [-1, 1)
 * instead, because random bytes can spell NaN or infinity.
 */
export function fillInputs(interpreter: BenchInterpreter): void {
  let state = 0x2545f491;
  for (const input of interpreter.inputs) {
    if (input.type === "float32") {
      const data = input.data;
      for (let i = 0; i < data.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) | 0;
        data[i] = state / 0x80000000;
      }
    } else {
      const bytes = input.bytes;
      for (let i = 0; i < bytes.length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) | 0;
        bytes[i] = state >>> 24;
      }
    }
  }
}
