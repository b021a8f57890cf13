// Bounds-checked reader for the FlatBuffers binary format, zero-copy over the
// model bytes. Every offset and vector length is checked against the buffer
// before it is followed, so a corrupted file raises InvalidModelError instead
// of reading undefined from a typed array.
//
// Layout reminder: a table starts with an int32 soffset to its vtable
// (vtable = table - soffset). A vtable is uint16 [vtableBytes, tableBytes,
// fieldOffset0, fieldOffset1, ...]; a field offset of 0 means "absent".
// Reference fields (tables, vectors, strings) hold a uint32 offset relative
// to the field's own position. Vectors and strings start with a uint32 length.

import { InvalidModelError } from "./errors.js";

/** A table located in the buffer, with its vtable already validated. */
export interface TableRef {
  readonly position: number;
  readonly vtablePosition: number;
  /** Number of field slots in the vtable. */
  readonly fieldCount: number;
  /** Table name used in error messages, for example "Tensor 12". */
  readonly label: string;
}

/** A vector located in the buffer: element count and byte position of element 0. */
export interface VectorRef {
  readonly start: number;
  readonly length: number;
}

export class FlatBufferReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly byteLength: number;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.byteLength = bytes.byteLength;
  }

  /** Throws unless [position, position + size) lies inside the buffer. */
  checkRange(position: number, size: number, label: string): void {
    if (position < 0 || size < 0 || position + size > this.byteLength) {
      throw new InvalidModelError(
        `${label}: bytes ${position}..${position + size} lie outside the ` +
          `${this.byteLength}-byte model; the file is truncated or corrupted, ` +
          `so export or copy it again`,
      );
    }
  }

  uint8(position: number, label: string): number {
    this.checkRange(position, 1, label);
    return this.view.getUint8(position);
  }

  int8(position: number, label: string): number {
    this.checkRange(position, 1, label);
    return this.view.getInt8(position);
  }

  uint16(position: number, label: string): number {
    this.checkRange(position, 2, label);
    return this.view.getUint16(position, true);
  }

  int32(position: number, label: string): number {
    this.checkRange(position, 4, label);
    return this.view.getInt32(position, true);
  }

  uint32(position: number, label: string): number {
    this.checkRange(position, 4, label);
    return this.view.getUint32(position, true);
  }

  float32(position: number, label: string): number {
    this.checkRange(position, 4, label);
    return this.view.getFloat32(position, true);
  }

  /**
   * Reads a 64-bit integer and returns it as a number, rejecting values
   * outside +-2^53 because they cannot be represented exactly.
   */
  int64(position: number, label: string): number {
    this.checkRange(position, 8, label);
    const low = this.view.getUint32(position, true);
    const high = this.view.getInt32(position + 4, true);
    if (high > 0x1fffff || high < -0x200000) {
      throw new InvalidModelError(
        `${label}: 64-bit value at byte ${position} is beyond 2^53; ` +
          `the file is corrupted or was not written for a microcontroller`,
      );
    }
    return high * 0x100000000 + low;
  }

  /** Returns the root table of the buffer. */
  root(label: string): TableRef {
    if (this.byteLength < 8) {
      throw new InvalidModelError(
        `model is only ${this.byteLength} bytes, too short for a FlatBuffer; ` +
          `pass the bytes of a .tflite file`,
      );
    }
    return this.table(this.uint32(0, `${label} root offset`), label);
  }

  /** Validates the table at position and its vtable. */
  table(position: number, label: string): TableRef {
    this.checkRange(position, 4, `${label} table`);
    const vtablePosition = position - this.int32(position, `${label} vtable offset`);
    this.checkRange(vtablePosition, 4, `${label} vtable`);
    const vtableBytes = this.uint16(vtablePosition, `${label} vtable size`);
    const tableBytes = this.uint16(vtablePosition + 2, `${label} table size`);
    if (vtableBytes < 4 || (vtableBytes & 1) !== 0) {
      throw new InvalidModelError(
        `${label}: vtable at byte ${vtablePosition} has invalid size ${vtableBytes}; ` +
          `the file is corrupted`,
      );
    }
    this.checkRange(vtablePosition, vtableBytes, `${label} vtable`);
    this.checkRange(position, Math.max(tableBytes, 4), `${label} table body`);
    return { position, vtablePosition, fieldCount: (vtableBytes - 4) >> 1, label };
  }

  /** Byte position of field `id` in the table, or 0 when the field is absent. */
  fieldPosition(table: TableRef, id: number): number {
    if (id >= table.fieldCount) return 0;
    const offset = this.view.getUint16(table.vtablePosition + 4 + 2 * id, true);
    return offset === 0 ? 0 : table.position + offset;
  }

  /** Field reader helpers; `name` is the schema field name used in messages. */
  fieldUint8(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.uint8(p, `${table.label}.${name}`);
  }

  fieldInt8(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.int8(p, `${table.label}.${name}`);
  }

  fieldInt32(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.int32(p, `${table.label}.${name}`);
  }

  fieldUint32(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.uint32(p, `${table.label}.${name}`);
  }

  fieldFloat32(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.float32(p, `${table.label}.${name}`);
  }

  fieldInt64(table: TableRef, id: number, name: string, defaultValue: number): number {
    const p = this.fieldPosition(table, id);
    return p === 0 ? defaultValue : this.int64(p, `${table.label}.${name}`);
  }

  fieldBool(table: TableRef, id: number, name: string): boolean {
    return this.fieldUint8(table, id, name, 0) !== 0;
  }

  /** Follows a reference field; returns the target position or 0 when absent. */
  private referenceTarget(table: TableRef, id: number, name: string): number {
    const p = this.fieldPosition(table, id);
    if (p === 0) return 0;
    const target = p + this.uint32(p, `${table.label}.${name}`);
    this.checkRange(target, 4, `${table.label}.${name} target`);
    return target;
  }

  /** Sub-table field, or null when absent. */
  fieldTable(table: TableRef, id: number, name: string, label: string): TableRef | null {
    const target = this.referenceTarget(table, id, name);
    return target === 0 ? null : this.table(target, label);
  }

  /** Vector field with elements of elementBytes each, or null when absent. */
  fieldVector(table: TableRef, id: number, name: string, elementBytes: number): VectorRef | null {
    const target = this.referenceTarget(table, id, name);
    if (target === 0) return null;
    const length = this.uint32(target, `${table.label}.${name} length`);
    const start = target + 4;
    if (length > (this.byteLength - start) / elementBytes) {
      throw new InvalidModelError(
        `${table.label}.${name}: vector of ${length} elements at byte ${target} ` +
          `runs past the end of the ${this.byteLength}-byte model; the file is ` +
          `truncated or corrupted`,
      );
    }
    return { start, length };
  }

  /** String field decoded as UTF-8 (ASCII fast path), or "" when absent. */
  fieldString(table: TableRef, id: number, name: string): string {
    const vector = this.fieldVector(table, id, name, 1);
    if (vector === null) return "";
    return decodeUtf8(this.bytes, vector.start, vector.length);
  }

  /** Table element i of a vector of tables. */
  vectorTable(vector: VectorRef, index: number, label: string): TableRef {
    const p = vector.start + 4 * index;
    return this.table(p + this.uint32(p, `${label} offset`), label);
  }

  /** Copies a vector of int32 into a plain array (load time only). */
  int32Array(vector: VectorRef | null): number[] {
    const result: number[] = [];
    if (vector === null) return result;
    for (let i = 0; i < vector.length; i++) {
      result.push(this.view.getInt32(vector.start + 4 * i, true));
    }
    return result;
  }
}

/** Decodes UTF-8 without TextDecoder, which not every XS build provides, replacing invalid and control characters. */
function decodeUtf8(bytes: Uint8Array, start: number, length: number): string {
  let text = "";
  let i = start;
  const end = start + length;
  while (i < end) {
    const byte0 = bytes[i++];
    let codePoint = byte0;
    if (byte0 >= 0xf0 && i + 2 < end) {
      codePoint = ((byte0 & 0x07) << 18) | ((bytes[i] & 0x3f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else if (byte0 >= 0xe0 && i + 1 < end) {
      codePoint = ((byte0 & 0x0f) << 12) | ((bytes[i] & 0x3f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (byte0 >= 0xc0 && i < end) {
      codePoint = ((byte0 & 0x1f) << 6) | (bytes[i] & 0x3f);
      i += 1;
    } else if (byte0 >= 0x80) {
      codePoint = 0xfffd;
    }
    // Control characters become U+FFFD too: names end up in one-line error
    // messages and terminal output, where a newline or escape would garble them.
    const isControl = codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0);
    text += String.fromCodePoint(codePoint > 0x10ffff || isControl ? 0xfffd : codePoint);
  }
  return text;
}
