// The schemes on the XS engine: the same workload of requantizations gives
// the same integers on XS as on Node, and the invoke-time functions of every
// scheme allocate nothing on the XS heap. The compiled runtime modules run
// unbundled, so a failure points at the scheme, not at a kernel.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { measureXsCallAllocations } from "../../tools/xs/allocation.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { SCHEME_NAMES } from "../../runtime/requantization/registry.js";

const BUILD = resolve(REPOSITORY_ROOT, "build");

/**
 * Returns the compiled runtime modules the schemes import, by path relative
 * to build/. They are renamed to .mjs with their relative imports
 * rewritten, because the XS hosts load only .mjs files as modules. The
 * sourceMappingURL comment is removed, because xsnap rejects a module that
 * has one.
 */
function runtimeFiles(): Record<string, string> {
  const paths = ["runtime/errors.js", "runtime/fixedpoint.js", "runtime/quantize_multiplier.js"];
  for (const file of readdirSync(resolve(BUILD, "runtime", "requantization"))) {
    if (file.endsWith(".js")) paths.push(`runtime/requantization/${file}`);
  }
  const toModule = (path: string) => path.replace(/\.js$/, ".mjs");
  return Object.fromEntries(
    paths.map((path) => {
      const source = readFileSync(resolve(BUILD, path), "utf8")
        .replace(/(from "\.{1,2}\/[^"]*)\.js"/g, '$1.mjs"')
        .replace(/^\/\/# sourceMappingURL=.*$/m, "");
      return [toModule(path), source];
    }),
  );
}

// Layers, adds, pools and rescales whose parameters every scheme accepts,
// and a pseudo-random stream of inputs. Prepared once at module load.
const SETUP = `
import { schemeByName } from "./runtime/requantization/registry.mjs";

export function prepare(name) {
  const scheme = schemeByName(name);
  const layer = scheme.accumulator({
    kind: "conv", inputScale: 0.0235, weightScales: [0.0031, 0.0047, 0.00052], outputScale: 0.0417,
    outputZeroPoint: 121, channels: 3, bias: new Int32Array([1200, -35000, 7]),
  });
  const floatBias = scheme.accumulator({
    kind: "fully_connected", inputScale: 0.0235, weightScales: [0.0031], outputScale: 0.0417,
    outputZeroPoint: 3, channels: 1, bias: new Float32Array([0.731]),
  });
  const adder = scheme.add({ aScale: 0.027, aZeroPoint: 131, bScale: 0.053, bZeroPoint: 123, outputScale: 0.059, outputZeroPoint: 120 });
  const pool = { inputScale: 0.0294, inputZeroPoint: 124, outputScale: 0.0294, outputZeroPoint: 124 };
  const contiguous = scheme.averagePool({ ...pool, memoryFormat: "contiguous" });
  const channelsLast = scheme.averagePool({ ...pool, memoryFormat: "channels_last" });
  const rescale = scheme.rescale({ inputScale: 0.0268, inputZeroPoint: 135, outputScale: 0.0530, outputZeroPoint: 115 });
  const extremes = [-2147483648, 2147483647, 0, -1];
  let state = 12345;
  function next() {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    return state;
  }
  // One round of every invoke-time function; returns a checksum of the results.
  return function step() {
    let checksum = 0;
    for (let i = 0; i < 64; i++) {
      const acc = i < 4 ? extremes[i] : next() >> (i & 15);
      checksum = (Math.imul(checksum, 31) + layer.requantize(acc, i % 3)) | 0;
      checksum = (Math.imul(checksum, 31) + floatBias.requantize(acc >> 8, 0)) | 0;
      checksum = (Math.imul(checksum, 31) + adder.add(next() & 255, next() & 255)) | 0;
      const divisor = 1 + (next() & 63);
      const sum = (next() % 256) * divisor >> 1;
      checksum = (Math.imul(checksum, 31) + contiguous.average(sum, divisor)) | 0;
      checksum = (Math.imul(checksum, 31) + channelsLast.average(sum, 4)) | 0;
      checksum = (Math.imul(checksum, 31) + rescale(next() & 255)) | 0;
      checksum = (Math.imul(checksum, 31) + scheme.quantizeReal((next() >> 20) / 64, 0.0417, 121)) | 0;
    }
    return checksum;
  };
}
`;

const CHECKSUMS = `
import { prepare } from "./setup.mjs";
const names = ${JSON.stringify(SCHEME_NAMES)};
export const lines = names.map((name) => {
  const step = prepare(name);
  let total = 0;
  for (let round = 0; round < 200; round++) total = (Math.imul(total, 17) + step()) | 0;
  return name + " " + total;
});
`;

test("XS computes the same integers as Node", async () => {
  const files = { ...runtimeFiles(), "setup.mjs": SETUP, "checksums.mjs": CHECKSUMS };

  const folder = mkdtempSync(join(tmpdir(), "microq-schemes-"));
  let nodeLines: string[];
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(folder, path)), { recursive: true });
      writeFileSync(join(folder, path), source);
    }
    nodeLines = (await import(pathToFileURL(join(folder, "checksums.mjs")).href)).lines;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  const main = `import { lines } from "./checksums.mjs";\nfor (const line of lines) print(line);\n`;
  const result = await runXsModule({ ...files, "main.mjs": main }, "main.mjs");
  assert.is(result.error, undefined, `XS threw: ${JSON.stringify(result.error)}`);
  const xsLines = result.stdout.split("\n").filter((line) => line.length > 0);
  assert.is(nodeLines.length, SCHEME_NAMES.length);
  assert.equal(xsLines, nodeLines);
});

for (const name of SCHEME_NAMES) {
  test(`${name}: invoke-time functions allocate nothing on XS`, async () => {
    const step = `import { prepare } from "./setup.mjs";\nexport const step = prepare(${JSON.stringify(name)});\n`;
    const count = await measureXsCallAllocations({ ...runtimeFiles(), "setup.mjs": SETUP, "step.mjs": step }, "step.mjs", 20);
    assert.is(count.slots, 0, "slots");
    assert.is(count.chunkBytes, 0, "chunk bytes taken");
  });
}

test("toFloat32 on XS rounds int32 values as Math.fround does on Node", async () => {
  // XS's own Math.fround leaves int32-typed values unchanged, so these are
  // the values that tell a correct toFloat32 apart on XS.
  const values: number[] = [0, 1, -1, 16777216, 16777217, 16777218, 16777219, -16777217, -16777219, 33554434, 33554435,
    33554438, 2147483520, 2147483584, 2147483585, 2147483647, -2147483648, -2147483647, 0.1, -1.5e-40, 3.4e38, 1e39];
  let state = 2024;
  for (let i = 0; i < 2000; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    values.push(state >> (i & 7), (state >> 9) * 0.37);
  }
  // The results are printed as numbers, not stored into a Float32Array,
  // which would round a wrong result and hide it.
  const main = `import { toFloat32 } from "./runtime/requantization/common.mjs";
const values = ${JSON.stringify(values)};
print(values.map((value) => String(toFloat32(value))).join(","));
`;
  const result = await runXsModule({ ...runtimeFiles(), "main.mjs": main }, "main.mjs");
  assert.is(result.error, undefined, `XS threw: ${JSON.stringify(result.error)}`);
  assert.equal(result.stdout.trim(), values.map((value) => String(Math.fround(value))).join(","));
});

test.run();
