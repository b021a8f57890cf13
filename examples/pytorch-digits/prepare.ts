// Rewrites the digits example's files from PyTorch's export of the model,
// which the fixture folder beside the repository contains (FIXTURE_DIR in
// digits.ts). It writes the converted models, their float biases, PyTorch's
// int logits, and the test images and labels.
//
// Usage: node build/examples/pytorch-digits/prepare.js

import { statSync } from "node:fs";
import { resolve } from "node:path";
import { EXAMPLE_DIR, FIXTURE_DIR } from "./digits.js";
import { writeExampleFiles } from "./generate.js";

const names = writeExampleFiles(FIXTURE_DIR, EXAMPLE_DIR);
for (const name of names) {
  console.log(`wrote ${name} (${statSync(resolve(EXAMPLE_DIR, name)).size} bytes)`);
}
