// Flat index of element [i0, i1, i2, i3] of a 4-D row-major tensor, as TFLM's
// Offset(const RuntimeShape&, int, int, int, int) computes it
// (tensorflow/lite/kernels/internal/runtime_shape.h). Its range checks are
// TFLITE_DCHECKs, which release builds compile out, so they are left out here
// too. The naive kernels call this once per element access, as the C does.

export function offset(dims: Int32Array, i0: number, i1: number, i2: number, i3: number): number {
  return ((i0 * dims[1] + i1) * dims[2] + i2) * dims[3] + i3;
}
