// Bundles runtime/ and kernels/ into one ES module that XS, QuickJS and
// Node load unchanged.
import typescript from "@rollup/plugin-typescript";

export default {
  input: "runtime/index.ts",
  output: {
    file: "dist/microq.js",
    format: "es",
    sourcemap: false,
  },
  plugins: [
    typescript({
      tsconfig: "./tsconfig.json",
      compilerOptions: { noEmit: false, declaration: false },
      include: ["runtime/**/*.ts", "kernels/**/*.ts"],
    }),
  ],
};
