// Reader for 8-bit grayscale BMP files, such as the 96x96 test images of
// TFLM's person detection example.

import { InputFileError } from "./cli_errors.js";

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major pixels, top row first, one byte each. */
  pixels: Uint8Array;
}

/**
 * Decodes an uncompressed 8-bit palettized BMP. Pixels are the palette
 * indices, which is how TFLM's example reads its grayscale test images.
 * Rows are stored bottom-up (positive height) or top-down (negative height)
 * and padded to 4 bytes; the result is always top-down without padding.
 */
export function decodeGrayBmp(file: Uint8Array, name: string): GrayImage {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength < 54 || file[0] !== 0x42 || file[1] !== 0x4d) {
    throw new InputFileError(`${name} is not a BMP file (no "BM" header); pass an 8-bit grayscale .bmp`);
  }
  const pixelOffset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (bitsPerPixel !== 8 || compression !== 0) {
    throw new InputFileError(`${name} has ${bitsPerPixel} bits per pixel and compression ${compression}; pass an uncompressed 8-bit grayscale BMP`);
  }
  const height = Math.abs(signedHeight);
  const rowBytes = (width + 3) & ~3;
  if (width <= 0 || height === 0 || pixelOffset + rowBytes * height > file.byteLength) {
    throw new InputFileError(`${name}: ${width}x${height} pixels do not fit in the ${file.byteLength}-byte file; the file is truncated`);
  }
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sourceRow = signedHeight > 0 ? height - 1 - y : y;
    pixels.set(file.subarray(pixelOffset + sourceRow * rowBytes, pixelOffset + sourceRow * rowBytes + width), y * width);
  }
  return { width, height, pixels };
}
