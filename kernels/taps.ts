// In-bounds filter tap ranges, computed at prepare so that the inner loops
// of convolution and pooling need no per-tap bounds check. Skipping the
// out-of-bounds taps is what TFLM's reference kernels do; for convolution it
// equals padding with the input zero point.

/**
 * For each output position o, returns [start, end) of the filter taps k for
 * which o * stride - padBefore + dilation * k lies in [0, inputSize), as
 * pairs in one Int32Array.
 */
export function tapRange(
  outputSize: number,
  stride: number,
  padBefore: number,
  dilation: number,
  filterSize: number,
  inputSize: number,
): Int32Array {
  const ranges = new Int32Array(2 * outputSize);
  for (let o = 0; o < outputSize; o++) {
    const origin = o * stride - padBefore;
    let start = 0;
    while (start < filterSize && origin + dilation * start < 0) start++;
    let end = filterSize;
    while (end > start && origin + dilation * (end - 1) >= inputSize) end--;
    ranges[2 * o] = start;
    ranges[2 * o + 1] = end;
  }
  return ranges;
}
