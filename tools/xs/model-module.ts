// Generates JavaScript that loads a model into the microq runtime on XS. The model and
// input bytes are embedded as base64 string literals, which XS's native Base64.decode
// turns into ArrayBuffers. A 3 MB literal parsed, decoded and checksummed in 0.5 s on the
// xsnap CLI, on a 2-core Linux VM.
import fs from "node:fs";

import { REPOSITORY_ROOT } from "../bundle.js";
import { SetupError } from "../cli_errors.js";

/** The name under which the runtime bundle is copied into the run folder. */
export const BUNDLE_FILE = "microq.js";

/** Prefix of the lines that generated modules print for the host to parse. */
export const RECORD_PREFIX = "#microq:";

/**
 * Maximum length of one base64 string literal in generated code. The XS parser rejects a
 * string literal longer than its buffer with "buffer overflow", and both the xsnap CLI and
 * microq-xs-host create the parser with an 8 MiB buffer. The length is a multiple of 4, so
 * each chunk is whole base64 quanta and decodes on its own.
 */
export const BASE64_CHUNK_CHARS = 1024 * 1024;

/** Returns a JavaScript expression that evaluates to a fixed-length ArrayBuffer holding `bytes`. */
export function arrayBufferExpression(bytes: Uint8Array): string {
  // Base64.decode reads before its argument when it is empty, and returns a resizable
  // ArrayBuffer, so empty data is built directly and slice(0) makes a fixed-length copy.
  if (bytes.length === 0) {
    return "new ArrayBuffer(0)";
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  if (text.length <= BASE64_CHUNK_CHARS) {
    return `Base64.decode("${text}").slice(0)`;
  }

  // Larger data is split into literals of at most BASE64_CHUNK_CHARS, which are decoded one
  // by one into a single buffer of the full length.
  const chunks: string[] = [];
  for (let start = 0; start < text.length; start += BASE64_CHUNK_CHARS) {
    chunks.push(`"${text.slice(start, start + BASE64_CHUNK_CHARS)}"`);
  }
  return `((chunks) => {
  const bytes = new Uint8Array(${bytes.length});
  let offset = 0;
  for (const chunk of chunks) {
    const part = new Uint8Array(Base64.decode(chunk));
    bytes.set(part, offset);
    offset += part.length;
  }
  if (offset !== bytes.length) throw new Error("decoded " + offset + " bytes of base64 data, expected " + bytes.length);
  return bytes.buffer;
})([
${chunks.join(",\n")},
])`;
}

/** Reads the runtime bundle. When it is missing, the SetupError names the command that builds it. */
export function readBundle(bundlePath: string): string {
  try {
    return fs.readFileSync(bundlePath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new SetupError(`runtime bundle not found at ${bundlePath}; run npm install in ${REPOSITORY_ROOT} to build it`);
    }
    throw error;
  }
}

export function validateModelBytes(model: unknown): void {
  if (!(model instanceof Uint8Array) || model.length === 0) {
    throw new Error("invalid model: expected the .tflite file contents as a non-empty Uint8Array");
  }
}

/**
 * Returns module source that creates `interpreter` from the model and, when `inputs` is
 * given, defines `setInputs()`, which copies the inputs into the interpreter's input
 * tensors. The source throws when the number or size of the inputs does not match the model.
 */
export function interpreterSetupSource(model: Uint8Array, inputs?: Uint8Array[]): string {
  validateModelBytes(model);
  const lines = [
    `import { Interpreter } from "./${BUNDLE_FILE}";`,
    `const interpreter = new Interpreter(${arrayBufferExpression(model)});`,
  ];
  if (inputs === undefined) {
    return lines.join("\n") + "\n";
  }

  inputs.forEach((input, index) => {
    if (!(input instanceof Uint8Array)) {
      throw new Error(`invalid input ${index}: expected the tensor's raw bytes as a Uint8Array`);
    }
  });
  const inputExpressions = inputs.map((input) => `new Uint8Array(${arrayBufferExpression(input)})`);
  lines.push(
    `const inputBytes = [${inputExpressions.join(", ")}];`,
    `const countOf = (count, noun) => count + " " + noun + (count === 1 ? "" : "s");`,
    `if (interpreter.inputs.length !== inputBytes.length) {`,
    "  throw new Error(`the model has ${countOf(interpreter.inputs.length, \"input\")} but the request has ${inputBytes.length}: pass one Uint8Array per model input`);",
    `}`,
    `for (let index = 0; index < inputBytes.length; index++) {`,
    `  const expected = interpreter.inputs[index].bytes.length;`,
    `  if (inputBytes[index].length !== expected) {`,
    "    throw new Error(`input ${index} has ${countOf(inputBytes[index].length, \"byte\")} but the model expects ${expected}`);",
    `  }`,
    `}`,
    `function setInputs() {`,
    `  for (let index = 0; index < inputBytes.length; index++) {`,
    `    interpreter.inputs[index].bytes.set(inputBytes[index]);`,
    `  }`,
    `}`,
  );
  return lines.join("\n") + "\n";
}
