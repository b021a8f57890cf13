// The input scalings of the int16 logistic and tanh the LSTM kernel calls
// once per gate element (TFLM 90b983c2's lstm_eval). The activations
// themselves are those of the LOGISTIC and TANH kernels, in
// kernels/activations/int16_sigmoid_table.ts. With the power-of-two scaling
// the LSTM uses, the multiplier is 3 and the table step is 2^9 (logistic) or
// 2^8 (tanh) scaled units, so the table spans inputs of magnitude up to
// about 10.7 in real units in either case.

import { Int16InputRescale } from "../activations/int16_sigmoid_table.js";

/**
 * Resolves TFLM's (input_multiplier, input_left_shift) pair: a multiplier
 * of 0 marks a power-of-two input scale, which becomes multiplier
 * 3 << input_left_shift with no shift. The caller keeps multiplier * 32768
 * inside int32.
 */
export function int16ActivationScaling(inputMultiplier: number, inputLeftShift: number): Int16InputRescale {
  if (inputMultiplier === 0) return { multiplier: 3 << inputLeftShift, rightShift: 0 };
  return { multiplier: inputMultiplier, rightShift: inputLeftShift };
}

/**
 * Scaling of the int16 tanh of the cell state, whose scale is
 * 2^cellStateScalePower: TFLM's lstm_internal::Tanh, which moves the input
 * to units of 2^-12 before the factor 3. Powers above 2 make
 * multiplier * 32768 overflow int32, and powers below -43 shift by more than
 * 31 bits; the caller rejects both.
 */
export function cellStateTanhScaling(cellStateScalePower: number): Int16InputRescale {
  const leftShift = 15 + cellStateScalePower - 3;
  if (leftShift < 0) return int16ActivationScaling(3, -leftShift);
  return int16ActivationScaling(0, leftShift);
}
