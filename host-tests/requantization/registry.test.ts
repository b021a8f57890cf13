// The scheme registry: every name resolves to its scheme, unknown names are
// rejected with the list of valid ones, and each scheme declares whether it
// computes in floating point at invoke.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidInputError } from "../../runtime/errors.js";
import { SCHEME_NAMES, schemeByName } from "../../runtime/requantization/registry.js";
import { expectError } from "./helpers.js";

test("registry: names and lookup", () => {
  assert.equal(SCHEME_NAMES, ["tflm", "single", "qnnpack-q31", "qnnpack-precise", "pytorch-qnnpack", "pytorch-onednn", "onnx"]);
  for (const name of SCHEME_NAMES) {
    const scheme = schemeByName(name);
    assert.is(scheme.name, name);
    assert.ok(scheme.description.length > 0, `${name} has a description`);
  }
});

test("registry: float at invoke", () => {
  const floatSchemes = SCHEME_NAMES.filter((name) => schemeByName(name).usesFloatAtInvoke);
  assert.equal(floatSchemes, ["pytorch-qnnpack", "pytorch-onednn", "onnx"]);
});

test("registry: an unknown name lists the valid ones", () => {
  expectError(() => schemeByName("fbgemm"), InvalidInputError, '"fbgemm"', "tflm, single, qnnpack-q31");
  expectError(() => schemeByName("TFLM"), InvalidInputError, '"TFLM"');
});

test.run();
