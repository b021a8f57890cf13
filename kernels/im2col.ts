// Gathers convolution patches into rows (im2col), so that a convolution of
// any filter size, stride, dilation and group count becomes the matrix
// product of gemm.ts. A patch row contains filterHeight * filterWidth taps of
// `channels` values each, in the weights' (filter_y, filter_x, channel)
// order. A tap outside the input holds the input zero point: the product
// folds the zero point into the bias, so such a tap adds nothing, as in
// TFLM's reference kernels, which skip it.

/** Shapes and strides of one convolution, in the terms of TFLM's ConvParams. */
export interface PatchGeometry {
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputDepth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  /** Input channels a patch takes at each tap: the filter depth of one group. */
  readonly channels: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly outputWidth: number;
  /** Bytes from one patch row to the next: the patch length rounded up to whole words. */
  readonly rowBytes: number;
}

/** Largest patch buffer the kernels request, unless 8 patch rows need more. */
const PATCH_BUFFER_BYTES = 4096;

/**
 * Returns how many output pixels one pass gathers: a multiple of 8 (the
 * product's largest row tile) that fits PATCH_BUFFER_BYTES, at least 8, and
 * at most the pixels of one image.
 */
export function patchRowsPerPass(rowBytes: number, outputPixels: number): number {
  const fitting = Math.max(8, Math.floor(PATCH_BUFFER_BYTES / rowBytes) & ~7);
  return Math.max(1, Math.min(fitting, outputPixels));
}

/**
 * Writes the patches of output pixels [firstPixel, firstPixel + count) of
 * one image (pixel index = out_y * outputWidth + out_x) to rows 0..count-1
 * of `patches`. imageBase is the input index of the image's first value and
 * channelOffset the first input channel of the group. Bytes past the patch
 * length in each row are left as they are, because their weights are 0.
 */
export function gatherPatches(
  geometry: PatchGeometry,
  input: Int8Array,
  imageBase: number,
  channelOffset: number,
  zeroPoint: number,
  patches: Int8Array,
  firstPixel: number,
  count: number,
): void {
  const inputHeight = geometry.inputHeight;
  const inputWidth = geometry.inputWidth;
  const inputDepth = geometry.inputDepth;
  const filterHeight = geometry.filterHeight;
  const filterWidth = geometry.filterWidth;
  const channels = geometry.channels;
  const strideHeight = geometry.strideHeight;
  const strideWidth = geometry.strideWidth;
  const dilationHeight = geometry.dilationHeight;
  const dilationWidth = geometry.dilationWidth;
  const outputWidth = geometry.outputWidth;
  const rowBytes = geometry.rowBytes;
  const inputRowStride = inputWidth * inputDepth;
  const tapRowBytes = filterWidth * channels;

  let outY = (firstPixel / outputWidth) | 0;
  let outX = firstPixel - outY * outputWidth;
  let pixel, filterY, filterX, inY, inX, inYOrigin, inXOrigin, source, destination, end, rowBase;
  for (pixel = 0; pixel < count; pixel++) {
    destination = pixel * rowBytes;
    inYOrigin = outY * strideHeight - geometry.padTop;
    inXOrigin = outX * strideWidth - geometry.padLeft;
    for (filterY = 0; filterY < filterHeight; filterY++) {
      inY = inYOrigin + dilationHeight * filterY;
      if (inY < 0 || inY >= inputHeight) {
        for (end = destination + tapRowBytes; destination < end; destination++) patches[destination] = zeroPoint;
        continue;
      }
      rowBase = imageBase + inY * inputRowStride + channelOffset;
      for (filterX = 0; filterX < filterWidth; filterX++) {
        inX = inXOrigin + dilationWidth * filterX;
        end = destination + channels;
        if (inX < 0 || inX >= inputWidth) {
          for (; destination < end; destination++) patches[destination] = zeroPoint;
        } else {
          for (source = rowBase + inX * inputDepth; destination < end; destination++, source++) patches[destination] = input[source];
        }
      }
    }
    outX++;
    if (outX === outputWidth) {
      outX = 0;
      outY++;
    }
  }
}
