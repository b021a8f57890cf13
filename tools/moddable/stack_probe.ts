// Measures how many XS stack slots creating an Interpreter and one invoke use below
// their caller, on microq-xs-host, whose stack has 4096 slots.
//
// Method: XS aborts the process on a stack overflow, so each probe is a separate run.
// A recursive function f(n) calls itself n times and then does the work at the bottom;
// a binary search finds the deepest n that still completes. Two calibration functions
// without work, one with 10 more local variables than the other (a local is one stack
// slot), give the slots per frame K from D_plain * K = D_padded * (K + 10) and so the
// slots the work needs: (D_plain - D_work) * K, to within one frame (about 10 slots).
//
// Usage: node build/tools/moddable/stack_probe.js MODEL.tflite
// Measured (@agoric/xsnap 0.15.0, x86_64): K = 10; hello_world_int8 invoke 550, construct
// 860; micro_speech_quantized invoke 650, construct 900; person_detect invoke 640,
// construct 900 slots. Runs of the same probe differ by up to one frame.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { defaultBundlePath, xsHostPath } from "../xs/paths.js";
import { BUNDLE_FILE, arrayBufferExpression, readBundle } from "../xs/model-module.js";

const BODIES: Record<string, string> = {
  plain: "function f(n) { return n === 0 ? 0 : f(n - 1) + 1; }",
  padded:
    "function f(n) { let a = n, b = n, c = n, d = n, e = n, g = n, h = n, i = n, j = n, k = n; " +
    "return n === 0 ? 0 : f(n - 1) + a + b + c + d + e + g + h + i + j + k - 10 * n + 1; }",
  invoke: "function f(n) { if (n === 0) { interpreter.invoke(); return 0; } return f(n - 1) + 1; }",
  construct: "function f(n) { if (n === 0) { new Interpreter(model); return 0; } return f(n - 1) + 1; }",
};

export interface StackUse {
  slotsPerFrame: number;
  invokeSlots: number;
  constructSlots: number;
}

export function probeStackUse(model: Uint8Array): StackUse {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "microq-stack-"));
  try {
    fs.writeFileSync(path.join(folder, BUNDLE_FILE), readBundle(defaultBundlePath));
    const setup =
      `import { Interpreter } from "./${BUNDLE_FILE}";\n` +
      `const model = ${arrayBufferExpression(model)};\n` +
      `const interpreter = new Interpreter(model);\n`;
    const completes = (kind: string, depth: number): boolean => {
      const file = path.join(folder, `${kind}.mjs`);
      fs.writeFileSync(file, `${setup}${BODIES[kind]}\nf(${depth});\nprint("#completed");\n`);
      const run = spawnSync(xsHostPath(), [file], { encoding: "utf8", timeout: 60_000 });
      return run.stdout.includes("#completed");
    };
    const deepest = (kind: string): number => {
      let low = 0;
      let high = 5000;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (completes(kind, middle)) low = middle;
        else high = middle - 1;
      }
      return low;
    };
    const plain = deepest("plain");
    const padded = deepest("padded");
    const slotsPerFrame = Math.round((10 * padded) / (plain - padded));
    return {
      slotsPerFrame,
      invokeSlots: (plain - deepest("invoke")) * slotsPerFrame,
      constructSlots: (plain - deepest("construct")) * slotsPerFrame,
    };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error("usage: node build/tools/moddable/stack_probe.js MODEL.tflite");
    process.exit(2);
  }
  console.log(JSON.stringify(probeStackUse(new Uint8Array(fs.readFileSync(file)))));
}
