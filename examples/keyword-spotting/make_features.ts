// Writes examples/keyword-spotting/features.bin, the feature recording that the
// keyword-spotting example streams: the three micro_speech cases of the TFLM
// fixtures (whole 49x40 int8 spectrograms), one after the other, with silence
// (-128) before, between and after them. Run: node build/examples/keyword-spotting/make_features.js
//
// The layout puts the last slice of each case on a multiple of 5 slices, so that one
// inference of the example (every 100 ms = 5 slices) gets exactly that case as input.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

import { REPOSITORY_ROOT } from "../../tools/bundle.js";

const SLICE_SIZE = 40;
const SILENCE = -128;
const CASES = resolve(REPOSITORY_ROOT, "..", "shared", "fixtures", "tflm", "cases", "micro_speech_quantized");

/** Silent slices, or a fixture case by name. */
export const FEATURE_LAYOUT: ReadonlyArray<{ silence: number } | { fixtureCase: string }> = [
  { silence: 26 },
  { fixtureCase: "rand0" },
  { silence: 1 },
  { fixtureCase: "rand1" },
  { silence: 1 },
  { fixtureCase: "rand2" },
  { silence: 50 },
];

function main(): void {
  const parts: Uint8Array[] = [];
  for (const segment of FEATURE_LAYOUT) {
    if ("silence" in segment) {
      parts.push(new Uint8Array(segment.silence * SLICE_SIZE).fill(SILENCE & 0xff));
    } else {
      parts.push(new Uint8Array(readFileSync(resolve(CASES, `${segment.fixtureCase}_in0.bin`))));
    }
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const features = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    features.set(part, offset);
    offset += part.length;
  }
  const file = resolve(REPOSITORY_ROOT, "examples", "keyword-spotting", "features.bin");
  writeFileSync(file, features);
  console.log(`wrote ${file}: ${total / SLICE_SIZE} slices`);
}

main();
