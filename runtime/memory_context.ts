// Typed array views that kernels bind to once the arena exists: activations
// in the arena, constants in the model buffer (zero-copy unless misaligned).

import { checkedView } from "./bounds_check.js";
import { InvalidModelError } from "./errors.js";
import { ModelDef } from "./model.js";
import { tensorTypeBytes, tensorTypeName } from "./tensor_types.js";
import { MemoryContext } from "../kernels/kernel.js";

export function createMemoryContext(
  model: ModelDef,
  bytes: Uint8Array,
  arena: ArrayBuffer,
  tensorOffsets: Map<number, number>,
  planOffsets: number[],
  scratchBase: number,
  notePersistentBytes: (n: number) => void,
): MemoryContext {
  // Returns [buffer, byteOffset] of a tensor, copying a misaligned constant.
  const locate = (index: number, elementBytes: number): [ArrayBufferLike, number] => {
    const tensor = model.tensors[index];
    if (tensor === undefined) throw new InvalidModelError(`tensor ${index} does not exist; the file is corrupted`);
    if (tensorTypeBytes(tensor.type) !== elementBytes) {
      throw new InvalidModelError(
        `tensor ${index} "${tensor.name}" is ${tensorTypeName(tensor.type)}, read as a ${8 * elementBytes}-bit type; this is a kernel bug`,
      );
    }
    // Arena first: a variable tensor lives there even when the file gives it data.
    const offset = tensorOffsets.get(index);
    if (offset !== undefined) return [arena, offset];
    if (tensor.dataOffset >= 0) {
      const absolute = bytes.byteOffset + tensor.dataOffset;
      if (absolute % elementBytes === 0) return [bytes.buffer, absolute];
      const copy = bytes.slice(tensor.dataOffset, tensor.dataOffset + tensor.byteLength);
      notePersistentBytes(copy.byteLength);
      return [copy.buffer, 0];
    }
    throw new InvalidModelError(`tensor ${index} "${tensor.name}" has no arena memory; this is a planner bug`);
  };
  return {
    int8: (index) => {
      const [buffer, offset] = locate(index, 1);
      return checkedView(new Int8Array(buffer, offset, model.tensors[index].elementCount), index);
    },
    uint8: (index) => {
      const [buffer, offset] = locate(index, 1);
      return checkedView(new Uint8Array(buffer, offset, model.tensors[index].elementCount), index);
    },
    int16: (index) => {
      const [buffer, offset] = locate(index, 2);
      return checkedView(new Int16Array(buffer, offset, model.tensors[index].elementCount), index);
    },
    int32: (index) => {
      const [buffer, offset] = locate(index, 4);
      return checkedView(new Int32Array(buffer, offset, model.tensors[index].elementCount), index);
    },
    float32: (index) => {
      const [buffer, offset] = locate(index, 4);
      return checkedView(new Float32Array(buffer, offset, model.tensors[index].elementCount), index);
    },
    scratchInt32: (handle, length) => checkedView(new Int32Array(arena, planOffsets[scratchBase + handle], length), -1),
  };
}

