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
    // Closed forms, so that the cost does not grow with the filter size: the
    // first tap at or after input 0, and one past the last tap before
    // inputSize. Doubles are exact here because every operand is below 2^53.
    const origin = o * stride - padBefore;
    const start = origin >= 0 ? 0 : Math.min(Math.ceil(-origin / dilation), filterSize);
    const end = Math.max(Math.min(Math.floor((inputSize - 1 - origin) / dilation) + 1, filterSize), start);
    ranges[2 * o] = start;
    ranges[2 * o + 1] = end;
  }
  return ranges;
}
