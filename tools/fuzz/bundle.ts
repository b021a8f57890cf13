// Builds dist/microq-fuzz.js: the runtime bundle with runtime/bounds_check.ts
// replaced by tools/fuzz/checked_views.ts, so kernels read and write through
// bounds-checked views. The shipped dist/microq.js is built by rollup.config.js
// and never contains this substitution.

import typescript from "@rollup/plugin-typescript";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type Plugin } from "rollup";
import { REPOSITORY_ROOT } from "../bundle.js";

export const FUZZ_BUNDLE_PATH = resolve(REPOSITORY_ROOT, "dist", "microq-fuzz.js");

const HOOK_MODULE = resolve(REPOSITORY_ROOT, "runtime", "bounds_check.ts");
/** The compiled checked_views.ts next to this module in build/tools/fuzz/. */
const CHECKED_MODULE = fileURLToPath(new URL("./checked_views.js", import.meta.url));

/**
 * Rollup plugin that replaces the code of runtime/bounds_check.ts with the
 * compiled tools/fuzz/checked_views.js. It must come after the TypeScript
 * plugin, which compiles only files of tsconfig.json, so the substitute is
 * the JavaScript that tsc -p tsconfig.node.json wrote to build/.
 */
export function checkedViewsPlugin(): Plugin {
  let substitutions = 0;
  return {
    name: "microq-checked-views",
    transform(_code, id) {
      if (id !== HOOK_MODULE) return null;
      substitutions++;
      return { code: readFileSync(CHECKED_MODULE, "utf8"), map: null };
    },
    buildEnd(error) {
      if (error === undefined && substitutions === 0) {
        this.error(`no module imported ${HOOK_MODULE}, so the fuzz bundle would have no bounds checks`);
      }
    },
  };
}

/** Bundles runtime/index.ts with checked views into dist/microq-fuzz.js and returns the path. */
export async function buildFuzzBundle(): Promise<string> {
  const typescriptPlugin = typescript as unknown as (options: object) => Plugin;
  const build = await rollup({
    input: resolve(REPOSITORY_ROOT, "runtime", "index.ts"),
    plugins: [
      typescriptPlugin({
        tsconfig: resolve(REPOSITORY_ROOT, "tsconfig.json"),
        compilerOptions: { noEmit: false, declaration: false },
        include: ["runtime/**/*.ts", "kernels/**/*.ts"],
      }),
      checkedViewsPlugin(),
    ],
  });
  await build.write({ file: FUZZ_BUNDLE_PATH, format: "es", sourcemap: false });
  await build.close();
  return FUZZ_BUNDLE_PATH;
}
