// Layers whose bias or scales the schemes cannot compute with: a float32
// bias that is NaN or infinite, a bias whose quantized value leaves int32,
// and scales whose derived float32 or double parameters overflow to
// Infinity or underflow to 0. Each case lists, for every scheme, the error
// prepare must raise or the exact output it must give. The last tests
// build whole models (a uint8 1x1 conv) and load them through the
// Interpreter.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { SCHEME_NAMES, schemeByName } from "../../runtime/requantization/registry.js";
import { AccumulatorLayer, SchemeName } from "../../runtime/requantization/scheme.js";
import { TensorSpec, writeModel } from "../../tools/tflite/writer.js";
import { expectError, layerWithScale } from "./helpers.js";

const fl = Math.fround;

/** Schemes that add the bias inside an int32 accumulator; pytorch-onednn keeps it in float32. */
const INT32_BIAS_SCHEMES: readonly SchemeName[] = ["tflm", "single", "qnnpack-q31", "qnnpack-precise", "pytorch-qnnpack", "onnx"];

/** An expected rejection: the error class and fragments its message must contain. */
interface Rejection {
  error: Function;
  fragments: readonly string[];
}

const invalid = (...fragments: string[]): Rejection => ({ error: InvalidModelError, fragments });
const unsupported = (...fragments: string[]): Rejection => ({ error: UnsupportedError, fragments });

/** Returns a two-channel conv layer whose requantization scale is 0.5 in both channels. */
function twoChannelLayer(bias: Int32Array | Float32Array | null, weightScale1 = 0.25): AccumulatorLayer {
  return { kind: "conv", inputScale: 0.5, weightScales: [0.25, weightScale1], outputScale: 0.25, outputZeroPoint: 0, channels: 2, bias };
}

test("bias NaN or infinite: rejected", () => {
  for (const name of SCHEME_NAMES) {
    for (const value of [NaN, Infinity, -Infinity]) {
      expectError(
        () => schemeByName(name).accumulator(twoChannelLayer(new Float32Array([0.5, value]))),
        InvalidModelError,
        `"${name}"`,
        "output channel 1",
        `is ${value}`,
        "the file is corrupted",
      );
    }
  }
});

test("bias at the int32 limits: accepted", () => {
  // Unit input and weight scales make the quantized bias the float value
  // itself, and both limits are float32 values. The scale 0.5 halves the
  // sum exactly: -2^31 / 2 = -2^30 and (2^31 - 128) / 2 = 2^30 - 64.
  const layer = { ...layerWithScale(1), outputScale: 2, weightScales: [1, 1], channels: 2 };
  for (const name of SCHEME_NAMES) {
    const requantizer = schemeByName(name).accumulator({ ...layer, bias: new Float32Array([-(2 ** 31), 2 ** 31 - 128]) });
    assert.is(requantizer.requantize(0, 0), -(2 ** 30), `${name} channel 0`);
    assert.is(requantizer.requantize(0, 1), 2 ** 30 - 64, `${name} channel 1`);
  }
});

test("bias beyond int32: rejected", () => {
  const layer = { ...layerWithScale(1), outputScale: 2, weightScales: [1, 1], channels: 2 };
  // 2^31 and -2^31 - 256 are the float32 neighbours just outside int32,
  // and 1e30 is far beyond it.
  for (const value of [2 ** 31, -(2 ** 31) - 256, fl(1e30)]) {
    const bias = new Float32Array([0, value]);
    for (const name of INT32_BIAS_SCHEMES) {
      expectError(
        () => schemeByName(name).accumulator({ ...layer, bias }),
        InvalidModelError,
        `"${name}"`,
        `float32 bias ${value} of output channel 1`,
        "outside int32",
        "requantize the layer",
      );
    }
    // onednn adds b' = b * fl(1 / (sx * sw)) = b in float32, so the
    // output is b * 0.5 with the rounding of float32.
    const onednn = schemeByName("pytorch-onednn").accumulator({ ...layer, bias });
    assert.is(onednn.requantize(0, 1), fl(value * 0.5), `pytorch-onednn keeps the float bias ${value}`);
  }
});

/** Outcome of a layer under one scheme: a rejection, or outputs for listed accumulators of channel 1. */
type Outcome = Rejection | { outputs: readonly (readonly [number, number])[] };

/**
 * Weight scale of channel 1 far from the usual range, with sx = 0.02,
 * so = 0.1 and an int32 bias of 207 or none on channel 1. The real multiplier sx * sw / so is about 6e37 for
 * sw = 3e38. For sw = 1e-45 it is below 2^-150, so the exact output of any
 * int32 sum is the zero point 0.
 */
const EXTREME_WEIGHT_SCALES: readonly { weightScale: number; bias: Int32Array | null; expected: Readonly<Record<SchemeName, Outcome>> }[] = [
  {
    weightScale: fl(3e38),
    bias: new Int32Array([0, 207]),
    expected: {
      tflm: invalid("output channel 1", "int32 requantization range"),
      single: invalid("output channel 1", "int32 requantization range"),
      "qnnpack-q31": unsupported("output channel 1", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("output channel 1", "outside [2^-32, 1)"),
      // fl(sx * sw) = 6e36 fits float32, so the multiplier is finite and
      // every nonzero sum saturates.
      "pytorch-qnnpack": { outputs: [[-207, 0], [0, Infinity], [-300, -Infinity]] },
      onnx: { outputs: [[-207, 0], [0, Infinity], [-300, -Infinity]] },
      // The int32 bias in real units, fl(207 * 6e36), overflows float32.
      "pytorch-onednn": invalid("real bias fl(207 * fl(sx * sw)) of output channel 1 is Infinity", "requantize the layer"),
    },
  },
  {
    weightScale: fl(3e38),
    bias: null,
    expected: {
      tflm: invalid("output channel 1", "int32 requantization range"),
      single: invalid("output channel 1", "int32 requantization range"),
      "qnnpack-q31": unsupported("output channel 1", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("output channel 1", "outside [2^-32, 1)"),
      "pytorch-qnnpack": { outputs: [[0, 0], [1, Infinity], [-1, -Infinity]] },
      onnx: { outputs: [[0, 0], [1, Infinity], [-1, -Infinity]] },
      "pytorch-onednn": { outputs: [[0, 0], [1, Infinity], [-1, -Infinity]] },
    },
  },
  {
    weightScale: fl(1e-45),
    bias: new Int32Array([0, 207]),
    expected: {
      // TFLite's QuantizeMultiplier flushes a multiplier below 2^-31 to 0.
      tflm: { outputs: [[0, 0], [2 ** 31 - 1 - 207, 0], [-(2 ** 31) + 207, 0]] },
      single: { outputs: [[0, 0], [2 ** 31 - 1 - 207, 0], [-(2 ** 31) + 207, 0]] },
      "qnnpack-q31": unsupported("output channel 1", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("output channel 1", "outside [2^-32, 1)"),
      "pytorch-qnnpack": invalid("multiplier fl(fl(sx * sw) * fl(1 / so)) of output channel 1 is 0", "requantize the layer"),
      onnx: invalid("multiplier fl(fl(sx * sw) / so) of output channel 1 is 0", "requantize the layer"),
      // fl(1 / 1e-45) overflows. Computing on would make the output NaN,
      // stored as uint8 0 instead of the zero point.
      "pytorch-onednn": invalid("inverse weight scale fl(1 / sw) of output channel 1 is Infinity", "requantize the layer"),
    },
  },
];

/** Asserts that `prepare` meets `outcome`: it raises the listed error, or its function maps each input as listed. */
function checkOutcome(label: string, outcome: Outcome, prepare: () => (acc: number) => number): void {
  if ("error" in outcome) {
    expectError(prepare, outcome.error, ...outcome.fragments);
    return;
  }
  const requantize = prepare();
  for (const [acc, expected] of outcome.outputs) {
    const actual = requantize(acc);
    // Infinity stands for any value above the uint8 range, -Infinity for any below.
    if (expected === Infinity) assert.ok(actual > 255, `${label}, acc ${acc}: ${actual} should saturate high`);
    else if (expected === -Infinity) assert.ok(actual < 0, `${label}, acc ${acc}: ${actual} should saturate low`);
    else assert.is(actual, expected, `${label}, acc ${acc}`);
  }
}

test("extreme weight scales per scheme", () => {
  for (const { weightScale, bias, expected } of EXTREME_WEIGHT_SCALES) {
    for (const name of SCHEME_NAMES) {
      const layer: AccumulatorLayer = {
        kind: "conv",
        inputScale: fl(0.02),
        weightScales: [fl(0.01), weightScale],
        outputScale: fl(0.1),
        outputZeroPoint: 0,
        channels: 2,
        bias,
      };
      checkOutcome(`${name}, weight scale ${weightScale}, bias ${bias}`, expected[name], () => {
        const requantizer = schemeByName(name).accumulator(layer);
        return (acc) => requantizer.requantize(acc, 1);
      });
    }
  }
});

test("single: multiplier 2^30 rejected", () => {
  // frexp(2^30) has exponent 31, beyond the shift of 30 both builds allow.
  // The single-rounding build clamps it, and its product then leaves int32
  // for |acc| >= 3; tflm rejects it, and so does single.
  for (const name of ["tflm", "single"] as const) {
    expectError(() => schemeByName(name).accumulator(layerWithScale(2 ** 30)), InvalidModelError, "int32 requantization range");
    // 1.5 * 2^29 has shift 30, the largest allowed, and is exact.
    assert.is(schemeByName(name).accumulator(layerWithScale(1.5 * 2 ** 29)).requantize(1, 0), 805306368, name);
  }
});

test("onnx add: float32 overflow", () => {
  const params = { aScale: 0.05, aZeroPoint: 100, bScale: 0.07, bZeroPoint: 3, outputScale: 0.1, outputZeroPoint: 50 };
  // 255 * 2e36 = 5.1e38 overflows float32, so two such inputs of opposite
  // sign would add to Infinity - Infinity = NaN.
  expectError(() => schemeByName("onnx").add({ ...params, aScale: 2e36 }), InvalidModelError, "fl(255 * sa)", "Infinity");
  expectError(() => schemeByName("onnx").add({ ...params, bScale: 2e36 }), InvalidModelError, "fl(255 * sb)", "Infinity");
  // A double scale below the float32 range rounds to 0.
  expectError(() => schemeByName("onnx").add({ ...params, aScale: 1e-50 }), InvalidModelError, "first input scale fl(1e-50) is 0");
  // 1.3e36 * 255 = 3.3e38 still fits: (a - za) * sa / so is 3.3e38 / 0.1,
  // which saturates, and equal inputs at the zero points give zo.
  const adder = schemeByName("onnx").add({ ...params, aScale: 1.3e36 });
  assert.is(adder.add(100, 3), 50);
  assert.ok(adder.add(255, 3) > 255);
});

/** Outcome of a rescale or average pool under one scheme: a rejection, or outputs for listed inputs. */
const EXTREME_RESCALES: readonly {
  label: string;
  params: { inputScale: number; inputZeroPoint: number; outputScale: number; outputZeroPoint: number };
  expected: Readonly<Record<SchemeName, Outcome>>;
}[] = [
  {
    // fl(1 / 1e-39) overflows: TFLite's concatenation would compute with
    // Infinity and turn x = zi into NaN.
    label: "output scale 1e-39",
    params: { inputScale: 0.5, inputZeroPoint: 0, outputScale: 1e-39, outputZeroPoint: 7 },
    expected: {
      tflm: invalid("inverse output scale fl(1 / so) is Infinity"),
      single: invalid("inverse output scale fl(1 / so) is Infinity"),
      "qnnpack-q31": unsupported("rescale factor", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("rescale factor", "outside [2^-32, 1)"),
      "pytorch-qnnpack": { outputs: [[0, 7], [1, Infinity], [-1, -Infinity]] },
      "pytorch-onednn": { outputs: [[0, 7], [1, Infinity], [-1, -Infinity]] },
      onnx: { outputs: [[0, 7], [1, Infinity], [-1, -Infinity]] },
    },
  },
  {
    // fl(si * fl(1 / so)) = 2e37 is finite, but fl(-zi * 2e37) is not.
    label: "input scale 1e37, input zero point 100",
    params: { inputScale: 1e37, inputZeroPoint: 100, outputScale: 0.5, outputZeroPoint: 7 },
    expected: {
      tflm: invalid("rescale offset fl(-zi * scale) is -Infinity"),
      single: invalid("rescale offset fl(-zi * scale) is -Infinity"),
      "qnnpack-q31": unsupported("rescale factor", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("rescale factor", "outside [2^-32, 1)"),
      "pytorch-qnnpack": { outputs: [[100, 7], [101, Infinity], [99, -Infinity]] },
      "pytorch-onednn": { outputs: [[100, 7], [101, Infinity], [99, -Infinity]] },
      onnx: { outputs: [[100, 7], [101, Infinity], [99, -Infinity]] },
    },
  },
  {
    // A double scale below the float32 range: onnx rounds it to 0.
    label: "input scale 1e-50",
    params: { inputScale: 1e-50, inputZeroPoint: 0, outputScale: 0.5, outputZeroPoint: 7 },
    expected: {
      tflm: invalid("rescale factor fl(si * fl(1 / so)) is 0"),
      single: invalid("rescale factor fl(si * fl(1 / so)) is 0"),
      "qnnpack-q31": unsupported("rescale factor", "outside [2^-32, 1)"),
      "qnnpack-precise": unsupported("rescale factor", "outside [2^-32, 1)"),
      // Double arithmetic: 255 * 2e-50 rounds to 0 exactly as it should.
      "pytorch-qnnpack": { outputs: [[0, 7], [255, 7]] },
      "pytorch-onednn": { outputs: [[0, 7], [255, 7]] },
      onnx: invalid("input scale fl(1e-50) is 0"),
    },
  },
];

test("rescale: extreme scales per scheme", () => {
  for (const { label, params, expected } of EXTREME_RESCALES) {
    for (const name of SCHEME_NAMES) {
      checkOutcome(`${name}, ${label}`, expected[name], () => schemeByName(name).rescale(params));
    }
  }
});

test("average pool: multiplier overflow", () => {
  // si / so = 3e41 overflows float32 at N = 1, and S = 0 would then give
  // 0 * Infinity = NaN.
  const params = { inputScale: fl(3e38), inputZeroPoint: 0, outputScale: 1e-3, outputZeroPoint: 7 };
  for (const memoryFormat of ["contiguous", "channels_last"] as const) {
    expectError(
      () => schemeByName("pytorch-qnnpack").averagePool({ ...params, memoryFormat }),
      InvalidModelError,
      "average pooling multiplier fl(si / so) is Infinity",
    );
  }

  expectError(
    () => schemeByName("pytorch-onednn").averagePool({ ...params, memoryFormat: "channels_last" }),
    InvalidModelError,
    "average pooling multiplier fl(si / so) is Infinity",
  );
  // The contiguous onednn path computes in double, where nothing overflows.
  const contiguous = schemeByName("pytorch-onednn").averagePool({ ...params, memoryFormat: "contiguous" });
  assert.is(contiguous.average(0, 4), 7);
  assert.ok(contiguous.average(1, 4) > 255);

  // fl(so * N) overflows for so = 1e32 and N near 2^24, which would make
  // the multiplier 0.
  expectError(
    () => schemeByName("pytorch-qnnpack").averagePool({ ...params, inputScale: 1e32, outputScale: 1e32, memoryFormat: "contiguous" }),
    InvalidModelError,
    "fl(so * 2^24) is Infinity",
  );

  // onnx divides a finite fl(S * si) by N and so, with no NaN possible.
  const onnx = schemeByName("onnx").averagePool({ ...params, memoryFormat: "contiguous" });
  assert.is(onnx.average(0, 4), 7);
  assert.ok(onnx.average(1, 4) > 255);
});

// Whole models: a uint8 1x1 CONV_2D from one input channel
// to two output channels, x scale fl(1 / 255), per-channel int8 weights of
// 127 with scale 0.0005, output scale 0.1 and zero point 0. Channel 1 gets
// the hostile bias or weight scale.

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function conv1x1Model(scheme: SchemeName, bias: TensorSpec, weightScale1 = 0.0005): Uint8Array {
  return writeModel({
    tensors: [
      { name: "x", type: "uint8", shape: [1, 1, 1, 1], scale: [fl(1 / 255)], zeroPoint: [0] },
      {
        name: "w",
        type: "int8",
        shape: [2, 1, 1, 1],
        data: new Uint8Array(new Int8Array([127, 127]).buffer),
        scale: [0.0005, weightScale1],
        zeroPoint: [0, 0],
        quantizedDimension: 0,
      },
      bias,
      { name: "y", type: "uint8", shape: [1, 1, 1, 2], scale: [0.1], zeroPoint: [0] },
    ],
    operators: [
      {
        op: "CONV_2D",
        inputs: [0, 1, 2],
        outputs: [3],
        options: { type: "Conv2DOptions", fields: { padding: "VALID", stride_w: 1, stride_h: 1 } },
      },
    ],
    inputs: [0],
    outputs: [3],
    metadata: { microq_requantization: ascii(scheme) },
  });
}

const floatBias = (values: readonly number[]): TensorSpec => ({
  name: "b",
  type: "float32",
  shape: [2],
  data: new Uint8Array(new Float32Array(values).buffer),
});

const int32Bias = (values: readonly number[]): TensorSpec => ({
  name: "b",
  type: "int32",
  shape: [2],
  data: new Uint8Array(new Int32Array(values).buffer),
});

/** Runs the model on x = `input` and returns both output channels. */
function runConv(model: Uint8Array, input: number): number[] {
  const interpreter = new Interpreter(model);
  interpreter.setInput(0, Uint8Array.of(input));
  interpreter.invoke();
  return Array.from(interpreter.outputs[0].data as Uint8Array);
}

test("Interpreter: NaN or infinite bias", () => {
  for (const name of SCHEME_NAMES) {
    for (const value of [NaN, Infinity, -Infinity]) {
      expectError(() => new Interpreter(conv1x1Model(name, floatBias([0, value]))), InvalidModelError, "channel 1", `${value}`);
    }
  }
});

test("Interpreter: bias 1e30", () => {
  // The exact outputs are 255 * fl(1 / 255) * 127 * 0.0005 / 0.1 = 0.635
  // -> 1 for channel 0 and 1e30 / 0.1 -> 255 for channel 1. A bias
  // saturated to int32 would make acc + bias wrap and give 0 there.
  const model = (name: SchemeName) => conv1x1Model(name, floatBias([0, 1e30]));
  for (const name of INT32_BIAS_SCHEMES) {
    expectError(() => new Interpreter(model(name)), InvalidModelError, `"${name}"`, `bias ${fl(1e30)} of output channel 1`, "outside int32");
  }
  assert.equal(runConv(model("pytorch-onednn"), 255), [1, 255]);
  assert.equal(runConv(model("pytorch-onednn"), 0), [0, 255]);
});

test("Interpreter: extreme weight scales", () => {
  // Channel 0 gives 1 for x = 255 (0.635, see above). Channel 1 has the
  // int32 bias 1000; with weight scale 3e38 it saturates at 255 where it
  // loads, and with weight scale 1e-45 its exact output is the zero point
  // 0. onednn's real bias fl(1000 * fl(sx * 3e38)) = 1.2e39 overflows.
  const cases: readonly { weightScale: number; expected: Readonly<Record<SchemeName, Rejection | readonly number[]>> }[] = [
    {
      weightScale: 3e38,
      expected: {
        tflm: invalid("output channel 1", "int32 requantization range"),
        single: invalid("output channel 1", "int32 requantization range"),
        "qnnpack-q31": unsupported("output channel 1", "outside [2^-32, 1)"),
        "qnnpack-precise": unsupported("output channel 1", "outside [2^-32, 1)"),
        "pytorch-qnnpack": [1, 255],
        onnx: [1, 255],
        "pytorch-onednn": invalid("real bias", "output channel 1", "Infinity"),
      },
    },
    {
      weightScale: 1e-45,
      expected: {
        tflm: [1, 0],
        single: [1, 0],
        "qnnpack-q31": unsupported("output channel 1", "outside [2^-32, 1)"),
        "qnnpack-precise": unsupported("output channel 1", "outside [2^-32, 1)"),
        "pytorch-qnnpack": invalid("multiplier", "output channel 1", "is 0"),
        onnx: invalid("multiplier", "output channel 1", "is 0"),
        "pytorch-onednn": invalid("inverse weight scale", "output channel 1", "Infinity"),
      },
    },
  ];
  for (const { weightScale, expected } of cases) {
    for (const name of SCHEME_NAMES) {
      const model = conv1x1Model(name, int32Bias([0, 1000]), weightScale);
      const outcome = expected[name];
      if ("error" in outcome) expectError(() => new Interpreter(model), outcome.error, ...outcome.fragments);
      else assert.equal(runConv(model, 255), outcome, `${name}, weight scale ${weightScale}`);
    }
  }
});

test.run();
