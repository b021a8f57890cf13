// The quantized digits CNN (PyTorch 1.13 eager-mode static quantization,
// exported by torch.onnx at opset 13 in QDQ form), converted from each
// variant's .onnx with the scheme of its engine. The tests compare it with
// the integers PyTorch computed: the quantized input, the conv1, conv2,
// flatten and fc outputs of the first k test images, and the int logits of
// all 360 test images.
//
// torch.onnx 1.13 exports each bias as int32 trunc(b / fl(sx*sw)), rounded
// toward zero, while PyTorch's qnnpack engine rounds that quotient to
// nearest and its onednn engine adds the float bias b. So the model is
// converted twice: with PyTorch's float bias (the floatBias option, values
// from __model.json), where every integer must be exact, and from the .onnx
// alone, where each int logit must lie within 1 of PyTorch's and every
// prediction must be PyTorch's.

import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { OperatorDef, TensorDef, parseModel } from "../../runtime/model.js";
import { readConv2DOptions, readFullyConnectedOptions } from "../../runtime/schema/options.js";
import { TensorType } from "../../runtime/tensor_types.js";
import { ConstantTensor, GraphNode } from "../../tools/convert/graph.js";
import { readOnnxGraph } from "../../tools/convert/onnx_graph.js";
import {
  BIASED_LAYERS,
  CLASSES,
  IMAGE_PIXELS,
  accumulatorScales,
  convertVariant,
  digitsLayers,
  findLayers,
  floatBiasOf,
  imageInput,
  scalesOf,
} from "./digits_model.js";
import { DIGITS, DIGITS_VARIANTS, DigitsLayer, DigitsTest, QuantizedJson, digitsTest, float32FromHex, nchwToNhwc, nhwcToNchw, readBytes } from "./onnx_fixtures.js";

/** TFLite ActivationFunctionType values. */
const ACTIVATION_NONE = 0;
const ACTIVATION_RELU = 1;

/** ONNX node of each biased layer in the exported files. */
const ONNX_LAYER_NODES: Readonly<Record<string, string>> = { conv1: "/conv1/Conv", conv2: "/conv2/Conv", fc: "/fc/Gemm" };

/** Layers whose outputs __test.json gives for the first k images, in graph order. */
const STAGES = ["conv1", "conv2", "flatten", "fc"] as const;
type Stage = (typeof STAGES)[number];

function zeroPointsOf(tensor: QuantizedJson): number[] {
  return tensor.zero_points ?? [tensor.zero_point!];
}

function constantValues(model: Uint8Array, tensor: TensorDef): number[] {
  const view = new DataView(model.buffer, model.byteOffset + tensor.dataOffset, tensor.byteLength);
  const values: number[] = [];
  for (let i = 0; i < tensor.elementCount; i++) {
    if (tensor.type === TensorType.INT8) values.push(view.getInt8(i));
    else if (tensor.type === TensorType.INT32) values.push(view.getInt32(4 * i, true));
    else if (tensor.type === TensorType.FLOAT32) values.push(view.getFloat32(4 * i, true));
    else throw new Error(`tensor ${tensor.name} has a type this test does not read`);
  }
  return values;
}

/** Weights stored OHWI, reordered to PyTorch's OIHW. */
function ohwiToOihw(values: readonly number[], [o, h, w, i]: readonly number[]): number[] {
  const result: number[] = [];
  for (let out = 0; out < o; out++) {
    for (let channel = 0; channel < i; channel++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) result.push(values[((out * h + y) * w + x) * i + channel]);
      }
    }
  }
  return result;
}

/** Index of the first maximum, as torch.argmax picks it. */
function argmax(values: ArrayLike<number>, start: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if (values[start + j] > values[start + best]) best = j;
  return best;
}

/** Number of positions where two arrays differ, and the first of them. */
function compareValues(actual: ArrayLike<number>, expected: ArrayLike<number>): { count: number; first: string } {
  assert.is(actual.length, expected.length, "value count");
  let count = 0;
  let first = "none";
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue;
    if (count === 0) first = `index ${i}: ${actual[i]}, expected ${expected[i]}`;
    count++;
  }
  return { count, first };
}

/** Outputs of a converted model on every test image, in the fixture's order (NCHW for conv layers). */
interface RunResult {
  /** QUANTIZE output of every image. */
  quantized: Uint8Array;
  /** int logits of every image. */
  logits: Uint8Array;
  /** Float graph output of every image. */
  floatLogits: Float32Array;
  /** Output of each stage for the first k images, each computed from PyTorch's own input of that stage. */
  layers: Record<Stage, number[]>;
}

/**
 * Runs every test image through the model. Intermediate tensors are read
 * right after their operator, because later operators reuse their arena
 * memory.
 */
function runVariant(bytes: Uint8Array, testData: DigitsTest): RunResult {
  const interpreter = new Interpreter(bytes);
  const layers = findLayers(interpreter.model.operators);
  const images = testData.labels.length;
  const k = testData.layer_outputs_first_k.k;
  const goldens = testData.layer_outputs_first_k;
  const result: RunResult = {
    quantized: new Uint8Array(images * IMAGE_PIXELS),
    logits: new Uint8Array(images * CLASSES),
    floatLogits: new Float32Array(images * CLASSES),
    layers: { conv1: [], conv2: [], flatten: [], fc: [] },
  };

  // Each stage gets PyTorch's input of that layer, written into the tensor the operator before it produced,
  // so that a difference counts once, in the layer that makes it. Stored tensors are NHWC. The flatten is a
  // RESHAPE that keeps conv2's NHWC byte order (the FC weights absorb it), so its values are reordered with
  // conv2's shape too.
  const imageShape = (tensor: QuantizedJson): number[] => [1, ...tensor.shape.slice(1)];
  const inputShape = imageShape(testData.input_quantized);
  const conv1Shape = imageShape(goldens.conv1);
  const conv2Shape = imageShape(goldens.conv2);
  const stages: ReadonlyArray<{ name: Stage; previous: OperatorDef; input: QuantizedJson; storedShape: number[]; outputShape: number[] | undefined }> = [
    { name: "conv1", previous: layers.quantize, input: testData.input_quantized, storedShape: inputShape, outputShape: conv1Shape },
    { name: "conv2", previous: layers.conv1, input: goldens.conv1, storedShape: conv1Shape, outputShape: conv2Shape },
    { name: "flatten", previous: layers.conv2, input: goldens.conv2, storedShape: conv2Shape, outputShape: conv2Shape },
    { name: "fc", previous: layers.flatten, input: goldens.flatten, storedShape: conv2Shape, outputShape: undefined },
  ];
  const operatorOf: Record<Stage, OperatorDef> = { conv1: layers.conv1, conv2: layers.conv2, flatten: layers.flatten, fc: layers.fc };

  for (let image = 0; image < images; image++) {
    const input = imageInput(testData, image);
    if (image < k) {
      for (const { name, previous, input: inputJson, storedShape, outputShape } of stages) {
        const perImage = inputJson.values.length / inputJson.shape[0];
        const stageInput = inputJson.values.slice(image * perImage, (image + 1) * perImage);
        interpreter.tensorBytes(previous.outputs[0]).set(nchwToNhwc(stageInput, storedShape));
        const operator = operatorOf[name];
        for (let index = previous.index + 1; index <= operator.index; index++) interpreter.invokeOperator(index);
        const stored = interpreter.tensorBytes(operator.outputs[0]);
        result.layers[name].push(...(outputShape === undefined ? Array.from(stored) : nhwcToNchw(stored, outputShape)));
      }
    }

    interpreter.setInput(0, input);
    interpreter.invokeUntil(layers.quantize.index + 1);
    result.quantized.set(interpreter.tensorBytes(layers.quantize.outputs[0]), image * IMAGE_PIXELS);
    interpreter.setInput(0, input);
    interpreter.invoke();
    result.logits.set(interpreter.tensorBytes(layers.fc.outputs[0]), image * CLASSES);
    result.floatLogits.set(interpreter.outputs[0].data as Float32Array, image * CLASSES);
  }
  return result;
}

/** Runs `run` once, at the first call, and returns its result or rethrows its error on every call. */
function once<T>(run: () => T): () => T {
  let outcome: { value: T } | { error: unknown } | undefined;
  return () => {
    if (outcome === undefined) {
      try {
        outcome = { value: run() };
      } catch (error) {
        outcome = { error };
      }
    }
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  };
}

/** The int32 bias of a layer as the .onnx stores it: integers, scales and zero points of its DequantizeLinear. */
interface ExportedBias {
  values: number[];
  scales: number[];
  zeroPoints: number[];
}

/** Reads the int32 bias of each biased layer from the .onnx itself: Constant nodes behind the bias DequantizeLinear. */
function exportedBiases(variant: string): Record<string, ExportedBias> {
  const graph = readOnnxGraph(readBytes(resolve(DIGITS, `${variant}.onnx`)));
  const producers = new Map<string, GraphNode>();
  for (const node of graph.nodes) for (const output of node.outputs) producers.set(output, node);
  const tensorOf = (node: GraphNode | undefined, description: string): ConstantTensor => {
    const value = node?.attributes.get("value");
    assert.ok(value?.type === "tensor", `${description} is a constant tensor`);
    return value.value;
  };
  const constant = (name: string, description: string): ConstantTensor => graph.constants.get(name) ?? tensorOf(producers.get(name), description);

  const biases: Record<string, ExportedBias> = {};
  for (const layer of BIASED_LAYERS) {
    const node = graph.nodes.find((entry) => entry.name === ONNX_LAYER_NODES[layer]);
    assert.ok(node !== undefined, `${variant}.onnx has node ${ONNX_LAYER_NODES[layer]}`);
    const dequantize = producers.get(node.inputs[2]);
    assert.is(dequantize?.opType, "DequantizeLinear", `${layer} bias comes from a DequantizeLinear`);
    const values = constant(dequantize!.inputs[0], `${layer} bias`);
    assert.is(values.type, "int32", `${layer} bias type`);

    // torch.onnx writes the zero point as Cast(ConstantOfShape(...)) to int32.
    let zeroPointNode = producers.get(dequantize!.inputs[2]);
    if (zeroPointNode?.opType === "Cast") zeroPointNode = producers.get(zeroPointNode.inputs[0]);
    assert.is(zeroPointNode?.opType, "ConstantOfShape", `${layer} bias zero point`);
    const zeroPoint = tensorOf(zeroPointNode, `${layer} bias zero point`).values[0];

    biases[layer] = {
      values: Array.from(values.values),
      scales: Array.from(constant(dequantize!.inputs[1], `${layer} bias scale`).values),
      zeroPoints: [zeroPoint],
    };
  }
  return biases;
}

for (const { variant, scheme } of DIGITS_VARIANTS) {
  const testData = digitsTest(variant);
  const floatBias = floatBiasOf(variant);
  const { layers: layerJson, quant: quantLayer, inputScales } = digitsLayers(variant);
  const images = testData.labels.length;
  const k = testData.layer_outputs_first_k.k;
  const logitsJson = testData.logits_quantized;
  const withFloatBias = once(() => runVariant(convertVariant(variant, scheme, floatBias), testData));

  test(`digits ${variant}: weights and qparams equal model.json`, () => {
    const bytes = convertVariant(variant, scheme, floatBias);
    const model = parseModel(bytes);
    const layers = findLayers(model.operators);
    const metadata = (name: string) => new TextDecoder().decode(model.metadata.get(name));
    assert.is(metadata("microq_requantization"), scheme);
    assert.is(metadata("microq_memory_format"), "contiguous");

    const quantOutput = model.tensors[layers.quantize.outputs[0]];
    assert.equal([quantOutput.type, [...quantOutput.scale], [...quantOutput.zeroPoint]], [TensorType.UINT8, [inputScales[0]], [quantLayer.attrs.zero_point]]);

    [[layers.conv1, layerJson[0]], [layers.conv2, layerJson[1]], [layers.fc, layerJson[2]]].forEach(([op, layer]) => {
      const [operator, json] = [op as OperatorDef, layer as DigitsLayer];
      const weights = model.tensors[operator.inputs[1]];
      const weightJson = json.weight!;
      let values = constantValues(bytes, weights);
      if (operator.name === "CONV_2D") {
        values = ohwiToOihw(values, weights.shape);
      } else {
        // The flatten of NHWC conv2 output feeds the FC directly, so stored column (h*4 + w)*16 + c is PyTorch column c*16 + h*4 + w.
        const [units, depth] = weights.shape;
        const reordered = new Array<number>(units * depth);
        for (let unit = 0; unit < units; unit++) {
          for (let h = 0; h < 4; h++) {
            for (let w = 0; w < 4; w++) {
              for (let c = 0; c < 16; c++) reordered[unit * depth + c * 16 + h * 4 + w] = values[unit * depth + (h * 4 + w) * 16 + c];
            }
          }
        }
        values = reordered;
      }
      assert.equal(values, weightJson.values, `${json.name} weights`);
      assert.equal([...weights.scale], scalesOf(weightJson), `${json.name} weight scales`);
      assert.equal([...weights.zeroPoint], zeroPointsOf(weightJson), `${json.name} weight zero points`);
      if (weights.scale.length > 1) assert.is(weights.quantizedDimension, 0, `${json.name} per-channel axis`);

      const output = model.tensors[operator.outputs[0]];
      const qparams = json.output_qparams!;
      assert.equal([output.type, [...output.scale], [...output.zeroPoint]], [TensorType.UINT8, [float32FromHex(qparams.scale_f32_hex)], [qparams.zero_point]], `${json.name} output qparams`);
      const activation = operator.name === "CONV_2D" ? readConv2DOptions(model.reader, operator).activation : readFullyConnectedOptions(model.reader, operator).activation;
      assert.is(activation, json.attrs.fused_relu === true ? ACTIVATION_RELU : ACTIVATION_NONE, `${json.name} fused activation`);

      const bias = model.tensors[operator.inputs[2]];
      assert.is(bias.type, TensorType.FLOAT32, `${json.name} bias type`);
      assert.equal(constantValues(bytes, bias), json.bias!.hex.map(float32FromHex), `${json.name} bias is PyTorch's float bias`);
    });
  });

  test(`digits ${variant} float bias: ${images} int logits exact`, () => {
    const run = withFloatBias();
    const input = compareValues(run.quantized, testData.input_quantized.values);
    assert.is(input.count, 0, `quantized inputs that differ from input_quantized (first: ${input.first})`);
    const logits = compareValues(run.logits, logitsJson.values);
    assert.is(logits.count, 0, `int logits that differ from PyTorch's (first: ${logits.first})`);
    const logitScale = float32FromHex(logitsJson.scale_f32_hex!);
    const floatLogits = compareValues(run.floatLogits, logitsJson.values.map((q) => Math.fround((q - logitsJson.zero_point!) * logitScale)));
    assert.is(floatLogits.count, 0, `float logits other than (q - zero point) * scale (first: ${floatLogits.first})`);
  });

  test(`digits ${variant} float bias: layers of first ${k} images exact`, () => {
    const run = withFloatBias();
    for (const stage of STAGES) {
      const golden = testData.layer_outputs_first_k[stage];
      const { count, first } = compareValues(run.layers[stage], golden.values);
      assert.is(count, 0, `${stage}: values that differ from PyTorch's (first: ${first})`);
    }
  });

  test(`digits ${variant}: .onnx bias is truncated`, () => {
    const exported = exportedBiases(variant);
    const bytes = convertVariant(variant, scheme);
    const converted = parseModel(bytes);
    const layers = findLayers(converted.operators);
    const operators = { conv1: layers.conv1, conv2: layers.conv2, fc: layers.fc };
    BIASED_LAYERS.forEach((name, index) => {
      // torch.onnx divides in float32 and casts to int32, which truncates toward zero.
      const scales = accumulatorScales(inputScales[index], layerJson[index]);
      const expected = floatBias[name].map((b, c) => Math.trunc(Math.fround(b / scales[c])));
      const perChannel = layerJson[index].weight!.scales_f32_hex !== undefined;
      assert.equal(exported[name].scales, perChannel ? scales : [scales[0]], `${name} bias scale is fl(sx * sw)`);
      assert.equal(exported[name].zeroPoints, [0], `${name} bias zero point`);
      assert.equal(exported[name].values, expected, `${name} int32 bias is trunc(fl(b / fl(sx * sw)))`);

      // Without a float bias the converter uses these integers: as int32, or as float32 q * fl(sx * sw) for pytorch-onednn.
      const bias = converted.tensors[operators[name].inputs[2]];
      if (scheme === "pytorch-onednn") {
        assert.is(bias.type, TensorType.FLOAT32, `${name} converted bias type`);
        assert.equal(constantValues(bytes, bias), expected.map((q, c) => Math.fround(q * scales[c])), `${name} converted float bias`);
      } else {
        assert.is(bias.type, TensorType.INT32, `${name} converted bias type`);
        assert.equal(constantValues(bytes, bias), expected, `${name} converted int32 bias`);
      }
    });
  });

  // Run while the tests are defined, so that the test name can report how many logits differ.
  const fromOnnx = once(() => runVariant(convertVariant(variant, scheme), testData));
  let summary: string;
  try {
    summary = `${compareValues(fromOnnx().logits, logitsJson.values).count} of ${images * CLASSES} int logits differ`;
  } catch {
    summary = "conversion or run failed";
  }
  test(`digits ${variant} .onnx alone: ${summary}`, () => {
    const run = fromOnnx();
    let maxDifference = 0;
    for (let i = 0; i < run.logits.length; i++) maxDifference = Math.max(maxDifference, Math.abs(run.logits[i] - logitsJson.values[i]));
    assert.ok(maxDifference <= 1, `int logits differ from PyTorch's by up to ${maxDifference}, expected at most 1`);
    const predictions = Array.from({ length: images }, (_, image) => argmax(run.logits, image * CLASSES, CLASSES));
    const mismatch = compareValues(predictions, testData.predictions);
    assert.is(mismatch.count, 0, `predictions that differ from PyTorch's (first: ${mismatch.first})`);
  });
}

test.run();
