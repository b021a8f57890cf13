// Independent transcriptions of TFLM 90b983c2's activation arithmetic for the
// activation kernel tests: gemmlowp's fixed point (fixedpoint/fixedpoint.h at
// commit 719139ce) with 64-bit products in BigInt, TFLM's QuantizeMultiplier
// and MultiplyByQuantizedMultiplier, and the per-element formulas of
// reference_integer_ops::Logistic/Tanh, ReluQuantized, QuantizeLeakyRelu and
// reference_ops::HardSwish. Shares no code with kernels/.

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Wraps to int32 as C++ int32 arithmetic does on the compilers TFLM targets. */
export function wrap32(x: bigint): number {
  return Number(BigInt.asIntN(32, x));
}

export function wrap16(x: number): number {
  return Number(BigInt.asIntN(16, BigInt(x)));
}

/** gemmlowp SaturatingRoundingDoublingHighMul on int32; BigInt division truncates as C's does. */
export function srdhm32(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n));
}

/** gemmlowp RoundingDivideByPOT on int32. */
export function rdbpot32(x: number, exponent: number): number {
  const mask = (1n << BigInt(exponent)) - 1n;
  const xb = BigInt(x);
  const remainder = xb & mask;
  const threshold = (mask >> 1n) + (xb < 0n ? 1n : 0n);
  return Number((xb >> BigInt(exponent)) + (remainder > threshold ? 1n : 0n));
}

/** gemmlowp SaturatingRoundingMultiplyByPOT<exponent> on int32. */
export function srmbpot32(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return rdbpot32(x, -exponent);
  const wide = BigInt(x) * (1n << BigInt(exponent));
  if (wide > BigInt(INT32_MAX)) return INT32_MAX;
  if (wide < BigInt(INT32_MIN)) return INT32_MIN;
  return Number(wide);
}

/** TFLM's double-rounding MultiplyByQuantizedMultiplier(int32, int32, int). */
export function mbqm(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbpot32(srdhm32(wrap32(BigInt(x) * (1n << BigInt(left))), multiplier), right);
}

/** C's frexp for x > 0 through the IEEE bits: x = fraction * 2^exponent, fraction in [0.5, 1). */
export function frexpBits(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  if (biased === 0) {
    const [f, e] = frexpBits(x * 2 ** 64);
    return [f, e - 64];
  }
  view.setUint16(0, (view.getUint16(0) & 0x800f) | (1022 << 4));
  return [view.getFloat64(0), biased - 1022];
}

/** C's std::round: half away from zero. */
export function cRound(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** TFLM's QuantizeMultiplier without single rounding (any sign). */
export function quantizeMultiplierRef(m: number): [number, number] {
  if (m === 0) return [0, 0];
  const [q, e] = m < 0 ? ((f) => [-f[0], f[1]] as [number, number])(frexpBits(-m)) : frexpBits(m);
  let fixed = cRound(q * 2 ** 31);
  let shift = e;
  if (fixed === 2 ** 31) {
    fixed /= 2;
    shift++;
  }
  if (shift < -31) return [0, 0];
  return [wrap32(BigInt(fixed)), shift];
}

// ---------------------------------------------------------------------------
// gemmlowp logistic and tanh on raw values with a given number of integer bits.

const ONE_Q0 = INT32_MAX;

function expOnIntervalQ0(a: number): number {
  const constantTerm = 1895147668;
  const oneThird = 715827883;
  const x = wrap32(BigInt(a) + (1n << 28n));
  const x2 = srdhm32(x, x);
  const x3 = srdhm32(x2, x);
  const x4 = srdhm32(x2, x2);
  const x4Over4 = srmbpot32(x4, -2);
  const inner = srmbpot32(wrap32(BigInt(srdhm32(wrap32(BigInt(x4Over4) + BigInt(x3)), oneThird)) + BigInt(x2)), -1);
  return wrap32(BigInt(constantTerm) + BigInt(srdhm32(constantTerm, wrap32(BigInt(x) + BigInt(inner)))));
}

/** exp_on_negative_values for a raw value with integerBits integer bits; result in Q0. */
export function expOnNegativeValuesRef(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = wrap32(BigInt(a & mask) - BigInt(oneQuarter));
  let result = expOnIntervalQ0(srmbpot32(aModQuarterMinusOneQuarter, integerBits));
  const remainder = wrap32(BigInt(aModQuarterMinusOneQuarter) - BigInt(a));
  const barrel: Array<[number, number]> = [
    [-2, 1672461947],
    [-1, 1302514674],
    [0, 790015084],
    [1, 290630308],
    [2, 39332535],
    [3, 720401],
    [4, 242],
  ];
  for (const [exponent, multiplier] of barrel) {
    if (integerBits > exponent) {
      const bit = BigInt(remainder) & (1n << BigInt(fractionalBits + exponent));
      if (bit !== 0n) result = srdhm32(result, multiplier);
    }
  }
  if (integerBits > 5 && a < -(2 ** (36 - integerBits))) result = 0;
  if (a === 0) result = ONE_Q0;
  return result;
}

function roundingHalfSumRef(a: number, b: number): number {
  const sum = BigInt(a) + BigInt(b);
  const sign = sum >= 0n ? 1n : -1n;
  return Number((sum + sign) / 2n);
}

/** Newton-Raphson estimate of 2 / (1 + a) in Q2, shared by both divisions. */
function newtonQ2(a: number): number {
  const halfDenominator = roundingHalfSumRef(a, ONE_Q0);
  let x = wrap32(1515870810n + BigInt(srdhm32(halfDenominator, -1010580540)));
  for (let i = 0; i < 3; i++) {
    const product = srdhm32(halfDenominator, x);
    const oneMinus = wrap32((1n << 29n) - BigInt(product));
    x = wrap32(BigInt(x) + BigInt(srmbpot32(srdhm32(x, oneMinus), 2)));
  }
  return x;
}

export function logisticRef(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const absInput = a > 0 ? a : wrap32(-BigInt(a));
  // one_over_one_plus_x: Rescale<0> of ExactMulByPot<-1>(x), that is Q1 to Q0.
  const positive = srmbpot32(newtonQ2(expOnNegativeValuesRef(wrap32(-BigInt(absInput)), integerBits)), 1);
  return a > 0 ? positive : wrap32(BigInt(ONE_Q0) - BigInt(positive));
}

export function tanhRef(a: number, integerBits: number): number {
  if (a === 0) return 0;
  const n = a < 0 ? a : wrap32(-BigInt(a));
  const exp = expOnNegativeValuesRef(n, integerBits + 1);
  const t = srmbpot32(wrap32(BigInt(newtonQ2(exp)) - (1n << 29n)), 2);
  return a < 0 ? wrap32(-BigInt(t)) : t;
}

// ---------------------------------------------------------------------------
// TFLM int8 LOGISTIC and TANH per element, from prepare's parameters.

export function int8LogisticOrTanhRef(value: number, inputScale: number, inputZeroPoint: number, isTanh: boolean): number {
  const realMultiplier = Math.fround(inputScale) * 2 ** 27;
  const [q, leftShift] = frexpBits(realMultiplier);
  const multiplier = cRound(q * 2 ** 31);
  const radius = Math.floor((15 * 2 ** 27) / 2 ** leftShift);
  const x = value - inputZeroPoint;
  if (x <= -radius) return -128;
  if (x >= radius) return 127;
  const q4 = mbqm(x, multiplier, leftShift);
  if (isTanh) return Math.min(127, Math.max(-128, rdbpot32(tanhRef(q4, 4), 24)));
  return Math.min(127, Math.max(-128, rdbpot32(logisticRef(q4, 4), 23) - 128));
}

// ---------------------------------------------------------------------------
// TFLM int16 LOGISTIC and TANH per element, given the sigmoid table.

export function int16RescaleRef(inputScale: number, isTanh: boolean): [number, number] {
  const scale = Math.fround(inputScale);
  const log2 = Math.fround(Math.fround(Math.log(scale)) * Math.fround(1 / Math.fround(Math.log(2))));
  const rounded = cRound(log2);
  const isPot = Math.abs(Math.fround(log2 - rounded)) < Math.fround(0.001);
  const potShift = 12 + rounded;
  if (isPot && (potShift === 0 || (isTanh && potShift === 1))) return [3 << potShift, 0];
  let multiplier = scale * 4096 * 3;
  let shift = 0;
  while (multiplier <= 32767 / 2 && shift <= 30) {
    shift++;
    multiplier *= 2;
  }
  return [Math.trunc(multiplier), shift];
}

export function int16LogisticRef(v: number, multiplier: number, shift: number, table: ArrayLike<number>): number {
  const round = shift > 0 ? 2 ** (shift - 1) : 0;
  const input = Math.floor((v * multiplier + round) / 2 ** shift);
  const abs = Math.abs(input);
  const uh = Math.floor(abs / 512);
  let result: number;
  if (uh >= 255) result = 0x7fff * 1024;
  else result = table[uh] * 512 + (abs % 512) * (table[uh + 1] - table[uh]);
  result = input >= 0 ? result + 512 : 2 ** 25 - result + 511;
  return wrap16(Math.floor(result / 1024));
}

export function int16TanhRef(v: number, multiplier: number, shift: number, table: ArrayLike<number>): number {
  const round = shift > 0 ? 2 ** (shift - 1) : 0;
  const input = Math.floor((v * multiplier + round) / 2 ** shift);
  const abs = Math.abs(input);
  const uh = Math.floor(abs / 256);
  let result: number;
  if (uh >= 255) result = 0xffff * 256;
  else result = table[uh] * 256 + (abs % 256) * (table[uh + 1] - table[uh]);
  result = input >= 0 ? result - 2 ** 23 + 128 : -result + 2 ** 23 + 127;
  return wrap16(Math.floor(result / 256));
}

// ---------------------------------------------------------------------------
// RELU, RELU6, LEAKY_RELU.

export function reluRef(v: number, inS: number, inZp: number, outS: number, outZp: number, min: number, max: number): number {
  const [m, shift] = quantizeMultiplierRef(Math.fround(Math.fround(inS) / Math.fround(outS)));
  const out = outZp + mbqm(v - inZp, m, shift);
  return Math.min(max, Math.max(Math.max(min, outZp), out));
}

export function relu6Ref(v: number, inS: number, inZp: number, min: number, max: number): number {
  const six = Math.min(max, Math.max(min, cRound(Math.fround(6 / Math.fround(inS))) + inZp));
  if (v > six) return six;
  if (v < inZp) return inZp;
  return v;
}

export function leakyReluRef(
  v: number,
  inS: number,
  inZp: number,
  outS: number,
  outZp: number,
  alpha: number,
  min: number,
  max: number,
): number {
  const f = Math.fround;
  const [alphaM, alphaShift] = quantizeMultiplierRef(f(f(f(inS) * f(alpha)) / f(outS)));
  const [idM, idShift] = quantizeMultiplierRef(f(f(inS) / f(outS)));
  const negative = alphaM < 0;
  const safe = negative ? wrap32(-BigInt(alphaM)) : alphaM;
  const x = v - inZp;
  let out = outZp;
  if (x >= 0) out += mbqm(x, idM, idShift);
  else {
    const scaled = mbqm(x, safe, alphaShift);
    out += negative ? -scaled : scaled;
  }
  return Math.min(max, Math.max(min, out));
}

// ---------------------------------------------------------------------------
// HARD_SWISH (int8).

function srdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return wrap16(Math.trunc((ab + nudge) / 32768));
}

function sdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  return wrap16(Math.trunc((a * b) / 32768));
}

/** gemmlowp RoundingDivideByPOT<int16_t>: every step in int16, with the mask truncated to 16 bits. */
function rdbpot16(x: number, exponent: number): number {
  const mask = Number(BigInt.asIntN(16, BigInt.asIntN(32, (1n << BigInt(exponent)) - 1n)));
  const remainder = wrap16(x & mask);
  const threshold = wrap16((mask >> 1) + (x < 0 ? 1 : 0));
  return wrap16(Math.floor(x / 2 ** exponent) + (remainder > threshold ? 1 : 0));
}

function saturatingLeftShift16(x: number, amount: number): number {
  return Math.min(32767, Math.max(-32768, x * 2 ** amount));
}

function downScale(m: number): number {
  if (m >= INT32_MAX - 32768) return 32767;
  return Math.floor((m + 32768) / 65536);
}

export function hardSwishRef(v: number, inS: number, inZp: number, outS: number, outZp: number): number {
  const f = Math.fround;
  const hires = f(f(1 / 128) * f(inS));
  const [outM, outExp] = quantizeMultiplierRef(f(hires / f(outS)));
  const [reluM, reluExp] = quantizeMultiplierRef(f(hires / f(3 / 32768)));
  const outM16 = downScale(outM);
  const reluM16 = downScale(reluM);

  const inputValue = wrap16(v - inZp);
  const hiresValue = wrap16(inputValue * 128);
  const preshiftOutputScale = srdhm16(hiresValue, outM16);
  let reluish = hiresValue;
  if (reluExp > 0) reluish = saturatingLeftShift16(reluish, reluExp - 1);
  reluish = srdhm16(reluish, reluM16);
  if (reluExp > 0) reluish = saturatingLeftShift16(reluish, 1);
  if (reluExp < 0) reluish = rdbpot16(reluish, -reluExp);
  reluish = wrap16(Math.floor((reluish + 32768) / 2));
  const preshift = sdhm16(reluish, preshiftOutputScale);
  let out = rdbpot16(preshift, -outExp);
  out = wrap16(out + outZp);
  return Math.max(-128, Math.min(127, out));
}
