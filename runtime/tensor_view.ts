// Typed array views of the interpreter's input and output tensors.

import { TensorDef } from "./model.js";
import { TensorType, tensorTypeName } from "./tensor_types.js";

export type TensorData = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array;

/** An input or output tensor: its data in the arena, with shape and quantization. */
export interface TensorView {
  readonly index: number;
  readonly name: string;
  /** Element type name: "int8", "uint8", "int16", "int32" or "float32". */
  readonly type: string;
  readonly shape: readonly number[];
  /** First (or only) quantization scale, 0 when the tensor is not quantized. */
  readonly scale: number;
  /** First (or only) zero point. */
  readonly zeroPoint: number;
  /** Elements, typed by the tensor type. */
  readonly data: TensorData;
  /** The same memory as raw little-endian bytes. */
  readonly bytes: Uint8Array;
}

export function createTensorView(tensor: TensorDef, buffer: ArrayBufferLike, byteOffset: number): TensorView {
  const bytes = new Uint8Array(buffer, byteOffset, tensor.byteLength);
  const n = tensor.elementCount;
  let data: TensorData;
  switch (tensor.type) {
    case TensorType.INT8:
      data = new Int8Array(buffer, byteOffset, n);
      break;
    case TensorType.INT16:
      data = new Int16Array(buffer, byteOffset, n);
      break;
    case TensorType.INT32:
      data = new Int32Array(buffer, byteOffset, n);
      break;
    case TensorType.FLOAT32:
      data = new Float32Array(buffer, byteOffset, n);
      break;
    default:
      data = bytes;
  }
  return {
    index: tensor.index,
    name: tensor.name,
    type: tensorTypeName(tensor.type),
    shape: tensor.shape,
    scale: tensor.scale.length > 0 ? tensor.scale[0] : 0,
    zeroPoint: tensor.zeroPoint.length > 0 ? tensor.zeroPoint[0] : 0,
    data,
    bytes,
  };
}
