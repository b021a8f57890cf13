// microq run: raw little-endian tensor bytes in, model outputs out, on Node,
// or on the XS or QuickJS engine.

import { writeFileSync } from "node:fs";
import { ParsedArgs, singleValue } from "../args.js";
import { loadBundle } from "../bundle.js";
import { InputFileError, UsageError } from "../cli_errors.js";
import { readBinaryFile } from "../model_files.js";
import { runModelOnQuickJs } from "../quickjs/engine.js";
import { runModelOnXs } from "../xs/engine.js";

export const RUN_USAGE =
  "microq run MODEL.tflite --input IN0.bin [--input IN1.bin ...] --output OUT0.bin [--output OUT1.bin ...] [--engine node|xs|quickjs]";

export async function runCommand(args: ParsedArgs): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError(`run takes one model file\nusage: ${RUN_USAGE}`);
  const engine = singleValue(args, "engine", "node");
  if (engine !== "node" && engine !== "xs" && engine !== "quickjs") {
    throw new UsageError(`--engine must be node, xs or quickjs, got "${engine}"`);
  }
  const inputPaths = args.values.get("input") ?? [];
  const outputPaths = args.values.get("output") ?? [];
  if (inputPaths.length === 0) throw new UsageError(`run needs at least one --input file\nusage: ${RUN_USAGE}`);
  if (outputPaths.length === 0) throw new UsageError(`run needs at least one --output file\nusage: ${RUN_USAGE}`);

  const modelPath = args.positional[0];
  const model = readBinaryFile(modelPath, "model");
  const inputs = inputPaths.map((path, i) => readBinaryFile(path, `input ${i}`));

  // Load on Node first in both modes: it checks the model and the input
  // sizes with the same bundle and gives the clearest message.
  const microq = await loadBundle();
  const interpreter = new microq.Interpreter(model);
  if (inputs.length !== interpreter.inputs.length) {
    throw new InputFileError(
      `${modelPath} has ${interpreter.inputs.length} input tensors, but ${inputs.length} --input files were given; pass one per input, in order`,
    );
  }
  if (outputPaths.length !== interpreter.outputs.length) {
    throw new UsageError(
      `${modelPath} has ${interpreter.outputs.length} output tensors, but ${outputPaths.length} --output files were given; pass one per output, in order`,
    );
  }
  interpreter.inputs.forEach((tensor, i) => {
    if (inputs[i].byteLength !== tensor.bytes.byteLength) {
      throw new InputFileError(
        `input ${i} file ${inputPaths[i]} has ${inputs[i].byteLength} bytes, but input tensor "${tensor.name}" ` +
          `(${tensor.type} [${tensor.shape}]) needs ${tensor.bytes.byteLength}; pass raw little-endian tensor bytes`,
      );
    }
  });

  let outputs: Uint8Array[];
  if (engine === "xs") {
    outputs = (await runModelOnXs({ model, inputs })).outputs;
  } else if (engine === "quickjs") {
    outputs = (await runModelOnQuickJs({ model, inputs })).outputs;
  } else {
    interpreter.inputs.forEach((tensor, i) => tensor.bytes.set(inputs[i]));
    interpreter.invoke();
    outputs = interpreter.outputs.map((tensor) => tensor.bytes);
  }
  outputs.forEach((bytes, i) => writeFileSync(outputPaths[i], bytes));
}
