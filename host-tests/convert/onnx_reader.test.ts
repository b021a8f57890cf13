// Reading .onnx files with the converter's protobuf schema. The digits
// models exported by torch.onnx (PyTorch 1.13, opset 13) must decode to the
// op counts and tensors that the fixture generator recorded, and tensors
// must read the same from raw_data and from the typed repeated fields.

import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { foldConstants } from "../../tools/convert/fold_constants.js";
import { OnnxDecodeError, OnnxModelError } from "../../tools/convert/graph.js";
import { readOnnxGraph, tensorFromMessage } from "../../tools/convert/onnx_graph.js";
import { TensorMessage, decodeOnnxModel, encodeOnnxModel } from "../../tools/convert/onnx_proto.js";
import { DIGITS, DIGITS_VARIANTS, digitsModel, float32FromHex, readBytes, readJson } from "./onnx_fixtures.js";

interface Summary {
  variants: Array<{ variant: string; onnx: { op_counts: Record<string, number>; opset: number } }>;
}

const summary = readJson<Summary>(resolve(DIGITS, "summary.json"));

for (const { variant } of DIGITS_VARIANTS) {
  test(`digits ${variant}: op counts match summary.json`, () => {
    const model = decodeOnnxModel(readBytes(resolve(DIGITS, `${variant}.onnx`)));
    const counts: Record<string, number> = {};
    for (const node of model.graph?.node ?? []) counts[node.op_type] = (counts[node.op_type] ?? 0) + 1;
    const expected = summary.variants.find((v) => v.variant === variant)!.onnx;
    assert.equal(counts, expected.op_counts);
    assert.equal(model.opset_import.map((opset) => [opset.domain, Number(opset.version)]), [["", expected.opset]]);
  });

  test(`digits ${variant}: graph input and output`, () => {
    const graph = readOnnxGraph(readBytes(resolve(DIGITS, `${variant}.onnx`)));
    assert.equal(graph.inputs, [{ name: "input", type: "float32", shape: ["N", 1, 8, 8] }]);
    assert.equal(graph.outputs, [{ name: "logits", type: "float32", shape: ["N", 10] }]);
    assert.is(graph.constants.size, 0, "torch.onnx writes constants as Constant nodes, not initializers");
  });

  test(`digits ${variant}: weight constants equal model.json`, () => {
    const graph = readOnnxGraph(readBytes(resolve(DIGITS, `${variant}.onnx`)));
    foldConstants(graph);
    const layers = digitsModel(variant).graph.filter((layer) => layer.weight !== undefined);
    // The weight DequantizeLinear nodes read the int8 constants in layer order.
    const weightNodes = graph.nodes.filter((node) => node.opType === "DequantizeLinear" && graph.constants.get(node.inputs[0])?.type === "int8");
    assert.is(weightNodes.length, layers.length);
    weightNodes.forEach((node, i) => {
      const weight = layers[i].weight!;
      const values = graph.constants.get(node.inputs[0])!;
      assert.equal(values.dims, weight.shape, `${layers[i].name} shape`);
      assert.equal(Array.from(values.values), weight.values, `${layers[i].name} values`);
      const scales = Array.from(graph.constants.get(node.inputs[1])!.values);
      const expectedScales = (weight.scales_f32_hex ?? [weight.scale_f32_hex!]).map(float32FromHex);
      assert.equal(scales, expectedScales, `${layers[i].name} scales`);
    });
  });
}

test("constants fold: ConstantOfShape and Cast give int32 zeros", () => {
  const graph = readOnnxGraph(readBytes(resolve(DIGITS, "qnnpack-qnnpack.onnx")));
  foldConstants(graph);
  assert.equal(
    graph.nodes.map((node) => node.opType).filter((op) => op === "Constant" || op === "ConstantOfShape"),
    [],
  );
  // Each bias DequantizeLinear reads a zero point built as Cast<int32>(ConstantOfShape([1])).
  const biasZeroPoints = graph.nodes
    .filter((node) => node.opType === "DequantizeLinear" && graph.constants.get(node.inputs[0])?.type === "int32")
    .map((node) => graph.constants.get(node.inputs[2])!);
  assert.is(biasZeroPoints.length, 3);
  for (const zeroPoint of biasZeroPoints) {
    assert.is(zeroPoint.type, "int32");
    assert.equal(zeroPoint.dims, [1]);
    assert.equal(Array.from(zeroPoint.values), [0]);
  }
});

function tensorMessage(fields: Partial<TensorMessage> & { dims: string[]; data_type: number }): TensorMessage {
  return {
    float_data: [],
    int32_data: [],
    string_data: [],
    int64_data: [],
    name: "t",
    raw_data: new Uint8Array(0),
    double_data: [],
    uint64_data: [],
    external_data: [],
    data_location: 0,
    ...fields,
  };
}

test("tensor data: typed fields and raw_data agree", () => {
  const floats = [1.5, -0.25, 3.4028234663852886e38];
  const raw = new Uint8Array(new Float32Array(floats).buffer);
  const fromRaw = tensorFromMessage(tensorMessage({ dims: ["3"], data_type: 1, raw_data: raw }), "raw");
  const fromField = tensorFromMessage(tensorMessage({ dims: ["3"], data_type: 1, float_data: floats }), "field");
  assert.equal(Array.from(fromRaw.values), floats);
  assert.equal(Array.from(fromField.values), floats);

  // uint8 and int8 are stored in int32_data when raw_data is empty.
  assert.equal(Array.from(tensorFromMessage(tensorMessage({ dims: ["2"], data_type: 2, int32_data: [0, 255] }), "u8").values), [0, 255]);
  assert.equal(Array.from(tensorFromMessage(tensorMessage({ dims: ["2"], data_type: 3, int32_data: [-128, 127] }), "i8").values), [-128, 127]);
  assert.equal(Array.from(tensorFromMessage(tensorMessage({ dims: ["2"], data_type: 7, int64_data: ["-5", "9007199254740991"] }), "i64").values), [-5, 2 ** 53 - 1]);
  const int64Raw = new Uint8Array(new BigInt64Array([-2n, 70000n]).buffer);
  assert.equal(Array.from(tensorFromMessage(tensorMessage({ dims: ["2"], data_type: 7, raw_data: int64Raw }), "i64 raw").values), [-2, 70000]);
});

test("tensor data: invalid sizes and ranges rejected", () => {
  assert.throws(() => tensorFromMessage(tensorMessage({ dims: ["3"], data_type: 1, raw_data: new Uint8Array(8) }), "short"), /8 raw_data bytes, but 3 float32 elements need 12/);
  assert.throws(() => tensorFromMessage(tensorMessage({ dims: ["2"], data_type: 6, int32_data: [1] }), "few"), /1 values for shape \[2\]/);
  const huge = new Uint8Array(new BigInt64Array([2n ** 60n]).buffer);
  assert.throws(() => tensorFromMessage(tensorMessage({ dims: ["1"], data_type: 7, raw_data: huge }), "huge"), /outside the range/);
  assert.throws(() => tensorFromMessage(tensorMessage({ dims: ["1"], data_type: 10, int32_data: [1] }), "half"), /float16/);
  assert.throws(() => tensorFromMessage(tensorMessage({ dims: ["1"], data_type: 1, data_location: 1 }), "external"), /external file/);
});

test("model: encode and decode round trip", () => {
  const bytes = encodeOnnxModel({
    ir_version: 8,
    opset_import: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: [{ op_type: "Relu", input: ["x"], output: ["y"], name: "relu", attribute: [{ name: "k", type: 7, ints: [1, -2] }] }],
      input: [{ name: "x", type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: "N" }, { dim_value: 4 }] } } } }],
      output: [{ name: "y", type: { tensor_type: { elem_type: 1 } } }],
      initializer: [{ name: "w", dims: [2], data_type: 6, int32_data: [7, -7] }],
    },
  });
  const graph = readOnnxGraph(bytes);
  assert.equal(graph.opsets, new Map([["", 13]]));
  assert.equal(graph.inputs, [{ name: "x", type: "float32", shape: ["N", 4] }]);
  assert.equal(graph.outputs, [{ name: "y", type: "float32", shape: undefined }]);
  assert.equal(Array.from(graph.constants.get("w")!.values), [7, -7]);
  assert.equal(graph.nodes[0].attributes.get("k"), { type: "ints", value: [1, -2] });
});

test("model: bytes that are not protobuf rejected", () => {
  assert.throws(() => readOnnxGraph(new TextEncoder().encode("# not a model\n")), (error: unknown) => error instanceof OnnxDecodeError && /not a valid ONNX model/.test(String(error)));
  assert.throws(() => readOnnxGraph(new Uint8Array(0)), (error: unknown) => error instanceof OnnxModelError && /no graph/.test(String(error)));
});

test.run();
