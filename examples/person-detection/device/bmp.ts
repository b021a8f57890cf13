// Reads the pixels of an 8-bit grayscale BMP, such as the 96x96 test images of TFLM's
// person detection example, straight from a Resource (flash) into a tensor's memory.
// It allocates only typed array views, no pixel buffer.

function readUint16(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

function readInt32(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24);
}

/**
 * Copies the pixels of an uncompressed 8-bit palettized BMP of `width` x `height` into
 * `target`, top row first, one byte per pixel. The bytes are the palette indices, which
 * is how TFLM's example reads its grayscale images. Rows may be stored bottom-up
 * (positive height) or top-down (negative height) and are padded to 4 bytes in the file.
 * Throws an Error naming the file when it is not such a BMP of that size.
 */
export function copyGrayBmp(file: ArrayBufferLike, name: string, width: number, height: number, target: Uint8Array): void {
  const bytes = new Uint8Array(file);
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) {
    throw new Error(`${name} is not a BMP file (no "BM" header): list an 8-bit grayscale .bmp in the manifest`);
  }
  const pixelOffset = readInt32(bytes, 10);
  const fileWidth = readInt32(bytes, 18);
  const fileHeight = readInt32(bytes, 22);
  const bitsPerPixel = readUint16(bytes, 28);
  const compression = readInt32(bytes, 30);
  if (bitsPerPixel !== 8 || compression !== 0) {
    throw new Error(`${name} has ${bitsPerPixel} bits per pixel and compression ${compression}: use an uncompressed 8-bit grayscale BMP`);
  }
  if (fileWidth !== width || Math.abs(fileHeight) !== height) {
    throw new Error(`${name} is ${fileWidth}x${Math.abs(fileHeight)} pixels: the model takes ${width}x${height}`);
  }
  if (target.length !== width * height) {
    throw new Error(`the target is ${target.length} bytes long: ${name} needs ${width * height} bytes`);
  }
  const rowBytes = (width + 3) & ~3;
  if (pixelOffset < 54 || pixelOffset + rowBytes * height > bytes.length) {
    throw new Error(`${name}: ${height} rows of ${rowBytes} bytes at offset ${pixelOffset} do not fit in ${bytes.length} bytes: the file is truncated`);
  }
  for (let y = 0; y < height; y++) {
    const sourceRow = fileHeight > 0 ? height - 1 - y : y;
    const start = pixelOffset + sourceRow * rowBytes;
    target.set(bytes.subarray(start, start + width), y * width);
  }
}
