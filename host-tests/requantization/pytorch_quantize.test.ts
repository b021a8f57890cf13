// quantizeReal of the PyTorch schemes against quantize_per_tensor as
// PyTorch 1.13 ran it on the digits model's inputs: every test image's
// pixels / 16, quantized with the QuantStub's scale, must give the stored
// quint8 input.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FIXTURES } from "../fixtures.js";
import { schemeByName } from "../../runtime/requantization/registry.js";

const DIGITS = resolve(FIXTURES, "pytorch", "digits");
const VARIANTS = ["qnnpack-qnnpack", "onednn-onednn", "onednn-fbgemm"];

interface QuantLayer {
  name: string;
  attrs: { scale: number; zero_point: number };
}

for (const variant of VARIANTS) {
  test(`${variant}: quantized inputs exact`, () => {
    const model = JSON.parse(readFileSync(resolve(DIGITS, `${variant}__model.json`), "utf8"));
    const data = JSON.parse(readFileSync(resolve(DIGITS, `${variant}__test.json`), "utf8"));
    const quant = (model.graph as QuantLayer[]).find((layer) => layer.name === "quant")!;
    const { scale, zero_point: zeroPoint } = quant.attrs;
    assert.is(data.input_quantized.scale, scale);
    const pixels: number[] = data.pixels.values;
    const expected: number[] = data.input_quantized.values;
    assert.is(pixels.length, expected.length);
    for (const name of ["pytorch-qnnpack", "pytorch-onednn"]) {
      const scheme = schemeByName(name);
      const actual = pixels.map((pixel) => Math.min(255, Math.max(0, scheme.quantizeReal(Math.fround(pixel / 16), scale, zeroPoint))));
      const mismatches = actual.filter((value, i) => value !== expected[i]).length;
      assert.is(mismatches, 0, `${name}: ${mismatches} of ${actual.length} inputs differ`);
    }
  });
}

test.run();
