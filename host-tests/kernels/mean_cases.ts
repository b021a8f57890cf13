// One-operator MEAN models for the Node and XS tests, with seeded inputs and
// the outputs of the TFLM transcription in mean_reference.ts.

import { ModelSpec, TensorSpec } from "../../tools/tflite/writer.js";
import { MeanCase, referenceMean } from "./mean_reference.js";
import { Xorshift32 } from "./test_data.js";

export interface MeanModelCase extends MeanCase {
  name: string;
  keepDims: boolean;
}

export interface BuiltMeanModel {
  spec: ModelSpec;
  input: Uint8Array;
  expected: number[];
}

/** Shape of the output: reduced dimensions become 1 with keep_dims, else disappear. */
export function meanOutputShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const rank = shape.length;
  const reduced = new Set(axes.map((axis) => (axis < 0 ? axis + rank : axis)));
  const result: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (!reduced.has(d)) result.push(shape[d]);
    else if (keepDims) result.push(1);
  }
  return result;
}

/** Seeded values over the whole range of the type, or `fill` everywhere. */
export function meanInput(type: "int8" | "int16", count: number, seed: number, fill?: number): Int8Array | Int16Array {
  const values = type === "int16" ? new Int16Array(count) : new Int8Array(count);
  if (fill !== undefined) return values.fill(fill);
  const random = new Xorshift32(seed);
  const [min, max] = type === "int16" ? [-32768, 32767] : [-128, 127];
  for (let i = 0; i < count; i++) values[i] = random.integer(min, max);
  return values;
}

function caseOf(
  name: string,
  type: "int8" | "int16",
  shape: number[],
  axes: number[],
  keepDims: boolean,
  input: [scale: number, zeroPoint: number],
  output: [scale: number, zeroPoint: number],
  seed: number,
  fill?: number,
): MeanModelCase {
  const count = shape.reduce((product, d) => product * d, 1);
  return {
    name,
    type,
    shape,
    axes,
    keepDims,
    values: meanInput(type, count, seed, fill),
    inputScale: input[0],
    inputZeroPoint: input[1],
    outputScale: output[0],
    outputZeroPoint: output[1],
  };
}

/**
 * The cases: TFLM's arithmetic differs between them in the rescale (below,
 * equal to and above 1), the count folded into the multiplier, the wrapping
 * of the int32 sum and the order in which axes appear.
 */
export const MEAN_CASES: readonly MeanModelCase[] = [
  // mobilenet_v2's global average pool: same quantization on both sides.
  caseOf("mobilenet head 7x7x1280", "int8", [1, 7, 7, 1280], [1, 2], true, [0.0705479, -9], [0.0705479, -9], 1),
  caseOf("equal quantization 5x5", "int8", [2, 5, 5, 8], [1, 2], true, [0.02, 3], [0.02, 3], 2),
  caseOf("axes 2 and 1, no keep_dims", "int8", [2, 5, 6, 7], [2, 1], false, [0.02, -5], [0.015, 7], 3),
  caseOf("negative and repeated axes", "int8", [2, 3, 4, 5], [-1, 3, -3], true, [0.05, 10], [0.03, -4], 4),
  caseOf("all axes", "int8", [3, 4, 5], [0, 1, 2], true, [0.1, 0], [0.07, -20], 5),
  caseOf("first axis", "int8", [6, 3, 4], [0], false, [0.04, -128], [0.04, -128], 6),
  caseOf("last axis", "int8", [4, 3, 50], [2], false, [0.01, 1], [0.004, 0], 7),
  caseOf("no axes", "int8", [2, 3, 4], [], true, [0.05, 2], [0.02, -3], 8),
  caseOf("alternating axes, rank 5", "int8", [2, 3, 2, 3, 2], [0, 2, 4], false, [0.03, -7], [0.02, 5], 9),
  caseOf("axes 1 and 3, rank 5", "int8", [2, 3, 4, 5, 6], [1, 3], true, [0.03, 4], [0.02, -6], 18),
  caseOf("size-1 dimensions", "int8", [1, 3, 1, 4, 1], [1, 2], true, [0.03, 0], [0.025, 1], 10),
  caseOf("rescale above 1 saturates", "int8", [1, 4, 4, 6], [1, 2], true, [0.05, 0], [0.004, 0], 11),
  caseOf("tiny rescale clamps the count shift", "int8", [1, 7, 7, 3], [1, 2], true, [1e-9, 0], [1.0, 0], 12),
  caseOf("int16 equal quantization", "int16", [1, 6, 6, 16], [1, 2], true, [0.0005, 0], [0.0005, 0], 13),
  caseOf("int16 rescale and zero points", "int16", [2, 9, 5], [1], false, [0.0003, 100], [0.0002, -50], 14),
  // TFLM resolves no axis for a rank-0 input, so even axis 3 is accepted.
  caseOf("rank-0 input ignores axes", "int8", [], [3], false, [0.02, 5], [0.01, 3], 16),
  // TFLM writes 0, not the output zero point, when the input has no elements.
  caseOf("empty dimension gives zeros", "int8", [2, 0, 3], [1], false, [0.02, 5], [0.01, 3], 17),
  // 70000 * 32767 exceeds 2^31, so TFLM's int32 sum wraps, and so does
  // inputZeroPoint * count = -32000 * 70000.
  caseOf("int16 sum wraps int32", "int16", [70000], [0], false, [0.0001, -32000], [0.0001, 0], 15, 32767),
];

/** Builds the one-operator model of a case: input, constant axis tensor, output. */
export function buildMeanModel(c: MeanModelCase): BuiltMeanModel {
  const outputShape = meanOutputShape(c.shape, c.axes, c.keepDims);
  const tensors: TensorSpec[] = [
    { name: "input", type: c.type, shape: c.shape, scale: [c.inputScale], zeroPoint: [c.inputZeroPoint] },
    { name: "axis", type: "int32", shape: [c.axes.length], data: new Uint8Array(Int32Array.from(c.axes).buffer) },
    { name: "output", type: c.type, shape: outputShape, scale: [c.outputScale], zeroPoint: [c.outputZeroPoint] },
  ];
  const values = c.values as Int8Array | Int16Array;
  return {
    spec: {
      tensors,
      operators: [{ op: "MEAN", inputs: [0, 1], outputs: [2], options: { type: "ReducerOptions", fields: { keep_dims: c.keepDims } } }],
      inputs: [0],
      outputs: [2],
    },
    input: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    expected: referenceMean(c),
  };
}
