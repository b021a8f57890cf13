// Cases and reference of the SVDF tests: hand-built SVDF operators with
// seeded data, and TFLM's EvalIntegerSvdfReference (micro/kernels/svdf_common.cc,
// commit 90b983c2) transcribed in BigInt. Nothing here imports the kernel
// under test.

import { TensorDef } from "../../runtime/model.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { OperatorSetup, handOperator, tensorDef } from "./layer_harness.js";
import { randomIntegers } from "./test_data.js";
import { Multiplier, multiplyDoubleRounding, quantizeMultiplierReference } from "../requantization/tflite_reference.js";

// C's int32 wrapping is written out. QuantizeMultiplier and
// MultiplyByQuantizedMultiplier are the exact BigInt ones of the
// requantization tests.

const wrap32 = (x: bigint): bigint => BigInt.asIntN(32, x);

/** TFLM's double-rounding MultiplyByQuantizedMultiplier for an int32 x. */
function referenceMultiply(x: bigint, multiplier: Multiplier): bigint {
  return BigInt(multiplyDoubleRounding(Number(x), multiplier));
}

/** TFLM's QuantizeMultiplier. The cases here keep shifts at most 30. */
function referenceQuantizeMultiplier(real: number): Multiplier {
  const multiplier = quantizeMultiplierReference(real, false);
  if (multiplier === null) throw new Error(`test case: rescale ${real} needs a shift above 30`);
  return multiplier;
}

export interface SvdfCase {
  batches: number;
  inputSize: number;
  units: number;
  rank: number;
  memorySize: number;
  stateType: number;
  inputScale: number;
  inputZeroPoint: number;
  weightsFeatureScale: number;
  weightsTimeScale: number;
  stateScale: number;
  stateZeroPoint: number;
  outputScale: number;
  outputZeroPoint: number;
  hasBias: boolean;
  activation: number;
}

export interface SvdfData {
  weightsFeature: number[];
  weightsTime: number[];
  bias: number[];
  /** One input row set per invoke. */
  inputs: number[][];
}

/** Per-invoke outputs and final state of TFLM's arithmetic, and how often the feature value saturated or wrapped. */
export interface ReferenceRun {
  outputs: number[][];
  state: number[];
  featureClamps: number;
  stateWraps: number;
  /** Time sums (per filter or per unit) that left the int32 range and wrapped. */
  sumWraps: number;
}

/**
 * Runs TFLM's integer SVDF over data.inputs from reset state. `scales`
 * "double" derives the multipliers from double products instead, to show
 * that a case separates the two.
 */
export function referenceSvdf(c: SvdfCase, data: SvdfData, scales: "float32" | "double" = "float32"): ReferenceRun {
  const filters = c.units * c.rank;
  const stateBits = c.stateType === TensorType.INT16 ? 16 : 8;
  const stateMin = -(2n ** BigInt(stateBits - 1));
  const stateMax = 2n ** BigInt(stateBits - 1) - 1n;
  // TFLM multiplies and divides the float32 scales in float32.
  const f32 = scales === "float32" ? Math.fround : (x: number) => x;
  const featureMultiplier = referenceQuantizeMultiplier(f32(f32(c.inputScale * c.weightsFeatureScale) / c.stateScale));
  const timeMultiplier = referenceQuantizeMultiplier(f32(f32(c.stateScale * c.weightsTimeScale) / c.outputScale));

  let state: bigint[] = new Array(c.batches * filters * c.memorySize).fill(stateBits === 8 ? BigInt(c.stateZeroPoint) : 0n);
  const outputs: number[][] = [];
  let featureClamps = 0;
  let stateWraps = 0;
  let sumWraps = 0;
  const stateZeroPoint = BigInt(c.stateZeroPoint);

  for (const input of data.inputs) {
    // Shift every memory left by one.
    state = [...state.slice(1), state[state.length - 1]];

    for (let b = 0; b < c.batches; b++) {
      for (let f = 0; f < filters; f++) {
        let dot = 0n;
        for (let i = 0; i < c.inputSize; i++) {
          dot = wrap32(dot + BigInt(data.weightsFeature[f * c.inputSize + i]) * BigInt(input[b * c.inputSize + i] - c.inputZeroPoint));
        }
        let value = referenceMultiply(dot, featureMultiplier);
        if (value < stateMin || value > stateMax) featureClamps++;
        if (value < stateMin) value = stateMin;
        if (value > stateMax) value = stateMax;
        const stored = BigInt.asIntN(stateBits, stateZeroPoint + value);
        if (stored !== stateZeroPoint + value) stateWraps++;
        state[(b * filters + f) * c.memorySize + c.memorySize - 1] = stored;
      }
    }

    const scratch: bigint[] = [];
    for (let b = 0; b < c.batches; b++) {
      for (let f = 0; f < filters; f++) {
        let sum = 0n;
        for (let j = 0; j < c.memorySize; j++) {
          const stateValue = state[(b * filters + f) * c.memorySize + j];
          const exact = sum + BigInt(data.weightsTime[f * c.memorySize + j]) * (stateValue - stateZeroPoint);
          sum = wrap32(exact);
          if (sum !== exact) sumWraps++;
        }
        scratch.push(sum);
      }
    }

    const output: number[] = [];
    for (let b = 0; b < c.batches; b++) {
      for (let u = 0; u < c.units; u++) {
        let sum = c.hasBias ? BigInt(data.bias[u]) : 0n;
        for (let r = 0; r < c.rank; r++) {
          const exact = sum + scratch[b * filters + u * c.rank + r];
          sum = wrap32(exact);
          if (sum !== exact) sumWraps++;
        }
        let value = referenceMultiply(sum, timeMultiplier) + BigInt(c.outputZeroPoint);
        if (value < -128n) value = -128n;
        if (value > 127n) value = 127n;
        output.push(Number(value));
      }
    }
    outputs.push(output);
  }
  return { outputs, state: state.map(Number), featureClamps, stateWraps, sumWraps };
}

export function randomData(c: SvdfCase, invokes: number, seed: number, biasRange = 5000): SvdfData {
  const filters = c.units * c.rank;
  const timeLimit = c.stateType === TensorType.INT16 ? 32767 : 127;
  return {
    weightsFeature: randomIntegers(filters * c.inputSize, -127, 127, seed),
    weightsTime: randomIntegers(filters * c.memorySize, -timeLimit, timeLimit, seed + 1),
    bias: randomIntegers(c.units, -biasRange, biasRange, seed + 2),
    inputs: Array.from({ length: invokes }, (_, i) => randomIntegers(c.batches * c.inputSize, -128, 127, seed + 3 + i)),
  };
}


const SVDF = 27;
const SVDF_OPTIONS = 6;

/** Tensors 0-5: input, weights_feature, weights_time, bias, state, output. */
export function svdfTensors(c: SvdfCase): TensorDef[] {
  const filters = c.units * c.rank;
  return [
    tensorDef(0, TensorType.INT8, [c.batches, c.inputSize], [c.inputScale], [c.inputZeroPoint]),
    tensorDef(1, TensorType.INT8, [filters, c.inputSize], [c.weightsFeatureScale], [0]),
    tensorDef(2, c.stateType, [filters, c.memorySize], [c.weightsTimeScale], [0]),
    tensorDef(3, TensorType.INT32, [c.units], [Math.fround(c.stateScale * c.weightsTimeScale)], [0]),
    { ...tensorDef(4, c.stateType, [c.batches, filters * c.memorySize], [c.stateScale], [c.stateZeroPoint]), isVariable: true },
    tensorDef(5, TensorType.INT8, [c.batches, c.units], [c.outputScale], [c.outputZeroPoint]),
  ];
}

export function svdfSetup(c: SvdfCase, tensors: TensorDef[] = svdfTensors(c), rank = c.rank): OperatorSetup {
  const setup = handOperator("SVDF", SVDF, tensors, {
    optionsType: SVDF_OPTIONS,
    fields: [
      ["int32", rank],
      ["int32", c.activation],
    ],
  });
  // handOperator reads every tensor but the last; SVDF's output is tensor 5
  // and an omitted bias is index -1.
  const inputs = tensors.slice(0, 5).map((t) => t.index);
  if (!c.hasBias) inputs[3] = -1;
  return { ...setup, op: { ...setup.op, inputs, outputs: [5] } };
}

export const INT8_CASE: SvdfCase = {
  batches: 2,
  inputSize: 5,
  units: 3,
  rank: 2,
  memorySize: 4,
  stateType: TensorType.INT8,
  inputScale: Math.fround(0.05),
  inputZeroPoint: 7,
  weightsFeatureScale: Math.fround(0.004),
  weightsTimeScale: Math.fround(0.01),
  stateScale: Math.fround(0.3),
  stateZeroPoint: -20,
  outputScale: Math.fround(0.08),
  outputZeroPoint: 3,
  hasBias: true,
  activation: 0,
};

export const INT16_CASE: SvdfCase = {
  ...INT8_CASE,
  stateType: TensorType.INT16,
  weightsTimeScale: Math.fround(0.01 / 256),
  stateScale: Math.fround(0.3 / 256),
  stateZeroPoint: 0,
};

