// microq inspect: what a model contains and what it needs to run here.

import { ParsedArgs } from "../args.js";
import { Microq, loadBundle } from "../bundle.js";
import { UsageError } from "../cli_errors.js";
import { readBinaryFile } from "../model_files.js";
import { formatModdableCreation, moddableCreation } from "../moddable/creation.js";
import { escapeControlCharacters, stringifyJsonForTerminal } from "../text.js";

export const INSPECT_USAGE = "microq inspect MODEL.tflite [--json] [--moddable]";

export const INSPECT_HELP = `usage: ${INSPECT_USAGE}

Prints the model's operators, graph, tensors, inputs and outputs, and, when microq supports
every operator, the multiply-accumulates per invoke and the arena and persistent memory in
bytes; otherwise it lists the unsupported operators.

options:
  --json       print the report as JSON
  --moddable   print instead the "creation" block of a Moddable manifest that the model needs
               (chunk and slot heaps, stack), with a comment line on how each figure is made up;
               with --json, the block and its terms as JSON`;

interface TensorReport {
  index: number;
  name: string;
  type: string;
  shape: number[];
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  constant: boolean;
  variable: boolean;
  bytes: number;
}

interface OperatorReport {
  index: number;
  name: string;
  inputs: number[];
  outputs: number[];
  macs: number | null;
}

export interface InspectReport {
  model: string;
  modelBytes: number;
  description: string;
  operatorCounts: Record<string, number>;
  operators: OperatorReport[];
  tensors: TensorReport[];
  inputs: number[];
  outputs: number[];
  /** Null when the model cannot be prepared because of unsupported operators. */
  macs: number | null;
  arenaBytes: number | null;
  persistentBytes: number | null;
  /** Requantization scheme the kernels use (null when the model cannot be prepared). */
  requantization: string | null;
  unsupported: string[];
}

export async function buildInspectReport(microq: Microq, path: string, bytes: Uint8Array): Promise<InspectReport> {
  const model = microq.parseModel(bytes);
  let interpreter: InstanceType<Microq["Interpreter"]> | null = null;
  let unsupported: string[] = [];
  try {
    interpreter = new microq.Interpreter(bytes);
  } catch (error) {
    if (!(error instanceof microq.UnsupportedError)) throw error;
    unsupported = error.problems.length > 0 ? [...error.problems] : [error.message];
  }

  const operatorCounts: Record<string, number> = {};
  for (const op of model.operators) operatorCounts[op.name] = (operatorCounts[op.name] ?? 0) + 1;

  return {
    model: path,
    modelBytes: bytes.byteLength,
    description: model.description,
    operatorCounts,
    operators: model.operators.map((op, i) => ({
      index: op.index,
      name: op.name,
      inputs: [...op.inputs],
      outputs: [...op.outputs],
      macs: interpreter === null ? null : interpreter.operators[i].macs,
    })),
    tensors: model.tensors.map((t) => ({
      index: t.index,
      name: t.name,
      type: microq.tensorTypeName(t.type),
      shape: [...t.shape],
      scale: [...t.scale],
      zeroPoint: [...t.zeroPoint],
      quantizedDimension: t.quantizedDimension,
      constant: t.dataOffset >= 0,
      variable: t.isVariable,
      bytes: t.byteLength,
    })),
    inputs: [...model.inputs],
    outputs: [...model.outputs],
    macs: interpreter === null ? null : interpreter.macs,
    arenaBytes: interpreter === null ? null : interpreter.arenaBytes,
    persistentBytes: interpreter === null ? null : interpreter.persistentBytes,
    requantization: interpreter === null ? null : interpreter.requantization,
    unsupported,
  };
}

function formatQuantization(t: TensorReport): string {
  if (t.scale.length === 0) return "-";
  if (t.scale.length === 1) return `scale ${t.scale[0].toPrecision(6)} zp ${t.zeroPoint[0]}`;
  return `per-channel ${t.scale.length} scales (dim ${t.quantizedDimension})`;
}

export function formatInspectReport(report: InspectReport): string {
  const lines: string[] = [];
  lines.push(`model: ${report.model} (${report.modelBytes} bytes)`);
  if (report.description !== "") lines.push(`description: ${report.description}`);
  lines.push("");
  lines.push("operators:");
  for (const [name, count] of Object.entries(report.operatorCounts).sort()) {
    lines.push(`  ${escapeControlCharacters(name).padEnd(28)} ${count}`);
  }
  lines.push("");
  lines.push("graph:");
  for (const op of report.operators) {
    const macs = op.macs === null ? "" : `  ${op.macs} MACs`;
    lines.push(`  ${String(op.index).padStart(3)} ${escapeControlCharacters(op.name).padEnd(24)} [${op.inputs}] -> [${op.outputs}]${macs}`);
  }
  lines.push("");
  lines.push("tensors:");
  for (const t of report.tensors) {
    let role = "";
    if (t.constant) role = "const";
    else if (t.variable) role = "var";
    lines.push(
      `  ${String(t.index).padStart(3)} ${t.type.padEnd(7)} [${t.shape.join(",")}]`.padEnd(34) +
        ` ${role.padEnd(5)} ${formatQuantization(t).padEnd(34)} ${t.name}`,
    );
  }
  lines.push("");
  lines.push(`inputs: ${report.inputs.map((i) => `tensor ${i}`).join(", ")}`);
  lines.push(`outputs: ${report.outputs.map((i) => `tensor ${i}`).join(", ")}`);
  if (report.macs !== null) {
    lines.push(`MACs per invoke: ${report.macs}`);
    lines.push(`arena bytes (activations and scratch): ${report.arenaBytes}`);
    lines.push(`persistent bytes (derived parameters): ${report.persistentBytes}`);
    lines.push(`requantization scheme: ${report.requantization}`);
  }
  if (report.unsupported.length > 0) {
    lines.push("");
    lines.push(`unsupported (${report.unsupported.length}):`);
    for (const problem of report.unsupported) lines.push(`  ${problem}`);
  } else {
    lines.push("unsupported: none");
  }

  // Tensor names, custom operator names and the description come from the model file, so
  // control characters in them are printed as escapes such as \x1b, which a terminal shows as text.
  return lines.map(escapeControlCharacters).join("\n");
}

export async function inspectCommand(args: ParsedArgs): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError(`inspect takes one model file\nusage: ${INSPECT_USAGE}`);
  const path = args.positional[0];
  const bytes = readBinaryFile(path, "model");
  const microq = await loadBundle();
  const report = await buildInspectReport(microq, path, bytes);
  if (args.flags.has("moddable")) {
    if (report.unsupported.length > 0) {
      throw new microq.UnsupportedError(
        `${path} uses operators microq cannot run (${report.unsupported.length}), so it has no creation block; ` +
          "run microq inspect without --moddable to list them",
        report.unsupported,
      );
    }
    const estimate = moddableCreation(report);
    process.stdout.write(args.flags.has("json") ? stringifyJsonForTerminal(estimate) + "\n" : formatModdableCreation(estimate) + "\n");
    return;
  }
  process.stdout.write(args.flags.has("json") ? stringifyJsonForTerminal(report) + "\n" : formatInspectReport(report) + "\n");
}
