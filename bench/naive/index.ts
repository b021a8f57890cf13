// Entry of the bundle dist/microq-naive.js: the whole runtime plus the naive
// reference kernels, so that a benchmark can load microq and this baseline
// side by side in one engine. Create a baseline interpreter with
//   new Interpreter(bytes, { resolveKernel: resolveNaiveKernel })
// Like runtime/ and kernels/, this code must run on XS, so it uses no Node API.

export * from "../../runtime/index.js";
export { naiveKernels, resolveNaiveKernel } from "./resolver.js";
