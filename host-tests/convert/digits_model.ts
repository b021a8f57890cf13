// The converted digits model and its fixture data, shared by the Node and
// XS tests: conversion, test-image inputs and the converted layers. A model
// is converted from the .onnx alone, or with PyTorch's float bias from
// __model.json, which the .onnx files do not contain exactly.

import { resolve } from "node:path";
import * as assert from "uvu/assert";
import { OperatorDef } from "../../runtime/model.js";
import { convertOnnxModel } from "../../tools/convert/convert.js";
import { DIGITS, DigitsLayer, DigitsTest, QuantizedJson, digitsModel, float32FromHex, readBytes } from "./onnx_fixtures.js";

export const IMAGE_PIXELS = 64;
export const CLASSES = 10;

/** Names of the digits layers with a bias, which are also their PyTorch module names. */
export const BIASED_LAYERS = ["conv1", "conv2", "fc"] as const;

/** Converts a variant's .onnx; with `floatBias`, those layers get PyTorch's float bias. */
export function convertVariant(variant: string, scheme: string, floatBias?: Record<string, number[]>): Uint8Array {
  return convertOnnxModel(readBytes(resolve(DIGITS, `${variant}.onnx`)), { scheme, floatBias });
}

/** PyTorch's float bias of conv1, conv2 and fc, by layer name: the bias `values` of the variant's __model.json. */
export function floatBiasOf(variant: string): Record<string, number[]> {
  const graph = digitsModel(variant).graph;
  const biases: Record<string, number[]> = {};
  for (const name of BIASED_LAYERS) {
    const layer = graph.find((entry) => entry.name === name);
    assert.ok(layer?.bias !== undefined, `${variant}__model.json has a layer "${name}" with a bias`);
    biases[name] = layer.bias.values;
  }
  return biases;
}

/** Returns the input of test image `image`: float32 pixel / 16, as the model was trained. */
export function imageInput(test: DigitsTest, image: number): Float32Array {
  const input = new Float32Array(IMAGE_PIXELS);
  for (let i = 0; i < IMAGE_PIXELS; i++) input[i] = Math.fround(test.pixels.values[image * IMAGE_PIXELS + i] / 16);
  return input;
}

export interface Layers {
  quantize: OperatorDef;
  conv1: OperatorDef;
  conv2: OperatorDef;
  /** The RESHAPE of the flatten, which keeps conv2's NHWC byte order (the FC weights absorb it). */
  flatten: OperatorDef;
  fc: OperatorDef;
}

/** Finds the converted model's layers by operator type, in graph order. */
export function findLayers(operators: readonly OperatorDef[]): Layers {
  const convs = operators.filter((op) => op.name === "CONV_2D");
  const reshapes = operators.filter((op) => op.name === "RESHAPE");
  const fcs = operators.filter((op) => op.name === "FULLY_CONNECTED");
  assert.is(convs.length, 2, "two CONV_2D operators");
  assert.is(reshapes.length, 1, "one RESHAPE operator");
  assert.is(fcs.length, 1, "one FULLY_CONNECTED operator");
  assert.is(operators[0].name, "QUANTIZE", "the float input is quantized first");
  return { quantize: operators[0], conv1: convs[0], conv2: convs[1], flatten: reshapes[0], fc: fcs[0] };
}

/** Scales of a PyTorch quantized tensor as float32 values, one or one per channel. */
export function scalesOf(tensor: QuantizedJson): number[] {
  return tensor.scales_f32_hex !== undefined ? tensor.scales_f32_hex.map(float32FromHex) : [float32FromHex(tensor.scale_f32_hex!)];
}

/** Accumulator scale fl(sx * sw[c]) of each output channel. */
export function accumulatorScales(inputScale: number, layer: DigitsLayer): number[] {
  const weightScales = scalesOf(layer.weight!);
  const channels = layer.bias!.values.length;
  return Array.from({ length: channels }, (_, c) => Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : c]));
}

/** Returns the conv1, conv2 and fc layers of a variant, its quant layer, and the float32 input scale of each layer. */
export function digitsLayers(variant: string): { layers: DigitsLayer[]; quant: DigitsLayer; inputScales: number[] } {
  const graph = digitsModel(variant).graph;
  const quant = graph.find((layer) => layer.name === "quant")!;
  const layers = ["conv1", "conv2", "fc"].map((name) => graph.find((layer) => layer.name === name)!);
  const inputScales = [
    float32FromHex(quant.attrs.scale_f32_hex as string),
    float32FromHex(layers[0].output_qparams!.scale_f32_hex),
    float32FromHex(layers[1].output_qparams!.scale_f32_hex),
  ];
  return { layers, quant, inputScales };
}
