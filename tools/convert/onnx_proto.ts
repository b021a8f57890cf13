// Decoding of ONNX model files (.onnx, a serialized ModelProto) with
// protobufjs. The schema below declares only the messages and fields the
// converter reads; field numbers are those of onnx/onnx.proto (IR version 8
// and later), and fields it does not declare are skipped by the decoder.

import protobuf from "protobufjs";
import { OnnxDecodeError } from "./graph.js";

/** The subset of onnx.proto the converter reads, in proto3 syntax. */
const ONNX_SCHEMA = `
syntax = "proto3";
package onnx;

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4;
  repeated int32 int32_data = 5;
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7;
  string name = 8;
  bytes raw_data = 9;
  repeated double double_data = 10;
  repeated uint64 uint64_data = 11;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
}

message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  int32 type = 20;
  string ref_attr_name = 21;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

// Plain-object forms of the messages, as decodeOnnxModel returns them. int64
// fields arrive as decimal strings, bytes fields as Uint8Array, every
// repeated field as an array (empty when absent) and an absent message
// field as null.

export interface OperatorSetIdMessage {
  domain: string;
  version: string;
}

export interface TensorMessage {
  dims: string[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: string[];
  name: string;
  raw_data: Uint8Array;
  double_data: number[];
  uint64_data: string[];
  external_data: Array<{ key: string; value: string }>;
  data_location: number;
}

export interface AttributeMessage {
  name: string;
  f: number;
  i: string;
  s: Uint8Array;
  t?: TensorMessage | null;
  g?: GraphMessage | null;
  floats: number[];
  ints: string[];
  strings: Uint8Array[];
  tensors: TensorMessage[];
  graphs: GraphMessage[];
  type: number;
  ref_attr_name: string;
}

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  attribute: AttributeMessage[];
  domain: string;
}

export interface DimensionMessage {
  dim_value?: string | null;
  dim_param?: string | null;
}

export interface ValueInfoMessage {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim: DimensionMessage[] } | null } | null } | null;
}

export interface GraphMessage {
  node: NodeMessage[];
  name: string;
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
  value_info: ValueInfoMessage[];
}

export interface ModelMessage {
  ir_version: string;
  producer_name: string;
  producer_version: string;
  graph?: GraphMessage | null;
  opset_import: OperatorSetIdMessage[];
}

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SCHEMA, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

/**
 * Decodes the bytes of an .onnx file. Scalar fields that are absent take
 * their proto3 defaults (0, "", empty bytes), so callers need not test for
 * undefined except on message fields. Throws OnnxDecodeError when the bytes
 * are not a well-formed protobuf message.
 */
export function decodeOnnxModel(bytes: Uint8Array): ModelMessage {
  const type = onnxModelType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OnnxDecodeError(`the file is not a valid ONNX model (protobuf decoding failed: ${reason}); pass an .onnx file`);
  }
  return type.toObject(message, { longs: String, defaults: true, arrays: true }) as ModelMessage;
}

/** Encodes a ModelProto given in the plain-object form above; used by tests to build small models. */
export function encodeOnnxModel(model: unknown): Uint8Array {
  const type = onnxModelType();
  return type.encode(type.fromObject(model as Record<string, unknown>)).finish();
}
