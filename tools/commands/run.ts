// microq run: raw little-endian tensor bytes in, model outputs out, on Node,
// or on the XS or QuickJS engine.

import { ParsedArgs, singleValue } from "../args.js";
import { loadBundle } from "../bundle.js";
import { InputFileError, OutputFileError, UsageError } from "../cli_errors.js";
import { readBinaryFile } from "../model_files.js";
import { checkOutputPaths, writeOutputFiles } from "../output_files.js";
import { runModelOnQuickJs } from "../quickjs/engine.js";
import { countOf } from "../text.js";
import { runModelOnXs } from "../xs/engine.js";

export const RUN_USAGE =
  "microq run MODEL.tflite --input IN0.bin [--input IN1.bin ...] --output OUT0.bin [--output OUT1.bin ...] [--engine node|xs|quickjs]";

export const RUN_HELP = `usage: ${RUN_USAGE}

Runs the model once and writes the raw bytes of each output tensor.

options:
  --input FILE    raw little-endian bytes of one input tensor; give one per model input, in order.
                  Character devices and FIFOs such as /dev/stdin are read to the end.
  --output FILE   file for the raw bytes of one output tensor; give one per model output, in order.
                  The files are written only after the run succeeds.
  --engine NAME   node (the default), xs (the XS engine through the xsnap CLI) or quickjs
                  (QuickJS compiled to WebAssembly)`;

/** Returns "1 --input file was given" or "2 --input files were given". */
function filesGiven(count: number, option: string): string {
  return `${countOf(count, `${option} file`)} ${count === 1 ? "was" : "were"} given`;
}

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
  const inputs = inputPaths.map((path, i) => readBinaryFile(path, `input ${i} file`));

  // Load on Node first in both modes: it checks the model and the input
  // sizes with the same bundle and gives the clearest message.
  const microq = await loadBundle();
  const interpreter = new microq.Interpreter(model);
  if (inputs.length !== interpreter.inputs.length) {
    throw new InputFileError(
      `${modelPath} has ${countOf(interpreter.inputs.length, "input tensor")}, but ${filesGiven(inputs.length, "--input")}; ` +
        "pass one per input, in order",
    );
  }
  if (outputPaths.length !== interpreter.outputs.length) {
    throw new OutputFileError(
      `${modelPath} has ${countOf(interpreter.outputs.length, "output tensor")}, but ${filesGiven(outputPaths.length, "--output")}; ` +
        "pass one per output, in order",
    );
  }
  interpreter.inputs.forEach((tensor, i) => {
    if (inputs[i].byteLength !== tensor.bytes.byteLength) {
      throw new InputFileError(
        `input ${i} file ${inputPaths[i]} has ${countOf(inputs[i].byteLength, "byte")}, but input tensor "${tensor.name}" ` +
          `(${tensor.type} [${tensor.shape}]) needs ${tensor.bytes.byteLength}; pass raw little-endian tensor bytes`,
      );
    }
  });
  const targets = checkOutputPaths(outputPaths, [
    { description: `the model ${modelPath}`, path: modelPath },
    ...inputPaths.map((path, i) => ({ description: `input ${i} file ${path}`, path })),
  ]);

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
  writeOutputFiles(targets, outputs);
}
