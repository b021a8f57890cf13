// The TFLite writer against the runtime's own parser: every field written
// must read back unchanged, and real TFLM models re-written from their
// parsed structure must still produce TFLM's golden outputs.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Interpreter } from "../../runtime/interpreter.js";
import { ModelDef, OperatorDef, parseModel } from "../../runtime/model.js";
import { FlatBufferReader } from "../../runtime/flatbuffer.js";
import { BUILTIN_OPERATOR_NAMES, BUILTIN_OPTIONS_NAMES } from "../../runtime/schema/names.js";
import {
  readConv2DOptions,
  readDepthwiseConv2DOptions,
  readFullyConnectedOptions,
  readPool2DOptions,
  readReshapeOptions,
  readSoftmaxOptions,
} from "../../runtime/schema/options.js";
import { tensorTypeName } from "../../runtime/tensor_types.js";
import { ModelSpec, ModelSpecError, OperatorSpec, OptionsSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { asInt8, readFixture, tflmModel } from "../fixtures.js";

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
}

function int64Bytes(values: bigint[]): Uint8Array {
  return bytesOf(new BigInt64Array(values));
}

/** Constant bytes of a parsed tensor, or undefined for a tensor without data. */
function tensorData(model: ModelDef, index: number): Uint8Array | undefined {
  const tensor = model.tensors[index];
  if (tensor.dataOffset < 0) return undefined;
  return model.reader.bytes.subarray(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
}

// A model that uses every field the writer emits. It is never run, so its
// operators only need to be well formed, not meaningful.
const FEATURE_TENSORS: TensorSpec[] = [
  { name: "input", type: "int8", shape: [1, 5, 5, 3], scale: [0.0123], zeroPoint: [-7] },
  {
    name: "conv/weights",
    type: "int8",
    shape: [4, 3, 3, 3],
    data: bytesOf(Int8Array.from({ length: 108 }, (_, i) => ((i * 37) % 255) - 127)),
    scale: [0.01, 0.02, 0.003, 0.045],
    zeroPoint: [0, 0, 0, 0],
    quantizedDimension: 0,
  },
  { name: "conv/bias", type: "int32", shape: [4], data: bytesOf(Int32Array.from([-70000, 3, 0, 2 ** 31 - 1])), scale: [1e-4, 2e-4, 3e-5, 4.5e-4] },
  { name: "conv/output", type: "int8", shape: [1, 5, 5, 4], scale: [0.05], zeroPoint: [12] },
  {
    name: "depthwise/weights",
    type: "int8",
    shape: [1, 3, 3, 8],
    data: bytesOf(Int8Array.from({ length: 72 }, (_, i) => (i % 2 === 0 ? i : -i))),
    scale: Array.from({ length: 8 }, (_, c) => 0.001 * (c + 1)),
    quantizedDimension: 3,
  },
  { name: "depthwise/output", type: "int8", shape: [1, 3, 3, 8], scale: [0.5], zeroPoint: [-128] },
  { name: "shape", type: "int32", shape: [2], data: bytesOf(Int32Array.from([1, 72])) },
  { name: "reshape/output", type: "int8", shape: [1, 72], scale: [0.5], zeroPoint: [-128] },
  { name: "fc/weights", type: "int8", shape: [10, 72], data: new Uint8Array(720).fill(3), scale: [0.02] },
  { name: "fc/output", type: "int8", shape: [1, 10], scale: [0.25], zeroPoint: [5] },
  { name: "softmax/output", type: "int8", shape: [1, 10], scale: [1 / 256], zeroPoint: [-128] },
  { name: "state", type: "int16", shape: [1, 10], scale: [3.0517578125e-5], zeroPoint: [0], isVariable: true },
  { name: "float constant", type: "float32", shape: [3], data: bytesOf(Float32Array.from([1.5, -0.25, 1e-3])) },
  { name: "int64 constant", type: "int64", shape: [2], data: int64Bytes([-(2n ** 40n), 5n]) },
  { name: "uint8 tensor", type: "uint8", shape: [2, 2], scale: [0.1], zeroPoint: [128] },
  { name: "flags", type: "bool", shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { name: "pool/output", type: "int8", shape: [1, 2, 2, 4], scale: [0.05], zeroPoint: [12] },
  { name: "custom/output", type: "int8", shape: [1, 10], scale: [0.25], zeroPoint: [5] },
  { name: "dilate/output", type: "int8", shape: [1, 10], scale: [0.25], zeroPoint: [5] },
  { name: "unquantized intermediate", type: "int16", shape: [10] },
  { name: "empty constant", type: "int8", shape: [0], data: new Uint8Array(0) },
];

const FEATURE_OPERATORS: OperatorSpec[] = [
  {
    op: "CONV_2D",
    version: 3,
    inputs: [0, 1, 2],
    outputs: [3],
    options: {
      type: "Conv2DOptions",
      fields: { padding: "SAME", stride_w: 1, stride_h: 1, fused_activation_function: "RELU6", dilation_w_factor: 2, dilation_h_factor: 1 },
    },
  },
  {
    op: "DEPTHWISE_CONV_2D",
    version: 2,
    inputs: [3, 4, -1],
    outputs: [5],
    options: {
      type: "DepthwiseConv2DOptions",
      fields: { padding: 1, stride_w: 2, stride_h: 3, depth_multiplier: 2, fused_activation_function: "RELU", dilation_h_factor: 4 },
    },
  },
  { op: "RESHAPE", inputs: [5, 6], outputs: [7], options: { type: "ReshapeOptions", fields: { new_shape: [1, -1] } } },
  {
    op: "FULLY_CONNECTED",
    version: 4,
    inputs: [7, 8, -1],
    outputs: [9],
    intermediates: [19],
    options: { type: "FullyConnectedOptions", fields: { fused_activation_function: "RELU_N1_TO_1", keep_num_dims: true } },
  },
  { op: "SOFTMAX", inputs: [9], outputs: [10], options: { type: "SoftmaxOptions", fields: { beta: 0.75 } } },
  {
    op: "AVERAGE_POOL_2D",
    inputs: [3],
    outputs: [16],
    options: {
      type: "Pool2DOptions",
      fields: { padding: "VALID", stride_w: 2, stride_h: 3, filter_width: 3, filter_height: 2, fused_activation_function: "RELU" },
    },
  },
  { op: "CONV_2D", version: 3, inputs: [0, 1, 2], outputs: [3], options: { type: "Conv2DOptions", fields: { stride_w: 1, stride_h: 1 } } },
  { op: "CUSTOM", customCode: "MY_OP", version: 2, inputs: [9, 11], outputs: [17] },
  { op: "DILATE", inputs: [9, 12, 13, 15, 20], outputs: [18] },
  { op: "FULLY_CONNECTED", inputs: [7, 8], outputs: [9] },
];

const FEATURE_MODEL: ModelSpec = {
  tensors: FEATURE_TENSORS,
  operators: FEATURE_OPERATORS,
  inputs: [0, 14],
  outputs: [10, 17, 18],
  description: "writer round trip, ünïcode",
  subgraphName: "main",
  metadata: {
    min_runtime_version: new TextEncoder().encode("1.14.0\0\0\0\0\0\0\0\0\0\0"),
    odd_sized: Uint8Array.from([1, 2, 3]),
  },
};

test("round trip: tensors", () => {
  const model = parseModel(writeModel(FEATURE_MODEL));
  assert.is(model.tensors.length, FEATURE_TENSORS.length);
  FEATURE_TENSORS.forEach((spec, index) => {
    const tensor = model.tensors[index];
    const what = `tensor ${index} "${spec.name}"`;
    assert.is(tensor.name, spec.name, `${what} name`);
    assert.is(tensorTypeName(tensor.type), spec.type, `${what} type`);
    assert.equal(tensor.shape, spec.shape, `${what} shape`);
    assert.is(tensor.isVariable, spec.isVariable === true, `${what} is_variable`);
    const data = tensorData(model, index);
    if (spec.data === undefined || spec.data.length === 0) {
      assert.is(data, undefined, `${what} has no data`);
    } else {
      assert.equal(Array.from(data ?? []), Array.from(spec.data), `${what} data`);
      assert.is(tensor.dataOffset % 16, 0, `${what} data is 16-byte aligned`);
    }
    const scales = (spec.scale ?? []).map((s) => Math.fround(s));
    assert.equal(Array.from(tensor.scale), scales, `${what} scale (as float32)`);
    assert.equal(Array.from(tensor.zeroPoint), spec.zeroPoint ?? scales.map(() => 0), `${what} zero point`);
    assert.is(tensor.quantizedDimension, spec.quantizedDimension ?? 0, `${what} quantized_dimension`);
  });
});

test("round trip: operators and options", () => {
  const model = parseModel(writeModel(FEATURE_MODEL));
  assert.is(model.operators.length, FEATURE_OPERATORS.length);
  FEATURE_OPERATORS.forEach((spec, index) => {
    const op = model.operators[index];
    const what = `operator ${index} (${spec.op})`;
    assert.is(op.name, spec.customCode ?? spec.op, `${what} name`);
    const expectedCode = spec.op === "CUSTOM" ? -1 : BUILTIN_OPERATOR_NAMES.indexOf(spec.op);
    assert.is(op.builtinCode, expectedCode, `${what} builtin code`);
    assert.is(op.version, spec.version ?? 1, `${what} version`);
    assert.equal(op.inputs, spec.inputs, `${what} inputs`);
    assert.equal(op.outputs, spec.outputs, `${what} outputs`);
    assert.equal(op.intermediates, spec.intermediates ?? [], `${what} intermediates`);
    assert.is(op.optionsType, spec.options === undefined ? 0 : BUILTIN_OPTIONS_NAMES.indexOf(spec.options.type), `${what} options type`);
    assert.is(op.options === null, spec.options === undefined, `${what} options table presence`);
  });

  const [conv, depthwise, reshape, fullyConnected, softmax, pool, convDefaults] = model.operators;
  assert.equal(readConv2DOptions(model.reader, conv), {
    padding: 0,
    strideWidth: 1,
    strideHeight: 1,
    activation: 3,
    dilationWidth: 2,
    dilationHeight: 1,
  });
  assert.equal(readDepthwiseConv2DOptions(model.reader, depthwise), {
    padding: 1,
    strideWidth: 2,
    strideHeight: 3,
    depthMultiplier: 2,
    activation: 1,
    dilationWidth: 1,
    dilationHeight: 4,
  });
  assert.equal(readReshapeOptions(model.reader, reshape), { newShape: [1, -1] });
  assert.equal(readFullyConnectedOptions(model.reader, fullyConnected), { activation: 2, weightsFormat: 0, keepNumDims: true });
  assert.equal(readSoftmaxOptions(model.reader, softmax), { beta: 0.75 });
  assert.equal(readPool2DOptions(model.reader, pool), {
    padding: 1,
    strideWidth: 2,
    strideHeight: 3,
    filterWidth: 3,
    filterHeight: 2,
    activation: 1,
  });
  assert.equal(readConv2DOptions(model.reader, convDefaults), {
    padding: 0,
    strideWidth: 1,
    strideHeight: 1,
    activation: 0,
    dilationWidth: 1,
    dilationHeight: 1,
  });
});

test("round trip: graph, description and metadata", () => {
  const bytes = writeModel(FEATURE_MODEL);
  const model = parseModel(bytes);
  assert.is(String.fromCharCode(...bytes.subarray(4, 8)), "TFL3", "file identifier");
  assert.is(model.version, 3);
  assert.equal(model.inputs, FEATURE_MODEL.inputs);
  assert.equal(model.outputs, FEATURE_MODEL.outputs);
  assert.is(model.description, FEATURE_MODEL.description);
  const metadata = FEATURE_MODEL.metadata ?? {};
  assert.equal(Array.from(model.metadata.keys()), Object.keys(metadata));
  for (const [name, data] of Object.entries(metadata)) {
    const stored = model.metadata.get(name) ?? new Uint8Array(0);
    assert.equal(Array.from(stored), Array.from(data), `metadata ${name}`);
    assert.is(stored.byteOffset % 16, 0, `metadata ${name} is 16-byte aligned`);
  }
});

// Tables the parser does not expose, read at the schema's field slots.
test("round trip: buffers, operator codes, subgraph name", () => {
  const reader = new FlatBufferReader(writeModel(FEATURE_MODEL));
  const root = reader.root("Model");

  const buffers = reader.fieldVector(root, 4, "buffers", 4);
  assert.ok(buffers !== null, "Model.buffers present");
  const sentinel = reader.vectorTable(buffers, 0, "Buffer 0");
  assert.is(reader.fieldVector(sentinel, 0, "data", 1), null, "buffer 0 is the empty sentinel");
  // The sentinel, 8 non-empty constants, the empty constant and 2 metadata entries.
  assert.is(buffers.length, 12, "one buffer per constant tensor and metadata entry");

  const codes = reader.fieldVector(root, 1, "operator_codes", 4);
  assert.ok(codes !== null, "Model.operator_codes present");
  const expected = [
    // [deprecated_builtin_code, builtin_code, version, custom_code]
    [3, 3, 3, ""],
    [4, 4, 2, ""],
    [22, 22, 1, ""],
    [9, 9, 4, ""],
    [25, 25, 1, ""],
    [1, 1, 1, ""],
    [32, 32, 2, "MY_OP"],
    [127, 203, 1, ""],
    [9, 9, 1, ""],
  ];
  assert.is(codes.length, expected.length, "one operator code per distinct operator and version");
  expected.forEach(([deprecatedCode, builtinCode, version, customCode], i) => {
    const table = reader.vectorTable(codes, i, `OperatorCode ${i}`);
    assert.is(reader.fieldInt8(table, 0, "deprecated_builtin_code", 0), deprecatedCode, `OperatorCode ${i} deprecated_builtin_code`);
    assert.is(reader.fieldInt32(table, 3, "builtin_code", 0), builtinCode, `OperatorCode ${i} builtin_code`);
    assert.is(reader.fieldInt32(table, 2, "version", 1), version, `OperatorCode ${i} version`);
    assert.is(reader.fieldString(table, 1, "custom_code"), customCode, `OperatorCode ${i} custom_code`);
  });

  const subgraphs = reader.fieldVector(root, 2, "subgraphs", 4);
  assert.ok(subgraphs !== null, "Model.subgraphs present");
  assert.is(subgraphs.length, 1, "one subgraph");
  const subgraph = reader.vectorTable(subgraphs, 0, "SubGraph 0");
  assert.is(reader.fieldString(subgraph, 4, "name"), "main");
});

test("round trip: schema defaults omitted", () => {
  const model = parseModel(
    writeModel({
      tensors: [
        { name: "in", type: "int8", shape: [1, 4, 4, 1], scale: [1], zeroPoint: [0] },
        { name: "out", type: "int8", shape: [1, 4, 4, 1], scale: [1], zeroPoint: [0] },
      ],
      operators: [
        { op: "MAX_POOL_2D", inputs: [0], outputs: [1], options: { type: "Pool2DOptions", fields: { padding: "SAME" } } },
        { op: "ADD", inputs: [0, 0], outputs: [1], options: { type: "AddOptions", fields: { pot_scale_int16: true } } },
        { op: "ADD", inputs: [0, 0], outputs: [1], options: { type: "AddOptions", fields: { pot_scale_int16: false } } },
      ],
      inputs: [0],
      outputs: [1],
    }),
  );
  const [pool, addDefault, addFalse] = model.operators;
  assert.ok(pool.options !== null, "Pool2DOptions table written");
  // padding SAME is 0, the schema default, so the builder leaves the field out.
  assert.is(model.reader.fieldPosition(pool.options, 0), 0, "padding field absent");
  // pot_scale_int16 defaults to true in the schema.
  assert.ok(addDefault.options !== null, "AddOptions table written");
  assert.is(model.reader.fieldPosition(addDefault.options, 1), 0, "pot_scale_int16 true is absent");
  assert.ok(addFalse.options !== null, "AddOptions table written");
  assert.is(model.reader.fieldBool(addFalse.options, 1, "pot_scale_int16"), false, "pot_scale_int16 false is stored");
  assert.ok(model.reader.fieldPosition(addFalse.options, 1) > 0, "pot_scale_int16 false is present");
  assert.is(model.description, "");
  assert.is(model.metadata.size, 0);
});

test("writer rejects inconsistent specs", () => {
  const input: TensorSpec = { name: "in", type: "int8", shape: [2, 3], scale: [0.5], zeroPoint: [0] };
  const base: ModelSpec = { tensors: [input], operators: [], inputs: [0], outputs: [0] };
  const cases: Array<[string, ModelSpec, RegExp]> = [
    ["data length", { ...base, tensors: [{ ...input, data: new Uint8Array(5) }] }, /5 data bytes.*needs 6/],
    ["zero point count", { ...base, tensors: [{ ...input, zeroPoint: [0, 1] }] }, /1 scales but 2 zero points/],
    ["negative dimension", { ...base, tensors: [{ ...input, shape: [-1, 3] }] }, /non-negative integer/],
    ["graph output index", { ...base, outputs: [1] }, /graph outputs\[0\] is tensor 1/],
    ["unknown operator", { ...base, operators: [{ op: "CONV2D", inputs: [0], outputs: [0] }] }, /"CONV2D" is not a builtin operator/],
    ["custom code missing", { ...base, operators: [{ op: "CUSTOM", inputs: [0], outputs: [0] }] }, /customCode must be given/],
    ["output -1", { ...base, operators: [{ op: "RELU", inputs: [0], outputs: [-1] }] }, /outputs\[0\] is tensor -1/],
    [
      "unknown options type",
      { ...base, operators: [{ op: "CONV_2D", inputs: [0], outputs: [0], options: { type: "Conv3DOptions" } }] },
      /"Conv3DOptions" is not supported by the writer/,
    ],
    [
      "unknown options field",
      { ...base, operators: [{ op: "CONV_2D", inputs: [0], outputs: [0], options: { type: "Conv2DOptions", fields: { stride: 1 } } }] },
      /Conv2DOptions has no field "stride"/,
    ],
    [
      "unknown enum member",
      {
        ...base,
        operators: [{ op: "CONV_2D", inputs: [0], outputs: [0], options: { type: "Conv2DOptions", fields: { padding: "FULL" } } }],
      },
      /padding is "FULL"; expected one of SAME, VALID/,
    ],
    [
      "byte out of range",
      {
        ...base,
        operators: [{ op: "CONV_2D", inputs: [0], outputs: [0], options: { type: "Conv2DOptions", fields: { fused_activation_function: 300 } } }],
      },
      /expected an integer in \[-128, 127\]/,
    ],
  ];
  for (const [label, spec, message] of cases) {
    try {
      writeModel(spec);
      assert.unreachable(`${label}: writeModel accepted the spec`);
    } catch (error) {
      assert.instance(error, ModelSpecError, `${label}: error class`);
      assert.match((error as Error).message, message, `${label}: message`);
    }
  }
});

// Re-writing real models from their parsed structure.

/** Options of a parsed operator in the writer's form, through the runtime's own option readers. */
function optionsSpecOf(model: ModelDef, op: OperatorDef): OptionsSpec | undefined {
  if (op.options === null) return undefined;
  const type = BUILTIN_OPTIONS_NAMES[op.optionsType];
  const reader = model.reader;
  switch (type) {
    case "Conv2DOptions": {
      const o = readConv2DOptions(reader, op);
      return {
        type,
        fields: {
          padding: o.padding,
          stride_w: o.strideWidth,
          stride_h: o.strideHeight,
          fused_activation_function: o.activation,
          dilation_w_factor: o.dilationWidth,
          dilation_h_factor: o.dilationHeight,
        },
      };
    }
    case "DepthwiseConv2DOptions": {
      const o = readDepthwiseConv2DOptions(reader, op);
      return {
        type,
        fields: {
          padding: o.padding,
          stride_w: o.strideWidth,
          stride_h: o.strideHeight,
          depth_multiplier: o.depthMultiplier,
          fused_activation_function: o.activation,
          dilation_w_factor: o.dilationWidth,
          dilation_h_factor: o.dilationHeight,
        },
      };
    }
    case "Pool2DOptions": {
      const o = readPool2DOptions(reader, op);
      return {
        type,
        fields: {
          padding: o.padding,
          stride_w: o.strideWidth,
          stride_h: o.strideHeight,
          filter_width: o.filterWidth,
          filter_height: o.filterHeight,
          fused_activation_function: o.activation,
        },
      };
    }
    case "FullyConnectedOptions": {
      const o = readFullyConnectedOptions(reader, op);
      return { type, fields: { fused_activation_function: o.activation, weights_format: o.weightsFormat, keep_num_dims: o.keepNumDims } };
    }
    case "SoftmaxOptions":
      return { type, fields: { beta: readSoftmaxOptions(reader, op).beta } };
    case "ReshapeOptions": {
      const newShape = readReshapeOptions(reader, op).newShape;
      return { type, fields: newShape === null ? {} : { new_shape: newShape } };
    }
    default:
      throw new Error(`operator ${op.index} (${op.name}) has ${type}, which this test cannot copy`);
  }
}

function specOf(model: ModelDef): ModelSpec {
  const tensors: TensorSpec[] = model.tensors.map((tensor) => ({
    name: tensor.name,
    type: tensorTypeName(tensor.type) as TensorTypeName,
    shape: tensor.shape,
    data: tensorData(model, tensor.index),
    scale: tensor.scale.length > 0 ? Array.from(tensor.scale) : undefined,
    zeroPoint: tensor.scale.length > 0 ? Array.from(tensor.zeroPoint) : undefined,
    quantizedDimension: tensor.quantizedDimension,
    isVariable: tensor.isVariable,
  }));
  const operators: OperatorSpec[] = model.operators.map((op) => ({
    op: op.name,
    version: op.version,
    inputs: op.inputs,
    outputs: op.outputs,
    intermediates: op.intermediates.length > 0 ? op.intermediates : undefined,
    options: optionsSpecOf(model, op),
  }));
  return {
    tensors,
    operators,
    inputs: model.inputs,
    outputs: model.outputs,
    description: model.description,
    metadata: Object.fromEntries(model.metadata),
  };
}

/** Reduces a parsed model to comparable values, leaving out byte positions, which differ between files. */
function structureOf(model: ModelDef): unknown {
  return {
    version: model.version,
    description: model.description,
    inputs: model.inputs,
    outputs: model.outputs,
    tensors: model.tensors.map(({ dataOffset, ...rest }) => ({ ...rest, data: Array.from(tensorData(model, rest.index) ?? []) })),
    operators: model.operators.map(({ options, ...rest }) => ({ ...rest, fields: optionsSpecOf(model, { ...rest, options }) })),
    metadata: Array.from(model.metadata, ([name, data]) => [name, Array.from(data)]),
  };
}

for (const name of ["hello_world_int8", "micro_speech_quantized", "person_detect"]) {
  test(`re-written ${name} keeps structure and outputs`, () => {
    const entry = tflmModel(name);
    const original = readFixture(entry.model);
    const rewritten = writeModel(specOf(parseModel(original)));
    assert.equal(structureOf(parseModel(rewritten)), structureOf(parseModel(original)), `${name} parsed structure`);

    const before = new Interpreter(original);
    const after = new Interpreter(rewritten);
    for (const c of entry.cases) {
      c.inputs.forEach((path, i) => {
        before.inputs[i].bytes.set(readFixture(path));
        after.inputs[i].bytes.set(readFixture(path));
      });
      before.invoke();
      after.invoke();
      c.outputs.forEach((path, i) => {
        assert.equal(asInt8(after.outputs[i].bytes), asInt8(before.outputs[i].bytes), `${name} ${c.case} output ${i} equals the original's`);
        assert.equal(asInt8(after.outputs[i].bytes), asInt8(readFixture(path)), `${name} ${c.case} output ${i} equals TFLM's`);
      });
    }
  });
}

test.run();
