// Layer builders and an error matcher shared by the requantization scheme
// tests.

import * as assert from "uvu/assert";
import { AccumulatorLayer } from "../../runtime/requantization/scheme.js";

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
