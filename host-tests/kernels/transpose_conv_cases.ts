// Random TRANSPOSE_CONV layers and the expected outputs of a BigInt
// transcription of TFLM's reference_integer_ops::TransposeConv and of the
// prepare step of micro/kernels/transpose_conv.cc (tflite-micro commit
// 90b983c2), shared by the Node and XS tests.

import {
  Random,
  referenceActivationRange,
  referenceMultiplyInt32,
  referenceMultiplyInt64,
  referencePadding,
  referenceQuantizeMultiplier,
} from "./conv16x8_reference.js";

export type Activation = "NONE" | "RELU" | "RELU6" | "RELU_N1_TO_1";
export const ACTIVATIONS: Record<Activation, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 };

export interface TransposeConvCase {
  kind: "int8" | "16x8";
  batches: number;
  inputHeight: number;
  inputWidth: number;
  inputChannels: number;
  outputHeight: number;
  outputWidth: number;
  outputChannels: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  padding: "SAME" | "VALID";
  activation: Activation;
  /** "int32" for int8; "int16" or "int64" for 16x8; null for no bias. */
  biasType: "int16" | "int32" | "int64" | null;
  /** Bias as an omitted operand (-1) rather than a missing fourth input. */
  biasOmittedIndex: boolean;
  constantOutputShape: boolean;
  input: Int8Array | Int16Array;
  weights: Int8Array;
  bias: bigint[];
  inputScale: number;
  inputZeroPoint: number;
  weightScales: number[];
  outputScale: number;
  outputZeroPoint: number;
}

/** BigInt transcription of TFLM's TransposeConv, loop for loop. */
export function referenceTransposeConv(c: TransposeConvCase): number[] {
  const [padTop, padLeft] = referencePadding(c.padding, c.strides, [1, 1], [c.outputHeight, c.outputWidth], [c.filterHeight, c.filterWidth]);
  const count = c.batches * c.outputHeight * c.outputWidth * c.outputChannels;
  const scratch: bigint[] = new Array(count).fill(0n);
  const inputOffset = c.kind === "int8" ? -c.inputZeroPoint : 0;
  for (let b = 0; b < c.batches; b++) {
    for (let inY = 0; inY < c.inputHeight; inY++) {
      for (let inX = 0; inX < c.inputWidth; inX++) {
        for (let ic = 0; ic < c.inputChannels; ic++) {
          const outXOrigin = inX * c.strides[1] - padLeft;
          const outYOrigin = inY * c.strides[0] - padTop;
          for (let fy = 0; fy < c.filterHeight; fy++) {
            for (let fx = 0; fx < c.filterWidth; fx++) {
              for (let oc = 0; oc < c.outputChannels; oc++) {
                const outX = outXOrigin + fx;
                const outY = outYOrigin + fy;
                if (outX < 0 || outX >= c.outputWidth || outY < 0 || outY >= c.outputHeight) continue;
                const x = c.input[((b * c.inputHeight + inY) * c.inputWidth + inX) * c.inputChannels + ic];
                const w = c.weights[((oc * c.filterHeight + fy) * c.filterWidth + fx) * c.inputChannels + ic];
                const o = ((b * c.outputHeight + outY) * c.outputWidth + outX) * c.outputChannels + oc;
                const sum = scratch[o] + BigInt((x + inputOffset) * w);
                // int32 scratch for int8, int64 for 16x8; both wrap.
                scratch[o] = c.kind === "int8" ? BigInt.asIntN(32, sum) : BigInt.asIntN(64, sum);
              }
            }
          }
        }
      }
    }
  }

  const [typeMin, typeMax] = c.kind === "int8" ? [-128, 127] : [-32768, 32767];
  const [activationMin, activationMax] = referenceActivationRange(c.activation, c.outputScale, c.outputZeroPoint, typeMin, typeMax);
  const result: number[] = [];
  for (let o = 0; o < count; o++) {
    const oc = o % c.outputChannels;
    const scale = c.weightScales.length === 1 ? c.weightScales[0] : c.weightScales[oc];
    const [multiplier, shift] = referenceQuantizeMultiplier((c.inputScale * scale) / c.outputScale);
    const bias = c.biasType === null ? 0n : c.bias[oc];
    let value: number;
    if (c.kind === "int8") {
      const acc = BigInt.asIntN(32, scratch[o] + bias);
      value = Number(BigInt.asIntN(32, referenceMultiplyInt32(acc, multiplier, shift) + BigInt(c.outputZeroPoint)));
    } else {
      value = Number(referenceMultiplyInt64(BigInt.asIntN(64, scratch[o] + bias), multiplier, shift));
    }
    if (value < activationMin) value = activationMin;
    if (value > activationMax) value = activationMax;
    result.push(value);
  }
  return result;
}

export function randomCase(random: Random, kind: "int8" | "16x8"): TransposeConvCase {
  const strides: [number, number] = [random.integer(1, 3), random.integer(1, 3)];
  const filterHeight = random.integer(1, 4);
  const filterWidth = random.integer(1, 4);
  const inputHeight = random.integer(1, 5);
  const inputWidth = random.integer(1, 5);
  const padding = random.pick(["SAME", "VALID"] as const);
  // TensorFlow's output size for the padding, or now and then any size.
  const sizeFor = (input: number, filter: number, stride: number): number => {
    if (random.integer(0, 4) === 0) return random.integer(1, input * stride + filter);
    return padding === "SAME" ? input * stride : (input - 1) * stride + filter;
  };
  const inputChannels = kind === "16x8" && random.integer(0, 9) === 0 ? random.integer(500, 700) : random.integer(1, 6);
  const outputChannels = random.integer(1, 5);
  let biasType: TransposeConvCase["biasType"] = null;
  if (random.integer(0, 3) > 0) biasType = kind === "int8" ? "int32" : random.pick(["int16", "int64", "int64"] as const);
  const extreme = random.integer(0, 5) === 0;
  const [typeMin, typeMax] = kind === "int8" ? [-128, 127] : [-32768, 32767];
  const inputCount = random.integer(1, 2) * inputHeight * inputWidth * inputChannels;
  const values = Array.from({ length: inputCount }, () => (extreme ? random.pick([typeMin, typeMax]) : random.integer(typeMin, typeMax)));
  const weights = Int8Array.from({ length: outputChannels * filterHeight * filterWidth * inputChannels }, () =>
    extreme ? random.pick([-128, 127]) : random.integer(-128, 127),
  );
  const perChannel = random.integer(0, 3) > 0;
  const weightScales = Array.from({ length: perChannel ? outputChannels : 1 }, () => Math.fround(random.uniform(1e-3, 2e-2)));
  const inputScale = Math.fround(random.uniform(1e-4, 1e-2));
  // Aim the typical accumulator at a tenth to ten times the output range.
  const contributions = inputChannels * Math.max(1, (filterHeight * filterWidth) / (strides[0] * strides[1]));
  const typicalProduct = kind === "int8" ? 5500 : 1.4e6;
  const outputRange = kind === "int8" ? 60 : 15000;
  const outputScale = Math.fround(((inputScale * weightScales[0] * Math.sqrt(contributions) * typicalProduct) / outputRange) * random.uniform(0.3, 3));
  // Mostly a bias of the accumulator's size, now and then a large one.
  const typicalAccumulator = Math.round(Math.sqrt(contributions) * typicalProduct);
  const bias: bigint[] = Array.from({ length: outputChannels }, () => {
    if (biasType === "int16") return BigInt(random.integer(-32768, 32767));
    if (random.integer(0, 9) === 0) return biasType === "int64" ? BigInt(random.next()) << 8n : BigInt(random.next());
    return BigInt(random.integer(-2 * typicalAccumulator, 2 * typicalAccumulator));
  });
  return {
    kind,
    batches: inputCount / (inputHeight * inputWidth * inputChannels),
    inputHeight,
    inputWidth,
    inputChannels,
    outputHeight: sizeFor(inputHeight, filterHeight, strides[0]),
    outputWidth: sizeFor(inputWidth, filterWidth, strides[1]),
    outputChannels,
    filterHeight,
    filterWidth,
    strides,
    padding,
    activation: random.pick(["NONE", "NONE", "RELU", "RELU6", "RELU_N1_TO_1"] as const),
    biasType,
    biasOmittedIndex: random.integer(0, 1) === 0,
    constantOutputShape: random.integer(0, 1) === 0,
    input: kind === "int8" ? Int8Array.from(values) : Int16Array.from(values),
    weights,
    bias,
    inputScale,
    inputZeroPoint: kind === "int8" ? random.integer(-128, 127) : 0,
    weightScales,
    outputScale,
    outputZeroPoint: kind === "int8" ? random.integer(-128, 127) : 0,
  };
}

export function describeCase(c: TransposeConvCase): string {
  return JSON.stringify({ ...c, input: undefined, weights: undefined, bias: undefined });
}
