// Layer builders, random case generators and checks shared by the
// requantization scheme tests. Each check takes the scheme as a parameter.
// Nothing here imports a scheme, so no check can borrow the arithmetic it
// verifies.

import * as assert from "uvu/assert";
import { AccumulatorLayer, RequantizationScheme } from "../../runtime/requantization/scheme.js";
import { randomAccumulator, randomAddParams, randomInt, randomScale } from "./reference.js";
import { Multiplier, addReference } from "./tflite_reference.js";

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;

/** Accumulators at the int32 limits and around ±2^16. */
export const INT32_EDGE_ACCUMULATORS: readonly number[] = [INT32_MIN, INT32_MIN + 1, -65536, -1, 0, 1, 65535, INT32_MAX];

/** Accumulators at the int32 limits and just beyond ±2^24, where a float32 conversion first rounds. */
export const FLOAT32_EDGE_ACCUMULATORS: readonly number[] = [INT32_MIN, INT32_MIN + 1, -16777217, -1, 0, 1, 16777217, INT32_MAX];

/**
 * Returns a one-channel conv layer whose requantization scale is exactly
 * `scale` (input and output scales 1), with optional zero point and bias.
 */
export function layerWithScale(
  scale: number,
  outputZeroPoint = 0,
  bias: Int32Array | Float32Array | null = null,
  kind: "conv" | "fully_connected" = "conv",
): AccumulatorLayer {
  return { kind, inputScale: 1, weightScales: [scale], outputScale: 1, outputZeroPoint, channels: 1, bias };
}

/** Output of the scheme's requantizer for one accumulator of a layerWithScale layer. */
export type ScaleRequantize = (scale: number, acc: number, zeroPoint?: number) => number;

/** Returns requantize(scale, acc, zeroPoint) for one-channel layers of `scheme` (layerWithScale). */
export function scaleRequantizer(scheme: RequantizationScheme): ScaleRequantize {
  return (scale, acc, zeroPoint = 0) => scheme.accumulator(layerWithScale(scale, zeroPoint)).requantize(acc, 0);
}

/**
 * Asserts that requantize(2^-k, j * 2^k, zeroPoint) is exactly j + zeroPoint
 * for every k in [1, maxExponent], j in {0, ±1, 5, -77, 127, -128} and
 * listed zero point, skipping accumulators outside int32.
 */
export function checkPowerOfTwoDivision(requantize: ScaleRequantize, maxExponent: number, zeroPoints: readonly number[]): void {
  for (let k = 1; k <= maxExponent; k++) {
    for (const zeroPoint of zeroPoints) {
      for (const j of [0, 1, -1, 5, -77, 127, -128]) {
        const acc = j * 2 ** k;
        if (acc < INT32_MIN || acc > INT32_MAX) continue;
        assert.is(requantize(2 ** -k, acc, zeroPoint), j + zeroPoint, `${j} * 2^${k} / 2^${k} + ${zeroPoint}`);
      }
    }
  }
}

/** Asserts requantize(scale, acc, 7) = expected(scale, acc, 7) for every listed scale and accumulator. */
export function checkScalesAndAccumulators(
  requantize: ScaleRequantize,
  scales: readonly number[],
  accumulators: readonly number[],
  expected: (scale: number, acc: number, zeroPoint: number) => number,
): void {
  for (const scale of scales) {
    for (const acc of accumulators) assert.is(requantize(scale, acc, 7), expected(scale, acc, 7), `scale ${scale}, acc ${acc}`);
  }
}

/** One random accumulator of a one-channel layer and the scheme's output for it. */
export interface ScaleCase {
  scale: number;
  zeroPoint: number;
  acc: number;
  actual: number;
}

/**
 * Yields 200 000 cases of `scheme`: 500 one-channel layers (layerWithScale)
 * with a float32 scale log-uniform in [2^scaleExponents[0],
 * 2^scaleExponents[1]) and a zero point in zeroPoints, and 400 accumulators
 * from randomAccumulator for each.
 */
export function* randomScaleCases(
  scheme: RequantizationScheme,
  random: () => number,
  scaleExponents: readonly [number, number],
  zeroPoints: readonly [number, number],
): Generator<ScaleCase> {
  for (let layer = 0; layer < 500; layer++) {
    const scale = randomScale(random, scaleExponents[0], scaleExponents[1]);
    const zeroPoint = randomInt(random, zeroPoints[0], zeroPoints[1]);
    const requantizer = scheme.accumulator(layerWithScale(scale, zeroPoint));
    for (let i = 0; i < 400; i++) {
      const acc = randomAccumulator(random);
      yield { scale, zeroPoint, acc, actual: requantizer.requantize(acc, 0) };
    }
  }
}

/** One random accumulator of a two-channel layer and the scheme's output for it. */
export interface LayerCase {
  /** Index of the layer among those drawn, for failure messages. */
  layerIndex: number;
  layer: AccumulatorLayer & { bias: Int32Array | Float32Array };
  channel: number;
  acc: number;
  actual: number;
}

/**
 * Yields 100 000 cases of `scheme`: 500 two-channel layers of `kind` with
 * random scales, output zero point and bias, and 200 accumulators for each,
 * alternating between the channels and mostly within ±2^20. `biasType`
 * draws the bias type of each layer.
 */
export function* randomTwoChannelCases(
  scheme: RequantizationScheme,
  random: () => number,
  kind: "conv" | "fully_connected",
  biasType: (random: () => number) => "int32" | "float32",
): Generator<LayerCase> {
  for (let layerIndex = 0; layerIndex < 500; layerIndex++) {
    const inputScale = randomScale(random, -10, 0);
    const weightScales = [randomScale(random, -12, -2), randomScale(random, -12, -2)];
    const outputScale = randomScale(random, -10, 0);
    const outputZeroPoint = randomInt(random, 0, 255);
    const bias =
      biasType(random) === "int32"
        ? new Int32Array([randomInt(random, -100000, 100000), randomInt(random, -100000, 100000)])
        : new Float32Array([(random() - 0.5) * 4, (random() - 0.5) * 4]);
    const layer = { kind, inputScale, weightScales, outputScale, outputZeroPoint, channels: 2, bias };
    const requantizer = scheme.accumulator(layer);
    for (let i = 0; i < 200; i++) {
      const acc = random() < 0.9 ? randomInt(random, -(2 ** 20), 2 ** 20) : randomAccumulator(random);
      const channel = i & 1;
      yield { layerIndex, layer, channel, acc, actual: requantizer.requantize(acc, channel) };
    }
  }
}

/**
 * Checks `scheme.add` on 100 000 random int8 adds against TFLM's AddFunc
 * (addReference) with `multiply`. Parameters for which TFLM aborts are
 * drawn again.
 */
export function checkTfliteAdds(scheme: RequantizationScheme, random: () => number, multiply: (x: number, m: Multiplier) => number): void {
  let checked = 0;
  while (checked < 100_000) {
    const params = randomAddParams(random, [-128, 127], 1);
    if (addReference(0, 0, params, multiply) === null) continue;
    const adder = scheme.add(params);
    for (let i = 0; i < 200; i++) {
      const a = randomInt(random, -128, 127);
      const b = randomInt(random, -128, 127);
      const actual = adder.add(a, b);
      if (actual !== addReference(a, b, params, multiply)) assert.unreachable(`${JSON.stringify(params)} ${a} + ${b}: ${actual}`);
    }
    checked += 200;
  }
}

/** Asserts that `run` throws an instance of `type` whose message contains every fragment. */
export function expectError(run: () => unknown, type: Function, ...fragments: string[]): void {
  let thrown: unknown = undefined;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, "expected an error");
  assert.instance(thrown, type);
  for (const fragment of fragments) assert.ok((thrown as Error).message.includes(fragment), `message "${(thrown as Error).message}" lacks "${fragment}"`);
}

/** Asserts that every case [input, expected] of a table maps through `run` as listed. */
export function checkTable<T>(name: string, cases: readonly (readonly [T, number])[], run: (input: T) => number): void {
  for (const [input, expected] of cases) assert.is(run(input), expected, `${name}: ${JSON.stringify(input)}`);
}
