// Weight layouts for the kernels' inner loops, built once at prepare, and
// the per-channel weight sums that fold the input zero point into the bias.
//
// The matrix product (gemm.ts) reads weights as int32 words of four int8
// values. A row whose length is a multiple of 4 and whose bytes start on a
// 4-byte boundary is read in place from the model, with no copy. Other rows
// are copied once, zero-padded to whole words; the copy is persistent memory.

import { PrepareContext } from "./kernel.js";

/** Weight rows read as words: row r is words[r * rowWords, (r + 1) * rowWords). */
export interface PackedRows {
  readonly words: Int32Array;
  readonly rowWords: number;
}

/** Returns the number of int32 words that hold `length` int8 values. */
export function wordsFor(length: number): number {
  return (length + 3) >> 2;
}

/**
 * Packs `rows` contiguous rows of `rowLength` int8 weights as words: a view
 * of the model bytes when possible, else a zero-padded copy that is
 * reported to `context` as persistent bytes.
 */
export function packRows(context: PrepareContext, weights: Int8Array, rows: number, rowLength: number): PackedRows {
  const rowWords = wordsFor(rowLength);
  if (rowLength % 4 === 0 && weights.byteOffset % 4 === 0) {
    return { words: new Int32Array(weights.buffer, weights.byteOffset, rows * rowWords), rowWords };
  }
  const copy = new Int8Array(rows * rowWords * 4);
  for (let row = 0; row < rows; row++) {
    copy.set(weights.subarray(row * rowLength, (row + 1) * rowLength), row * rowWords * 4);
  }
  context.notePersistentBytes(copy.byteLength);
  return { words: new Int32Array(copy.buffer), rowWords };
}

/**
 * Packs channel-last weights (depthwise [1, h, w, channels]) as one row of
 * h * w taps per channel, zero-padded to words: the layout of an ordinary
 * convolution with one input channel. Always a copy.
 */
export function packChannelColumns(context: PrepareContext, weights: Int8Array, taps: number, channels: number): PackedRows {
  const rowWords = wordsFor(taps);
  const copy = new Int8Array(channels * rowWords * 4);
  for (let channel = 0; channel < channels; channel++) {
    for (let tap = 0; tap < taps; tap++) copy[channel * rowWords * 4 + tap] = weights[tap * channels + channel];
  }
  context.notePersistentBytes(copy.byteLength);
  return { words: new Int32Array(copy.buffer), rowWords };
}

/** Sums of each channel's positive weights and of its negative weights. */
export interface WeightSums {
  readonly positiveSums: Int32Array;
  readonly negativeSums: Int32Array;
}

/** Sums each of `rows` contiguous rows of `rowLength` weights (channel-first layouts). */
export function sumRows(weights: Int8Array, rows: number, rowLength: number): WeightSums {
  const positiveSums = new Int32Array(rows);
  const negativeSums = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    for (let i = row * rowLength; i < (row + 1) * rowLength; i++) {
      if (weights[i] > 0) positiveSums[row] += weights[i];
      else negativeSums[row] += weights[i];
    }
  }
  return { positiveSums, negativeSums };
}

/** Sums each channel of channel-last weights (depthwise [1, h, w, channels]). */
export function sumColumns(weights: Int8Array, taps: number, channels: number): WeightSums {
  const positiveSums = new Int32Array(channels);
  const negativeSums = new Int32Array(channels);
  for (let tap = 0; tap < taps; tap++) {
    for (let channel = 0; channel < channels; channel++) {
      const w = weights[tap * channels + channel];
      if (w > 0) positiveSums[channel] += w;
      else negativeSums[channel] += w;
    }
  }
  return { positiveSums, negativeSums };
}
