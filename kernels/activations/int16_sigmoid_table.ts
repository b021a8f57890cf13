// TFLM's int16 logistic and tanh (reference_integer_ops in
// kernels/internal/reference/integer_ops/logistic.h and tanh.h at TFLM
// 90b983c2): the input is rescaled to units of 3 * 2^-12, and the result is
// interpolated linearly between the 256 entries of a sigmoid table in Q16,
// with tanh(x) = 2 * sigmoid(2x) - 1. The LOGISTIC and TANH kernels and the
// LSTM gates share these functions.

import { roundHalfAwayFromZero } from "../../runtime/quantize_multiplier.js";

const imul = Math.imul;

/**
 * sigmoid(k / 24) in Q16 for k in [0, 255], within 1 of the rounded value
 * and capped at 65535: TFLM's sigmoid_table_uint16 (kernels/internal/common.h),
 * copied value for value. With the input in
 * units of 3 * 2^-12, one table step is 2^9 of those units for LOGISTIC and
 * 2^8 for TANH, whose argument is doubled.
 */
export const SIGMOID_TABLE_Q16 = new Uint16Array([
  32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
  43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
  51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
  57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
  61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
  63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
  64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
  64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
  65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
  65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
  65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
  65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
  65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
  65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
  65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
  65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
]);

/**
 * The rescale of an int16 input to units of 3 * 2^-12:
 * (x * multiplier + 2^(rightShift - 1)) >> rightShift.
 */
export interface Int16InputRescale {
  /**
   * Positive. LOGISTIC and TANH keep it in [1, 32767]; the LSTM's cell state
   * tanh uses up to 3 << 14, and keeps multiplier * 32768 inside int32.
   */
  readonly multiplier: number;
  /** In [0, 31]. TFLM calls it input_left_shift, but applies it as a right shift. */
  readonly rightShift: number;
}

/**
 * Returns log2(x) rounded half away from zero and whether x is a power of two
 * within a relative log2 error of 1e-3, as TFLM's CheckedLog2 computes both
 * in float32.
 */
export function checkedLog2(x: number): { log2: number; isPowerOfTwo: boolean } {
  const inverseLn2 = Math.fround(1 / Math.fround(Math.log(2)));
  const xLog2 = Math.fround(Math.fround(Math.log(x)) * inverseLn2);
  const rounded = roundHalfAwayFromZero(xLog2);
  const fraction = Math.fround(xLog2 - rounded);
  return { log2: rounded, isPowerOfTwo: Math.abs(fraction) < Math.fround(1e-3) };
}

/**
 * Derives the int16 input rescale as TFLM's LOGISTIC and TANH prepare do.
 * An input scale within 1e-3 (in log2) of 2^(log2 - 12) for one of
 * `powerOfTwoShifts` uses the exact multiplier 3 << shift. Any other scale
 * becomes scale * 3 * 2^12 * 2^k, truncated to an integer, with k the
 * smallest shift that brings it above 32767 / 2 (at most 31). Returns null
 * when the multiplier would exceed 32767, which TFLM's debug build rejects,
 * or truncate to 0, which TFLM would mistake for the power-of-two case.
 */
export function int16InputRescale(inputScale: number, powerOfTwoShifts: readonly number[]): Int16InputRescale | null {
  const { log2, isPowerOfTwo } = checkedLog2(inputScale);
  const powerOfTwoShift = 12 + log2;
  if (isPowerOfTwo && powerOfTwoShifts.includes(powerOfTwoShift)) {
    return { multiplier: 3 << powerOfTwoShift, rightShift: 0 };
  }

  let multiplier = inputScale * 4096 * 3;
  let rightShift = 0;
  while (multiplier <= 32767 / 2 && rightShift <= 30) {
    rightShift++;
    multiplier *= 2;
  }
  const truncated = Math.trunc(multiplier);
  return truncated < 1 || truncated > 32767 ? null : { multiplier: truncated, rightShift };
}

/**
 * Rescales an int16 input to units of 3 * 2^-12, rounding half up; imul
 * wraps as TFLM's int32 product does.
 */
function rescaleInput(x: number, multiplier: number, rightShift: number): number {
  const rounding = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  return (imul(x, multiplier) + rounding) >> rightShift;
}

/**
 * Returns TFLM's int16 logistic of one int16 input: sigmoid in Q15 (scale
 * 2^-15), in [1, 32767]. The LSTM gates call it with multiplier 3 and
 * rightShift 0, for inputs in units of 2^-12.
 */
export function logisticInt16(input: number, multiplier: number, rightShift: number): number {
  const x = rescaleInput(input, multiplier, rightShift);
  // |x| as unsigned: >>> keeps the one value whose magnitude is 2^31.
  const magnitude = (x < 0 ? -x : x) >>> 0;

  // sigmoid(|x|) in Q25: the table entry at |x| >> 9, plus the slope times
  // the low 9 bits. Table entries grow monotonically, so the slope is never
  // negative, and the sum stays below 2^25.
  const step = magnitude >>> 9;
  let sigmoidQ25: number;
  if (step >= 255) {
    sigmoidQ25 = 0x7fff << 10;
  } else {
    const low = SIGMOID_TABLE_Q16[step];
    sigmoidQ25 = (low << 9) + (magnitude & 0x1ff) * (SIGMOID_TABLE_Q16[step + 1] - low);
  }

  // sigmoid(-t) = 1 - sigmoid(t). Both branches round to Q15, the negative
  // one with ties toward zero as TFLM's unsigned arithmetic does.
  const rounded = x >= 0 ? sigmoidQ25 + (1 << 9) : (1 << 25) - sigmoidQ25 + (1 << 9) - 1;
  return rounded >> 10;
}

/**
 * Returns TFLM's int16 tanh of one int16 input: tanh in Q15 (scale 2^-15),
 * in [-32767, 32767]. The LSTM calls it with multiplier 3 and rightShift 0
 * for the cell gate (inputs in units of 2^-12), and with the scaling of
 * cellStateTanhScaling for the cell state.
 */
export function tanhInt16(input: number, multiplier: number, rightShift: number): number {
  const x = rescaleInput(input, multiplier, rightShift);
  const magnitude = (x < 0 ? -x : x) >>> 0;

  // sigmoid(2|x|) in Q24, from table steps of 2^8 input units; below 2^24.
  const step = magnitude >>> 8;
  let sigmoidQ24: number;
  if (step >= 255) {
    sigmoidQ24 = 0xffff << 8;
  } else {
    const low = SIGMOID_TABLE_Q16[step];
    sigmoidQ24 = (low << 8) + (magnitude & 0xff) * (SIGMOID_TABLE_Q16[step + 1] - low);
  }

  // tanh(t) = 2 * sigmoid(2t) - 1: subtract 1/2 in Q24, then shift to Q15
  // with the arithmetic shift of a signed int32, which floors negative values.
  const shifted = x >= 0 ? sigmoidQ24 - (1 << 23) + (1 << 7) : -sigmoidQ24 + (1 << 23) + (1 << 7) - 1;
  return shifted >> 8;
}

// The loops below repeat logisticInt16 and tanhInt16 inline, because a call
// per element costs more than the arithmetic. On 4096 int16 elements,
// `microq bench --engine xs` measured 376 k XS meter units for the inline
// LOGISTIC loop and 643 k for a loop that calls logisticInt16. With
// multiplier at most 32767, x * multiplier stays below 2^30 in magnitude, so
// the loops need neither imul nor an unsigned magnitude.

/** Applies TFLM's int16 logistic to every element: output in Q15 (scale 2^-15, zero point 0). */
export function applyLogisticInt16(input: Int16Array, output: Int16Array, rescale: Int16InputRescale): void {
  const table = SIGMOID_TABLE_Q16;
  const multiplier = rescale.multiplier;
  const rightShift = rescale.rightShift;
  const rounding = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  const n = input.length;
  for (let i = 0; i < n; i++) {
    const x = (input[i] * multiplier + rounding) >> rightShift;
    const magnitude = x < 0 ? -x : x;

    // sigmoid(|x|) in Q25: the table entry at |x| >> 9, plus the slope times
    // the low 9 bits. Every term is below 2^26.
    const step = magnitude >> 9;
    let sigmoidQ25: number;
    if (step >= 255) {
      sigmoidQ25 = 0x7fff << 10;
    } else {
      const low = table[step];
      sigmoidQ25 = (low << 9) + (magnitude & 0x1ff) * (table[step + 1] - low);
    }

    // sigmoid(-t) = 1 - sigmoid(t). Both branches round to Q15, the negative
    // one with ties toward zero as TFLM's unsigned arithmetic does.
    const rounded = x >= 0 ? sigmoidQ25 + (1 << 9) : (1 << 25) - sigmoidQ25 + (1 << 9) - 1;
    output[i] = rounded >> 10;
  }
}

/** Applies TFLM's int16 tanh to every element: output in Q15 (scale 2^-15, zero point 0). */
export function applyTanhInt16(input: Int16Array, output: Int16Array, rescale: Int16InputRescale): void {
  const table = SIGMOID_TABLE_Q16;
  const multiplier = rescale.multiplier;
  const rightShift = rescale.rightShift;
  const rounding = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  const n = input.length;
  for (let i = 0; i < n; i++) {
    const x = (input[i] * multiplier + rounding) >> rightShift;
    const magnitude = x < 0 ? -x : x;

    // sigmoid(2|x|) in Q24, from table steps of 2^8 input units.
    const step = magnitude >> 8;
    let sigmoidQ24: number;
    if (step >= 255) {
      sigmoidQ24 = 0xffff << 8;
    } else {
      const low = table[step];
      sigmoidQ24 = (low << 8) + (magnitude & 0xff) * (table[step + 1] - low);
    }

    // tanh(t) = 2 * sigmoid(2t) - 1: subtract 1/2 in Q24, then shift to Q15
    // with the arithmetic shift of a signed int32.
    const shifted = x >= 0 ? sigmoidQ24 - (1 << 23) + (1 << 7) : -sigmoidQ24 + (1 << 23) + (1 << 7) - 1;
    output[i] = shifted >> 8;
  }
}
