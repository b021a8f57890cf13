// The pytorch-qnnpack and pytorch-onednn schemes against every conv2d,
// linear, add, add_relu, cat, avg_pool2d and adaptive_avg_pool2d case that
// PyTorch 1.13 produced, seed-observation cases included. The test computes
// the integer accumulators and window sums itself with plain NCHW loops, so
// it checks the schemes' arithmetic apart from microq's kernels: every
// output integer must equal the engine's.

import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FIXTURES } from "../fixtures.js";
import { schemeByName } from "../../runtime/requantization/registry.js";
import { MemoryFormat, RequantizationScheme } from "../../runtime/requantization/scheme.js";

const OPS = resolve(FIXTURES, "pytorch", "ops");

interface QuantizedTensor {
  shape: number[];
  memory_format: string;
  scale: number;
  zero_point: number;
  values: number[];
}

interface WeightTensor {
  shape: number[];
  qscheme: "per_tensor_affine" | "per_channel_affine";
  scale?: number;
  zero_point?: number;
  scales?: number[];
  zero_points?: number[];
  values: number[];
}

interface OpCase {
  case: string;
  engine: "qnnpack" | "onednn";
  op: string;
  attrs: Record<string, any>;
  inputs: QuantizedTensor[];
  weight?: WeightTensor;
  bias?: { hex: string[] };
  output: QuantizedTensor;
  output_clamp?: [number, number];
}

const CHECKED_OPS = new Set(["conv2d", "linear", "add", "add_relu", "cat", "avg_pool2d", "adaptive_avg_pool2d"]);

function loadCases(): { file: string; data: OpCase }[] {
  return readdirSync(OPS)
    .filter((file) => /^(qnnpack|onednn)__.*\.json$/.test(file))
    .map((file) => ({ file, data: JSON.parse(readFileSync(resolve(OPS, file), "utf8")) as OpCase }))
    .filter(({ data }) => CHECKED_OPS.has(data.op));
}

function float32FromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number.parseInt(hex, 16));
  return view.getFloat32(0);
}

function clamp(value: number, range: [number, number]): number {
  return Math.min(range[1], Math.max(range[0], value));
}

function weightQuantization(weight: WeightTensor, channels: number): { scales: number[]; zeroPoints: number[] } {
  if (weight.qscheme === "per_tensor_affine") {
    return { scales: [weight.scale!], zeroPoints: new Array(channels).fill(weight.zero_point!) };
  }
  return { scales: weight.scales!, zeroPoints: weight.zero_points! };
}

/** Expected integers of a conv2d case, with accumulators summed over the NCHW input. */
function runConv(scheme: RequantizationScheme, c: OpCase): number[] {
  const x = c.inputs[0];
  const weight = c.weight!;
  const [batches, inChannels, height, width] = x.shape;
  const [outChannels, groupChannels, kernelHeight, kernelWidth] = weight.shape;
  const [strideY, strideX] = c.attrs.stride;
  const [padY, padX] = c.attrs.padding;
  const [dilationY, dilationX] = c.attrs.dilation;
  const groups = c.attrs.groups;
  const outHeight = Math.floor((height + 2 * padY - dilationY * (kernelHeight - 1) - 1) / strideY) + 1;
  const outWidth = Math.floor((width + 2 * padX - dilationX * (kernelWidth - 1) - 1) / strideX) + 1;
  const { scales, zeroPoints } = weightQuantization(weight, outChannels);
  const requantizer = scheme.accumulator({
    kind: "conv",
    inputScale: x.scale,
    weightScales: scales,
    outputScale: c.output.scale,
    outputZeroPoint: c.output.zero_point,
    channels: outChannels,
    bias: c.bias ? Float32Array.from(c.bias.hex, float32FromHex) : null,
  });

  const outputsPerGroup = outChannels / groups;
  const result: number[] = [];
  for (let n = 0; n < batches; n++) {
    for (let o = 0; o < outChannels; o++) {
      const group = Math.floor(o / outputsPerGroup);
      for (let outY = 0; outY < outHeight; outY++) {
        for (let outX = 0; outX < outWidth; outX++) {
          let acc = 0;
          for (let g = 0; g < groupChannels; g++) {
            const inChannel = group * groupChannels + g;
            for (let ky = 0; ky < kernelHeight; ky++) {
              const inY = outY * strideY - padY + ky * dilationY;
              if (inY < 0 || inY >= height) continue;
              for (let kx = 0; kx < kernelWidth; kx++) {
                const inX = outX * strideX - padX + kx * dilationX;
                if (inX < 0 || inX >= width) continue;
                const xValue = x.values[((n * inChannels + inChannel) * height + inY) * width + inX];
                const wValue = weight.values[((o * groupChannels + g) * kernelHeight + ky) * kernelWidth + kx];
                acc += (xValue - x.zero_point) * (wValue - zeroPoints[o]);
              }
            }
          }
          result.push(clamp(requantizer.requantize(acc, o), c.output_clamp!));
        }
      }
    }
  }
  return result;
}

function runLinear(scheme: RequantizationScheme, c: OpCase): number[] {
  const x = c.inputs[0];
  const weight = c.weight!;
  const [outFeatures, inFeatures] = weight.shape;
  const rows = x.values.length / inFeatures;
  const { scales, zeroPoints } = weightQuantization(weight, outFeatures);
  const requantizer = scheme.accumulator({
    kind: "fully_connected",
    inputScale: x.scale,
    weightScales: scales,
    outputScale: c.output.scale,
    outputZeroPoint: c.output.zero_point,
    channels: outFeatures,
    bias: c.bias ? Float32Array.from(c.bias.hex, float32FromHex) : null,
  });
  const result: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let o = 0; o < outFeatures; o++) {
      let acc = 0;
      for (let i = 0; i < inFeatures; i++) {
        acc += (x.values[row * inFeatures + i] - x.zero_point) * (weight.values[o * inFeatures + i] - zeroPoints[o]);
      }
      result.push(clamp(requantizer.requantize(acc, o), c.output_clamp!));
    }
  }
  return result;
}

function runAdd(scheme: RequantizationScheme, c: OpCase): number[] {
  const [a, b] = c.inputs;
  const adder = scheme.add({
    aScale: a.scale,
    aZeroPoint: a.zero_point,
    bScale: b.scale,
    bZeroPoint: b.zero_point,
    outputScale: c.output.scale,
    outputZeroPoint: c.output.zero_point,
  });
  // add_relu clamps at the output zero point even where output_clamp lists 0.
  const range: [number, number] = c.op === "add_relu" ? [Math.max(c.output.zero_point, 0), 255] : [0, 255];
  return a.values.map((value, i) => clamp(adder.add(value, b.values[i]), range));
}

function runCat(scheme: RequantizationScheme, c: OpCase): number[] {
  assert.is(c.attrs.dim, 1, `${c.case}: the test concatenates channels only`);
  const [batches, , height, width] = c.output.shape;
  const plane = height * width;
  const rescales = c.inputs.map((input) =>
    scheme.rescale({
      inputScale: input.scale,
      inputZeroPoint: input.zero_point,
      outputScale: c.output.scale,
      outputZeroPoint: c.output.zero_point,
    }),
  );
  const result: number[] = [];
  for (let n = 0; n < batches; n++) {
    c.inputs.forEach((input, k) => {
      const channels = input.shape[1];
      const start = n * channels * plane;
      for (let i = 0; i < channels * plane; i++) result.push(clamp(rescales[k](input.values[start + i]), [0, 255]));
    });
  }
  return result;
}

/** avg_pool2d and adaptive_avg_pool2d to 1x1, with PyTorch's window and divisor rules. */
function runAveragePool(scheme: RequantizationScheme, c: OpCase): number[] {
  const x = c.inputs[0];
  const [batches, channels, height, width] = x.shape;
  const adaptive = c.op === "adaptive_avg_pool2d";
  if (adaptive) assert.equal(c.attrs.output_size, [1, 1], `${c.case}: the test handles 1x1 adaptive pooling only`);
  else assert.is(c.attrs.ceil_mode, false, `${c.case}: the test handles ceil_mode false only`);
  const [kernelHeight, kernelWidth] = adaptive ? [height, width] : c.attrs.kernel_size;
  const [strideY, strideX] = adaptive ? [1, 1] : c.attrs.stride;
  const [padY, padX] = adaptive ? [0, 0] : c.attrs.padding;
  const countIncludePad = adaptive ? true : c.attrs.count_include_pad;
  const divisorOverride: number | null = adaptive ? null : c.attrs.divisor_override;
  const outHeight = Math.floor((height + 2 * padY - kernelHeight) / strideY) + 1;
  const outWidth = Math.floor((width + 2 * padX - kernelWidth) / strideX) + 1;
  const memoryFormat: MemoryFormat = x.memory_format === "channels_last" ? "channels_last" : "contiguous";
  const averager = scheme.averagePool({
    inputScale: x.scale,
    inputZeroPoint: x.zero_point,
    outputScale: c.output.scale,
    outputZeroPoint: c.output.zero_point,
    memoryFormat,
  });

  const result: number[] = [];
  for (let n = 0; n < batches; n++) {
    for (let channel = 0; channel < channels; channel++) {
      for (let outY = 0; outY < outHeight; outY++) {
        for (let outX = 0; outX < outWidth; outX++) {
          // PyTorch's window: padded bounds for the pool size, then clipped to the input.
          let yStart = outY * strideY - padY;
          let xStart = outX * strideX - padX;
          let yEnd = Math.min(yStart + kernelHeight, height + padY);
          let xEnd = Math.min(xStart + kernelWidth, width + padX);
          const poolSize = (yEnd - yStart) * (xEnd - xStart);
          yStart = Math.max(yStart, 0);
          xStart = Math.max(xStart, 0);
          yEnd = Math.min(yEnd, height);
          xEnd = Math.min(xEnd, width);
          const divisor = divisorOverride ?? (countIncludePad ? poolSize : (yEnd - yStart) * (xEnd - xStart));
          let sum = 0;
          for (let y = yStart; y < yEnd; y++) {
            for (let xIndex = xStart; xIndex < xEnd; xIndex++) {
              sum += x.values[((n * channels + channel) * height + y) * width + xIndex] - x.zero_point;
            }
          }
          result.push(clamp(averager.average(sum, divisor), [0, 255]));
        }
      }
    }
  }
  return result;
}

function expectedOutputs(scheme: RequantizationScheme, c: OpCase): number[] {
  switch (c.op) {
    case "conv2d":
      return runConv(scheme, c);
    case "linear":
      return runLinear(scheme, c);
    case "add":
    case "add_relu":
      return runAdd(scheme, c);
    case "cat":
      return runCat(scheme, c);
    default:
      return runAveragePool(scheme, c);
  }
}

const cases = loadCases();

test("fixture cases cover every checked operator on both engines", () => {
  for (const engine of ["qnnpack", "onednn"]) {
    for (const op of CHECKED_OPS) {
      assert.ok(cases.some(({ data }) => data.engine === engine && data.op === op), `no ${engine} ${op} case`);
    }
    assert.ok(cases.filter(({ file }) => file.startsWith(`${engine}__seed_observation`)).length === 9, `${engine} seed observations`);
  }
});

for (const { file, data } of cases) {
  test(`${file.replace(/\.json$/, "")} exact`, () => {
    const scheme = schemeByName(data.engine === "qnnpack" ? "pytorch-qnnpack" : "pytorch-onednn");
    const actual = expectedOutputs(scheme, data);
    assert.is(actual.length, data.output.values.length, "output count");
    const mismatches = actual.flatMap((value, i) => (value === data.output.values[i] ? [] : [`[${i}] ${value} != ${data.output.values[i]}`]));
    assert.equal(mismatches, [], `${mismatches.length} of ${actual.length} outputs differ`);
  });
}

test.run();
