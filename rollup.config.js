// Bundles runtime/ and kernels/ into one ES module that XS, QuickJS and
// Node load unchanged, and the two benchmark bundles beside it:
// dist/microq-naive.js (the runtime plus the naive TFLM reference kernels)
// and dist/microq-bench.js (the harness that runs inside each engine).
import typescript from "@rollup/plugin-typescript";

/**
 * Returns the rollup configuration of one single-file ES module bundle.
 * Both tsconfig files give the code ECMAScript and no Node types. With
 * noEmitOnError a type error, such as a Node API used in bench code, fails
 * the build.
 */
function bundle(input, file, tsconfig, include, failOnTypeError) {
  return {
    input,
    output: {
      file,
      format: "es",
      sourcemap: false,
    },
    plugins: [
      typescript({
        tsconfig,
        compilerOptions: { noEmit: false, declaration: false, ...(failOnTypeError ? { noEmitOnError: true } : {}) },
        include,
      }),
    ],
  };
}

const DEVICE_CODE = ["runtime/**/*.ts", "kernels/**/*.ts"];
const BENCH_TSCONFIG = "./bench/tsconfig.device.json";

export default [
  bundle("runtime/index.ts", "dist/microq.js", "./tsconfig.json", DEVICE_CODE, false),
  bundle("bench/naive/index.ts", "dist/microq-naive.js", BENCH_TSCONFIG, [...DEVICE_CODE, "bench/naive/**/*.ts"], true),
  bundle("bench/harness/index.ts", "dist/microq-bench.js", BENCH_TSCONFIG, ["bench/harness/**/*.ts"], true),
];
