// An independent transcription of TFLM's integer LSTM (tflite-micro commit
// 90b983c2: micro/kernels/lstm_eval.h, lstm_eval.cc, lstm_eval_common.cc,
// kernels/internal/reference/integer_ops/{fully_connected,mul,logistic,tanh}.h)
// for the LSTM tests. Integer steps use BigInt with explicit C integer
// semantics (int32 wrapping, uint32 arithmetic, truncating division), and
// the loops follow TFLM's structure: all batches of a time step at once for
// time-major input, batch by batch otherwise. Nothing here comes from the
// kernel under test.

/** TFLM's sigmoid_table_uint16 (kernels/internal/common.h), 256 entries. */
export const TFLM_SIGMOID_TABLE: readonly number[] = [
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
];

// Wrapping by remainder rather than BigInt.asUintN / asIntN: Node 20.20.2's
// optimizing compiler aborts the process (RepresentationChangerError) on
// asUintN inside these loops.
const TWO_TO_32 = 1n << 32n;
const TWO_TO_31 = 1n << 31n;
function uint32(x: bigint): bigint {
  const r = x % TWO_TO_32;
  return r < 0n ? r + TWO_TO_32 : r;
}
function int32(x: bigint): bigint {
  const r = uint32(x);
  return r >= TWO_TO_31 ? r - TWO_TO_32 : r;
}
function int16(x: bigint): bigint {
  const r = x % 65536n;
  const u = r < 0n ? r + 65536n : r;
  return u >= 32768n ? u - 65536n : u;
}
function clamp(x: bigint, min: bigint, max: bigint): bigint {
  if (x < min) return min;
  if (x > max) return max;
  return x;
}

/** C's int32 abs, with abs(INT32_MIN) = INT32_MIN. */
function abs32(x: bigint): bigint {
  return int32(x < 0n ? -x : x);
}

/** Scales an int16 input in int32 as Logistic and Tanh for int16 data both do. */
function scaledInput(input: number, inputMultiplier: number, inputLeftShift: number): bigint {
  let multiplier = BigInt(inputMultiplier);
  let shift = BigInt(inputLeftShift);
  if (multiplier === 0n) {
    multiplier = int32(3n << shift);
    shift = 0n;
  }
  const round = shift > 0n ? 1n << (shift - 1n) : 0n;
  return int32(int32(BigInt(input) * multiplier) + round) >> shift;
}

/** reference_integer_ops::Logistic for int16 data. */
export function referenceLogisticInt16(input: number, inputMultiplier: number, inputLeftShift: number): number {
  const inputData = scaledInput(input, inputMultiplier, inputLeftShift);
  const absInput = uint32(abs32(inputData));
  const uh = absInput >> 9n;
  let result: bigint;
  if (uh >= 255n) {
    result = 0x7fffn << 10n;
  } else {
    const ua = BigInt(TFLM_SIGMOID_TABLE[Number(uh)]);
    const ub = BigInt(TFLM_SIGMOID_TABLE[Number(uh) + 1]);
    const ut = absInput & 0x1ffn;
    result = uint32((ua << 9n) + uint32(ut * uint32(ub - ua)));
  }
  result = inputData >= 0n ? uint32(result + (1n << 9n)) : uint32((1n << 25n) - result + (1n << 9n) - 1n);
  result >>= 10n;
  return Number(int16(result));
}

/** reference_integer_ops::Tanh for int16 data. */
export function referenceTanhInt16(input: number, inputMultiplier: number, inputLeftShift: number): number {
  const inputData = scaledInput(input, inputMultiplier, inputLeftShift);
  const absInput = uint32(abs32(inputData));
  const uh = absInput >> 8n;
  let result: bigint;
  if (uh >= 255n) {
    result = int32(0xffffn << 8n);
  } else {
    const ua = BigInt(TFLM_SIGMOID_TABLE[Number(uh)]);
    const ub = BigInt(TFLM_SIGMOID_TABLE[Number(uh) + 1]);
    const ut = absInput & 0xffn;
    result = int32(uint32((ua << 8n) + ut * uint32(ub - ua)));
  }
  result = inputData >= 0n ? int32(result - (1n << 23n) + (1n << 7n)) : int32(-result + (1n << 23n) + (1n << 7n) - 1n);
  result >>= 8n;
  return Number(int16(result));
}

/** lstm_internal::Tanh's input scaling of a cell state with scale 2^power: [multiplier, left shift]. */
export function referenceCellTanhParameters(power: number): [number, number] {
  let leftShift = 15 + power - 3;
  let multiplier = 0;
  if (leftShift < 0) {
    leftShift = -leftShift;
    multiplier = 3;
  }
  return [multiplier, leftShift];
}

// gemmlowp and TFLM requantization.

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function saturatingRoundingDoublingHighMul(a: bigint, b: bigint): bigint {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = a * b;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  // BigInt division truncates toward zero, as C's int64 division does.
  return (ab + nudge) / (1n << 31n);
}

function roundingDivideByPot(x: bigint, exponent: bigint): bigint {
  const mask = (1n << exponent) - 1n;
  const remainder = x & mask;
  const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
  return (x >> exponent) + (remainder > threshold ? 1n : 0n);
}

/** TFLM's double-rounding MultiplyByQuantizedMultiplier for an int32 x. */
export function referenceMultiplyByQuantizedMultiplier(x: bigint, multiplier: number, shift: number): bigint {
  const leftShift = shift > 0 ? BigInt(shift) : 0n;
  const rightShift = shift > 0 ? 0n : BigInt(-shift);
  return roundingDivideByPot(saturatingRoundingDoublingHighMul(int32(x * (1n << leftShift)), BigInt(multiplier)), rightShift);
}

/** TFLM's QuantizeMultiplier: [Q31 multiplier, shift]. */
export function referenceQuantizeMultiplier(real: number): [number, number] {
  if (real === 0) return [0, 0];
  // frexp: real = fraction * 2^exponent with fraction in [0.5, 1).
  let exponent = Math.ceil(Math.log2(real));
  if (real / 2 ** exponent >= 1) exponent++;
  if (real / 2 ** exponent < 0.5) exponent--;
  const fraction = real / 2 ** exponent;
  let q = Math.round(fraction * 2 ** 31); // positive, so Math.round rounds halves away from zero
  if (q === 2 ** 31) {
    q /= 2;
    exponent++;
  }
  if (exponent < -31) return [0, 0];
  return [q, exponent];
}

// The LSTM.

/** Everything the reference LSTM needs, in plain numbers. */
export interface ReferenceLstm {
  timeMajor: boolean;
  batches: number;
  timeSteps: number;
  inputDepth: number;
  units: number;
  inputScale: number;
  inputZeroPoint: number;
  hiddenScale: number;
  hiddenZeroPoint: number;
  cellScale: number;
  cellClip: number;
  /** Per gate in the order input, forget, cell, output: [units * inputDepth] weights. */
  inputWeights: Int8Array[];
  inputWeightScales: number[];
  /** Per gate: [units * units] weights. */
  recurrentWeights: Int8Array[];
  recurrentWeightScales: number[];
  /** Per gate: [units] int32 biases. */
  biases: Int32Array[];
}

interface FullyConnectedParameters {
  inputOffset: bigint;
  multiplier: number;
  shift: number;
}

function fullyConnected(
  params: FullyConnectedParameters,
  input: ArrayLike<number>,
  inputOffsetInData: number,
  batches: number,
  depth: number,
  weights: Int8Array,
  bias: Int32Array | null,
  units: number,
  output: Int16Array,
): void {
  for (let b = 0; b < batches; b++) {
    for (let c = 0; c < units; c++) {
      let acc = 0n;
      for (let d = 0; d < depth; d++) {
        acc += BigInt(weights[c * depth + d]) * (BigInt(input[inputOffsetInData + b * depth + d]) + params.inputOffset);
        acc = int32(acc);
      }
      if (bias !== null) acc = int32(acc + BigInt(bias[c]));
      const scaled = referenceMultiplyByQuantizedMultiplier(acc, params.multiplier, params.shift);
      output[c + units * b] = Number(clamp(scaled, -32768n, 32767n));
    }
  }
}

function mulElementwise(
  size: number,
  multiplier: number,
  shift: number,
  outputOffset: number,
  min: number,
  max: number,
  a: ArrayLike<number>,
  aOffset: number,
  b: ArrayLike<number>,
  bOffset: number,
  output: Int16Array | Int8Array,
  outputOffsetInData: number,
): void {
  for (let i = 0; i < size; i++) {
    const product = BigInt(a[aOffset + i]) * BigInt(b[bOffset + i]);
    const result = BigInt(outputOffset) + referenceMultiplyByQuantizedMultiplier(product, multiplier, shift);
    output[outputOffsetInData + i] = Number(clamp(result, BigInt(min), BigInt(max)));
  }
}

/**
 * Runs one invoke of TFLM's LSTM over `input`, updating `hidden` and `cell`
 * in place, and returns the output. Gates are in the order input, forget,
 * cell, output.
 */
export function referenceLstm(lstm: ReferenceLstm, input: Int8Array, hidden: Int8Array, cell: Int16Array): Int8Array {
  const { batches, timeSteps, inputDepth, units, timeMajor } = lstm;
  const output = new Int8Array(batches * timeSteps * units);
  const gateInputScale = 2 ** -12;
  const gateOutputScale = 2 ** -15;

  const fcParams = (activationScale: number, activationZeroPoint: number, weightScale: number): FullyConnectedParameters => {
    const [multiplier, shift] = referenceQuantizeMultiplier(Math.fround(activationScale * weightScale) / gateInputScale);
    return { inputOffset: BigInt(-activationZeroPoint), multiplier, shift };
  };
  const inputParams = lstm.inputWeightScales.map((s) => fcParams(lstm.inputScale, lstm.inputZeroPoint, s));
  const recurrentParams = lstm.recurrentWeightScales.map((s) => fcParams(lstm.hiddenScale, lstm.hiddenZeroPoint, s));
  const [forgetMulM, forgetMulS] = referenceQuantizeMultiplier((gateOutputScale * lstm.cellScale) / lstm.cellScale);
  const [inputMulM, inputMulS] = referenceQuantizeMultiplier((gateOutputScale * gateOutputScale) / lstm.cellScale);
  const [outputMulM, outputMulS] = referenceQuantizeMultiplier((gateOutputScale * gateOutputScale) / lstm.hiddenScale);
  const cellPower = Math.round(Math.log2(lstm.cellScale));
  const [tanhMultiplier, tanhShift] = referenceCellTanhParameters(cellPower);
  const quantizedClip = Math.trunc(Math.min(Math.max(lstm.cellClip / lstm.cellScale, -32768), 32767));

  // One LstmStep over `stepBatches` rows.
  const step = (stepBatches: number, inputOffset: number, outputOffset: number, stateOffset: number): void => {
    const n = stepBatches * units;
    const gates = [0, 1, 2, 3].map(() => new Int16Array(n));
    const recurrentBuffer = new Int16Array(n);
    for (let g = 0; g < 4; g++) {
      fullyConnected(inputParams[g], input, inputOffset, stepBatches, inputDepth, lstm.inputWeights[g], lstm.biases[g], units, gates[g]);
      fullyConnected(recurrentParams[g], hidden, stateOffset, stepBatches, units, lstm.recurrentWeights[g], null, units, recurrentBuffer);
      for (let i = 0; i < n; i++) gates[g][i] = Math.min(32767, Math.max(-32768, gates[g][i] + recurrentBuffer[i]));
      for (let i = 0; i < n; i++) {
        gates[g][i] = g === 2 ? referenceTanhInt16(gates[g][i], 0, 0) : referenceLogisticInt16(gates[g][i], 0, 0);
      }
    }
    const [inputGate, forgetGate, cellGate, outputGate] = gates;

    mulElementwise(n, forgetMulM, forgetMulS, 0, -32768, 32767, forgetGate, 0, cell, stateOffset, cell, stateOffset);
    const added = new Int16Array(n);
    mulElementwise(n, inputMulM, inputMulS, 0, -32768, 32767, inputGate, 0, cellGate, 0, added, 0);
    for (let i = 0; i < n; i++) cell[stateOffset + i] = Math.min(32767, Math.max(-32768, cell[stateOffset + i] + added[i]));
    if (lstm.cellClip > 0) {
      for (let i = 0; i < n; i++) cell[stateOffset + i] = Math.max(Math.min(quantizedClip, cell[stateOffset + i]), -quantizedClip);
    }

    const tanhCell = new Int16Array(n);
    for (let i = 0; i < n; i++) tanhCell[i] = referenceTanhInt16(cell[stateOffset + i], tanhMultiplier, tanhShift);
    mulElementwise(n, outputMulM, outputMulS, lstm.hiddenZeroPoint, -128, 127, tanhCell, 0, outputGate, 0, hidden, stateOffset);
    for (let i = 0; i < n; i++) output[outputOffset + i] = hidden[stateOffset + i];
  };

  if (timeMajor) {
    for (let t = 0; t < timeSteps; t++) step(batches, t * batches * inputDepth, t * batches * units, 0);
  } else {
    for (let b = 0; b < batches; b++) {
      for (let t = 0; t < timeSteps; t++) step(1, (b * timeSteps + t) * inputDepth, (b * timeSteps + t) * units, b * units);
    }
  }
  return output;
}
