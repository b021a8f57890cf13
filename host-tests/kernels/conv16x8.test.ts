// CONV_2D with int16 activations and int8 weights against TFLM: the seanet
// conv cases (TFLM's own output) and random layers checked against a BigInt
// transcription of reference_integer_ops::ConvPerChannel<AccumScalar>
// (tflite-micro commit 90b983c2), with int64 and int32 bias and accumulator,
// no bias, groups, strides, dilation, both paddings and fused activations.

import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { ModelSpec, TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { TFLM_FIXTURES } from "../fixtures.js";
import {
  Random,
  bytesOfArray,
  referenceActivationRange,
  referenceMultiplyInt32,
  referenceMultiplyInt64,
  referencePadding,
  referenceQuantizeMultiplier,
} from "./conv16x8_reference.js";

type Activation = "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1";
type BiasKind = "int64" | "int32" | "none" | "none-int32";

interface ConvCase {
  batches: number;
  inputHeight: number;
  inputWidth: number;
  inputDepth: number;
  outputChannels: number;
  groups: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  dilations: [number, number];
  padding: "SAME" | "VALID";
  activation: Activation;
  biasKind: BiasKind;
  input: Int16Array;
  weights: Int8Array;
  /** int64 bias values (int32 ones for "int32"). */
  bias: bigint[];
  inputScale: number;
  weightScales: number[];
  outputScale: number;
}

function outputSize(padding: "SAME" | "VALID", size: number, filter: number, stride: number, dilation: number): number {
  const effective = (filter - 1) * dilation + 1;
  return padding === "SAME" ? Math.floor((size + stride - 1) / stride) : Math.floor((size + stride - effective) / stride);
}

function outputShape(c: ConvCase): [number, number, number, number] {
  return [
    c.batches,
    outputSize(c.padding, c.inputHeight, c.filterHeight, c.strides[0], c.dilations[0]),
    outputSize(c.padding, c.inputWidth, c.filterWidth, c.strides[1], c.dilations[1]),
    c.outputChannels,
  ];
}

/** BigInt transcription of TFLM's 16x8 ConvPerChannel with its accumulator choice. */
function referenceConv(c: ConvCase): Int16Array {
  const [, outputHeight, outputWidth] = outputShape(c);
  const filterDepth = c.inputDepth / c.groups;
  const perGroup = c.outputChannels / c.groups;
  const [padTop, padLeft] = referencePadding(c.padding, c.strides, c.dilations, [c.inputHeight, c.inputWidth], [c.filterHeight, c.filterWidth]);
  const [activationMin, activationMax] = referenceActivationRange(c.activation, c.outputScale, 0, -32768, 32767);
  const int64 = c.biasKind === "int64" || c.biasKind === "none";
  const result = new Int16Array(c.batches * outputHeight * outputWidth * c.outputChannels);
  let o = 0;
  for (let b = 0; b < c.batches; b++) {
    for (let outY = 0; outY < outputHeight; outY++) {
      for (let outX = 0; outX < outputWidth; outX++) {
        for (let oc = 0; oc < c.outputChannels; oc++) {
          const group = Math.floor(oc / perGroup);
          let acc = 0n;
          for (let fy = 0; fy < c.filterHeight; fy++) {
            const inY = outY * c.strides[0] - padTop + c.dilations[0] * fy;
            for (let fx = 0; fx < c.filterWidth; fx++) {
              const inX = outX * c.strides[1] - padLeft + c.dilations[1] * fx;
              if (inY < 0 || inY >= c.inputHeight || inX < 0 || inX >= c.inputWidth) continue;
              for (let ic = 0; ic < filterDepth; ic++) {
                const x = c.input[((b * c.inputHeight + inY) * c.inputWidth + inX) * c.inputDepth + group * filterDepth + ic];
                const w = c.weights[((oc * c.filterHeight + fy) * c.filterWidth + fx) * filterDepth + ic];
                acc += BigInt(x * w);
              }
            }
          }
          const scale = c.weightScales.length === 1 ? c.weightScales[0] : c.weightScales[oc];
          const [multiplier, shift] = referenceQuantizeMultiplier((c.inputScale * scale) / c.outputScale);
          let scaled: bigint;
          if (int64) {
            acc = BigInt.asIntN(64, acc + (c.bias.length > 0 ? c.bias[oc] : 0n));
            scaled = referenceMultiplyInt64(acc, multiplier, shift);
          } else {
            acc = BigInt.asIntN(32, acc + (c.bias.length > 0 ? c.bias[oc] : 0n));
            scaled = referenceMultiplyInt32(acc, multiplier, shift);
          }
          const value = Number(scaled);
          result[o++] = Math.min(Math.max(value, activationMin), activationMax);
        }
      }
    }
  }
  return result;
}

function modelOf(c: ConvCase): Uint8Array {
  const filterDepth = c.inputDepth / c.groups;
  const tensors: TensorSpec[] = [
    { name: "input", type: "int16", shape: [c.batches, c.inputHeight, c.inputWidth, c.inputDepth], scale: [c.inputScale], zeroPoint: [0] },
    {
      name: "weights",
      type: "int8",
      shape: [c.outputChannels, c.filterHeight, c.filterWidth, filterDepth],
      data: bytesOfArray(c.weights),
      scale: c.weightScales,
      zeroPoint: c.weightScales.map(() => 0),
      quantizedDimension: 0,
    },
    { name: "output", type: "int16", shape: outputShape(c), scale: [c.outputScale], zeroPoint: [0] },
  ];
  const inputs = [0, 1];
  if (c.biasKind === "int64" || c.biasKind === "int32") {
    const data = c.biasKind === "int64" ? BigInt64Array.from(c.bias) : Int32Array.from(c.bias.map(Number));
    tensors.push({ name: "bias", type: c.biasKind, shape: [c.outputChannels], data: bytesOfArray(data) });
    inputs.push(3);
  } else if (c.biasKind === "none-int32") {
    inputs.push(-1);
  }
  const spec: ModelSpec = {
    tensors,
    operators: [
      {
        op: "CONV_2D",
        inputs,
        outputs: [2],
        options: {
          type: "Conv2DOptions",
          fields: {
            padding: c.padding,
            stride_h: c.strides[0],
            stride_w: c.strides[1],
            dilation_h_factor: c.dilations[0],
            dilation_w_factor: c.dilations[1],
            fused_activation_function: c.activation,
            ...(c.biasKind === "none-int32" ? { quantized_bias_type: "INT32" } : {}),
          },
        },
      },
    ],
    inputs: [0],
    outputs: [2],
  };
  return writeModel(spec);
}

function runConv(c: ConvCase): Int16Array {
  const interpreter = new Interpreter(modelOf(c));
  interpreter.setInput(0, bytesOfArray(c.input));
  interpreter.invoke();
  return Int16Array.from(interpreter.outputs[0].data as Int16Array);
}

function assertSameOutputs(actual: Int16Array, expected: Int16Array, label: string): void {
  assert.is(actual.length, expected.length, `${label}: output length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

function randomCase(random: Random, biasKind: BiasKind): ConvCase {
  for (;;) {
    const groups = random.pick([1, 1, 1, 2, 3]);
    const filterDepth = random.integer(1, 5);
    const c: ConvCase = {
      batches: random.integer(1, 2),
      inputHeight: random.integer(1, 7),
      inputWidth: random.integer(1, 7),
      inputDepth: groups * filterDepth,
      // Up to 9 channels a group: blocks of four and the channels left over.
      outputChannels: groups * random.integer(1, 9),
      groups,
      filterHeight: random.integer(1, 4),
      filterWidth: random.integer(1, 4),
      strides: [random.integer(1, 3), random.integer(1, 3)],
      dilations: [random.pick([1, 1, 2]), random.pick([1, 1, 2])],
      padding: random.pick(["SAME", "VALID"] as const),
      activation: random.pick(["NONE", "NONE", "RELU", "RELU6", "RELU_N1_TO_1"] as const),
      biasKind,
      input: new Int16Array(0),
      weights: new Int8Array(0),
      bias: [],
      inputScale: 0,
      weightScales: [],
      outputScale: 0,
    };
    const [, outputHeight, outputWidth] = outputShape(c);
    if (outputHeight <= 0 || outputWidth <= 0) continue;

    const extreme = random.integer(0, 5) === 0;
    c.input = Int16Array.from({ length: c.batches * c.inputHeight * c.inputWidth * c.inputDepth }, () =>
      extreme ? random.pick([-32768, 32767]) : random.integer(-32768, 32767),
    );
    const patch = c.filterHeight * c.filterWidth * filterDepth;
    c.weights = Int8Array.from({ length: c.outputChannels * patch }, () => (extreme ? random.pick([-128, 127]) : random.integer(-128, 127)));
    c.inputScale = Math.fround(random.uniform(1e-4, 1e-2));
    const perChannel = random.integer(0, 3) > 0;
    c.weightScales = Array.from({ length: perChannel ? c.outputChannels : 1 }, () => Math.fround(random.uniform(1e-3, 2e-2)));
    // Aim the typical accumulator (about 1.4e6 * sqrt(patch)) at +-10000 in the output, give or take a factor of 3.
    c.outputScale = Math.fround(c.inputScale * c.weightScales[0] * Math.sqrt(patch) * 140 * random.uniform(0.3, 3));
    // Mostly a bias of the accumulator's size, now and then a large one.
    const typicalAccumulator = Math.round(Math.sqrt(patch) * 1.4e6);
    const randomBias = (): bigint => {
      if (random.integer(0, 9) > 0) return BigInt(random.integer(-2 * typicalAccumulator, 2 * typicalAccumulator));
      return biasKind === "int64" ? BigInt(random.next()) << BigInt(random.integer(0, 12)) : BigInt(random.next());
    };
    if (biasKind === "int64" || biasKind === "int32") c.bias = Array.from({ length: c.outputChannels }, randomBias);
    return c;
  }
}

/** Weight i of five 576-tap channels: channels 0 and 4 all -128, channel 1 all 127, the rest -1, 0 or 1. */
function extremeWeight(i: number): number {
  if (i < 576 || i >= 4 * 576) return -128;
  if (i < 1152) return 127;
  return (i % 3) - 1;
}

test("seanet conv: TFLM's output exactly", () => {
  const directory = resolve(TFLM_FIXTURES, "seanet", "conv");
  const names = readdirSync(directory).filter((f) => f.endsWith(".tflite")).map((f) => f.slice(0, -".tflite".length));
  assert.is(names.length, 22);
  for (const name of names) {
    const interpreter = new Interpreter(new Uint8Array(readFileSync(resolve(directory, `${name}.tflite`))));
    interpreter.setInput(0, new Uint8Array(readFileSync(resolve(directory, `${name}_in0.bin`))));
    interpreter.invoke();
    const oracle = new Uint8Array(readFileSync(resolve(directory, `${name}_oracle_out0.bin`)));
    assertSameOutputs(Int16Array.from(interpreter.outputs[0].data as Int16Array), new Int16Array(oracle.buffer, oracle.byteOffset, oracle.byteLength / 2), name);
  }
});

for (const biasKind of ["int64", "int32", "none", "none-int32"] as const) {
  test(`random 16x8 conv, ${biasKind} bias`, () => {
    const random = new Random(biasKind.length * 7919 + biasKind.charCodeAt(5 % biasKind.length));
    let outputs = 0;
    let inRange = 0;
    for (let i = 0; i < 120; i++) {
      const c = randomCase(random, biasKind);
      const expected = referenceConv(c);
      assertSameOutputs(runConv(c), expected, `case ${i} (${JSON.stringify({ ...c, input: undefined, weights: undefined, bias: undefined })})`);
      outputs += expected.length;
      inRange += expected.filter((v) => v !== 0 && v > -32768 && v < 32767).length;
    }
    // The cases exercise the requantization, not only the clamps.
    assert.ok(inRange > 0.4 * outputs, `only ${inRange} of ${outputs} outputs are unsaturated and nonzero`);
  });
}

test("deep filter: int64 accumulator beyond int32", () => {
  // 3x3x64 = 576 taps of (-32768) * (-128) sum to 576 * 2^22, beyond 2^31:
  // the int64 path keeps it, the int32 path wraps as TFLM's int32 adds do.
  for (const biasKind of ["int64", "int32"] as const) {
    const c: ConvCase = {
      batches: 1,
      inputHeight: 3,
      inputWidth: 4,
      inputDepth: 64,
      outputChannels: 5,
      groups: 1,
      filterHeight: 3,
      filterWidth: 3,
      strides: [1, 1],
      dilations: [1, 1],
      padding: "SAME",
      activation: "NONE",
      biasKind,
      input: new Int16Array(3 * 4 * 64).fill(-32768),
      // Channels 0 and 4 (a block of four and the one left over) see the extremes.
      weights: Int8Array.from({ length: 5 * 576 }, (_, i) => extremeWeight(i)),
      bias:
        biasKind === "int64"
          ? [1n << 40n, -(1n << 35n), 12345n, 0n, -(1n << 20n)]
          : [0x7fffffffn, -0x80000000n, 12345n, 0n, -(1n << 20n)],
      inputScale: Math.fround(0.001),
      weightScales: [0.01, 0.01, 0.02, 0.01, 0.01].map(Math.fround),
      outputScale: Math.fround(0.001 * 0.01 * 2 ** 20),
    };
    assertSameOutputs(runConv(c), referenceConv(c), `${biasKind} bias`);
  }
});

test("int16 conv: rejected models", () => {
  const random = new Random(5);
  const base = randomCase(random, "int64");
  // A rescale factor of 2^7 or more is beyond TFLM's int64 requantization.
  const large = { ...base, outputScale: Math.fround((base.inputScale * base.weightScales[0]) / 200) };
  assert.throws(() => new Interpreter(modelOf(large)), (error: unknown) => error instanceof UnsupportedError && /2\^7/.test((error as Error).message));
});

test.run();
