// int16 logistic and tanh as TFLM's reference integer kernels compute them
// (reference_integer_ops::Logistic and Tanh for int16, tflite-micro commit
// 90b983c2): a 256-entry table of the sigmoid with linear interpolation
// between entries, using tanh(x) = 2 * sigmoid(2x) - 1. The LSTM kernel
// calls them once per gate element.
//
// Both functions first scale the input: scaled = (input * multiplier +
// round) >> rightShift, with round half of the last shifted-out bit. With
// the power-of-two scaling the LSTM uses, the multiplier is 3 and the table
// step is 2^9 (logistic) or 2^8 (tanh) scaled units, so the table spans
// inputs of magnitude up to about 10.7 in real units in either case.

const imul = Math.imul;

/**
 * 2^16 * sigmoid(i / 24) for i in [0, 255], the last entry capped at 65535:
 * TFLM's sigmoid_table_uint16 (kernels/internal/common.h). Entries differ
 * from the rounded formula by up to 1, so they are stored, not computed.
 */
const SIGMOID_TABLE_UINT16 = new Uint16Array([
  32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498,
  40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255,
  46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865,
  52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174,
  56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288,
  59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441,
  61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886,
  62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835,
  63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450,
  64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
  64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097,
  65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
  65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
  65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
  65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
  65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
  65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508,
  65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518,
  65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525,
  65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
  65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531,
  65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533,
  65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
  65534, 65534, 65535,
]);

/** Index of the last table interval; a scaled input at or beyond its end saturates. */
const LAST_TABLE_INDEX = 255;

/** The input scaling of the int16 logistic and tanh: scaled = (input * multiplier + round) >> rightShift. */
export interface Int16ActivationScaling {
  readonly multiplier: number;
  /** TFLM calls this input_left_shift, but applies it as a right shift. */
  readonly rightShift: number;
}

/**
 * Resolves TFLM's (input_multiplier, input_left_shift) pair: a multiplier
 * of 0 marks a power-of-two input scale, which becomes multiplier
 * 3 << input_left_shift with no shift. The caller keeps multiplier * 32768
 * inside int32.
 */
export function int16ActivationScaling(inputMultiplier: number, inputLeftShift: number): Int16ActivationScaling {
  if (inputMultiplier === 0) return { multiplier: 3 << inputLeftShift, rightShift: 0 };
  return { multiplier: inputMultiplier, rightShift: inputLeftShift };
}

/** Scales an int16 input as both activations do; imul wraps as TFLM's int32 product does. */
function scaleInput(input: number, multiplier: number, rightShift: number): number {
  const round = rightShift > 0 ? 1 << (rightShift - 1) : 0;
  return (imul(input, multiplier) + round) >> rightShift;
}

/**
 * Returns the int16 logistic of an int16 input: the output is sigmoid in
 * units of 2^-15, in [1, 32767]. TFLM's LSTM gates call it with multiplier 3
 * and rightShift 0, for inputs in units of 2^-12.
 */
export function logisticInt16(input: number, multiplier: number, rightShift: number): number {
  const scaled = scaleInput(input, multiplier, rightShift);
  // |scaled| as unsigned: >>> keeps the one value whose magnitude is 2^31.
  const magnitude = (scaled < 0 ? -scaled : scaled) >>> 0;
  const index = magnitude >>> 9;

  // sigmoid(|x|) in units of 2^-25. Table entries grow monotonically, so
  // the interpolation step is never negative, and the sum stays below 2^25.
  let result: number;
  if (index >= LAST_TABLE_INDEX) {
    result = 0x7fff << 10;
  } else {
    const low = SIGMOID_TABLE_UINT16[index];
    const high = SIGMOID_TABLE_UINT16[index + 1];
    result = (low << 9) + (magnitude & 0x1ff) * (high - low);
  }

  // sigmoid(-x) = 1 - sigmoid(x); both branches round the 2^-25 units to 2^-15.
  result = scaled >= 0 ? result + (1 << 9) : (1 << 25) - result + (1 << 9) - 1;
  return result >> 10;
}

/**
 * Returns the int16 tanh of an int16 input: the output is tanh in units of
 * 2^-15, in [-32767, 32767]. TFLM's LSTM calls it with multiplier 3 and
 * rightShift 0 for the cell gate (inputs in units of 2^-12), and with the
 * scaling of cellStateTanhScaling for the cell state.
 */
export function tanhInt16(input: number, multiplier: number, rightShift: number): number {
  const scaled = scaleInput(input, multiplier, rightShift);
  const magnitude = (scaled < 0 ? -scaled : scaled) >>> 0;
  const index = magnitude >>> 8;

  // sigmoid(2|x|) in units of 2^-24, below 2^24.
  let result: number;
  if (index >= LAST_TABLE_INDEX) {
    result = 0xffff << 8;
  } else {
    const low = SIGMOID_TABLE_UINT16[index];
    const high = SIGMOID_TABLE_UINT16[index + 1];
    result = (low << 8) + (magnitude & 0xff) * (high - low);
  }

  // tanh = 2 * sigmoid(2x) - 1: subtract 1/2 in 2^-24 units, then round to
  // 2^-15 units. The arithmetic shift floors negative values.
  result = scaled >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
  return result >> 8;
}

/**
 * Scaling of the int16 tanh of the cell state, whose scale is
 * 2^cellStateScalePower: TFLM's lstm_internal::Tanh, which moves the input
 * to units of 2^-12 before the factor 3. Powers above 2 make
 * multiplier * 32768 overflow int32, and powers below -43 shift by more than
 * 31 bits; the caller rejects both.
 */
export function cellStateTanhScaling(cellStateScalePower: number): Int16ActivationScaling {
  const leftShift = 15 + cellStateScalePower - 3;
  if (leftShift < 0) return int16ActivationScaling(3, -leftShift);
  return int16ActivationScaling(0, leftShift);
}
