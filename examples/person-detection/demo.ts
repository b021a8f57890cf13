// Person detection on the two test images of TFLM's example, on Node.js and
// on the XS engine, from the same bundle. Prints the scores, the label and
// whether they match TFLM's reference output.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadBundle, REPOSITORY_ROOT } from "../../tools/bundle.js";
import { decodeGrayBmp } from "../../tools/bmp.js";
import { runModelOnXs } from "../../tools/xs/engine.js";

const EXAMPLE_DIR = resolve(REPOSITORY_ROOT, "examples", "person-detection");

/** TFLM's scores [no_person, person] for each image (its person detection test). */
const IMAGES = [
  { file: "images/person.bmp", expected: [-113, 113] },
  { file: "images/no_person.bmp", expected: [57, -57] },
];

async function main(): Promise<number> {
  const microq = await loadBundle();
  const model = new Uint8Array(readFileSync(resolve(EXAMPLE_DIR, "person_detect.tflite")));
  const interpreter = new microq.Interpreter(model);
  console.log(`person_detect: ${interpreter.macs} MACs, arena ${interpreter.arenaBytes} bytes`);

  let failures = 0;
  for (const image of IMAGES) {
    const bmp = decodeGrayBmp(new Uint8Array(readFileSync(resolve(EXAMPLE_DIR, image.file))), image.file);
    // TFLM's test feeds the 0..255 pixel bytes unchanged into the int8 input.
    const input = bmp.pixels;

    interpreter.inputs[0].bytes.set(input);
    const started = performance.now();
    interpreter.invoke();
    const nodeMs = performance.now() - started;
    const nodeScores = Array.from(interpreter.outputs[0].data);

    const xs = await runModelOnXs({ model, inputs: [input] });
    const xsScores = Array.from(new Int8Array(xs.outputs[0].buffer, xs.outputs[0].byteOffset, xs.outputs[0].byteLength));

    const label = nodeScores[1] > nodeScores[0] ? "person" : "no person";
    const matches = (scores: number[]) => scores[0] === image.expected[0] && scores[1] === image.expected[1];
    const verdict = matches(nodeScores) && matches(xsScores) ? "matches TFLM" : `DIFFERS from TFLM [${image.expected}]`;
    if (!matches(nodeScores) || !matches(xsScores)) failures++;
    console.log(
      `${image.file.padEnd(22)} ${label.padEnd(9)} node [${nodeScores}] (${nodeMs.toFixed(1)} ms)  xs [${xsScores}]  ${verdict}`,
    );
  }
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
