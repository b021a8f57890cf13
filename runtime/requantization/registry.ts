// The requantization schemes by the names that model metadata and the
// Interpreter's `requantization` option use.

import { InvalidInputError } from "../errors.js";
import { onnxScheme } from "./onnx.js";
import { pytorchOnednnScheme } from "./pytorch_onednn.js";
import { pytorchQnnpackScheme } from "./pytorch_qnnpack.js";
import { qnnpackPreciseScheme } from "./qnnpack_precise.js";
import { qnnpackQ31Scheme } from "./qnnpack_q31.js";
import { RequantizationScheme, SchemeName } from "./scheme.js";
import { singleScheme } from "./single.js";
import { tflmScheme } from "./tflm.js";

const SCHEMES: readonly RequantizationScheme[] = [
  tflmScheme,
  singleScheme,
  qnnpackQ31Scheme,
  qnnpackPreciseScheme,
  pytorchQnnpackScheme,
  pytorchOnednnScheme,
  onnxScheme,
];

/** Every scheme name, in the order the documentation lists them. */
export const SCHEME_NAMES: readonly SchemeName[] = SCHEMES.map((scheme) => scheme.name);

/** Returns the scheme called `name`; throws InvalidInputError naming the valid names otherwise. */
export function schemeByName(name: string): RequantizationScheme {
  for (const scheme of SCHEMES) {
    if (scheme.name === name) return scheme;
  }
  throw new InvalidInputError(`requantization scheme "${name}" is unknown; use one of ${SCHEME_NAMES.join(", ")}`);
}
