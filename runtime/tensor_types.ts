// TensorFlow Lite tensor element types (the schema's TensorType enum) and
// their sizes.

export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
  COMPLEX128: 11,
  UINT64: 12,
  RESOURCE: 13,
  VARIANT: 14,
  UINT32: 15,
  UINT16: 16,
  INT4: 17,
  BFLOAT16: 18,
} as const;

const TYPE_NAMES = [
  "float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16",
  "complex64", "int8", "float64", "complex128", "uint64", "resource",
  "variant", "uint32", "uint16", "int4", "bfloat16",
];

/** Bytes per element; 0 for types without a fixed size. */
const TYPE_BYTES = [4, 2, 4, 1, 8, 0, 1, 2, 8, 1, 8, 16, 8, 0, 0, 4, 2, 0, 2];

export function tensorTypeName(type: number): string {
  return type >= 0 && type < TYPE_NAMES.length ? TYPE_NAMES[type] : `unknown type ${type}`;
}

export function tensorTypeBytes(type: number): number {
  return type >= 0 && type < TYPE_BYTES.length ? TYPE_BYTES[type] : 0;
}

/** Returns whether tensors of this element type may live in the arena or a constant buffer here. */
export function isSupportedTensorType(type: number): boolean {
  return (
    type === TensorType.INT8 ||
    type === TensorType.UINT8 ||
    type === TensorType.INT16 ||
    type === TensorType.INT32 ||
    type === TensorType.FLOAT32 ||
    type === TensorType.INT64 ||
    type === TensorType.BOOL
  );
}
