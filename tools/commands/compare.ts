// microq compare: runs a model operator by operator and measures each
// layer's output against the float reference of tools/reference/ and,
// with --dumps, against intermediate tensors dumped from TFLite Micro.

import { ParsedArgs, singleValue } from "../args.js";
import { Microq, loadBundle } from "../bundle.js";
import { InputFileError, UsageError } from "../cli_errors.js";
import { readBinaryFile } from "../model_files.js";
import { ModelDef, OperatorDef, TensorDef, parseModel } from "../../runtime/model.js";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { outputLsb, referenceLayer } from "../reference/layer.js";
import { FloatReferenceError, decodeValues } from "../reference/tensor.js";
import { TflmDump, readDumpTensorBytes, readTflmDump } from "../reference/tflm_dump.js";
import { countOf, escapeControlCharacters, stringifyJsonForTerminal } from "../text.js";

export const COMPARE_USAGE = "microq compare MODEL.tflite --input IN0.bin [--input IN1.bin ...] [--dumps DIR] [--json]";

export const COMPARE_HELP = `usage: ${COMPARE_USAGE}

Runs the model one operator at a time and prints, for each layer, how far microq's output
is from a float reference of that layer and, with --dumps, from the tensor that TFLite Micro
dumped for the same input.

options:
  --input FILE   raw little-endian bytes of one input tensor; give one per model input, in order
  --dumps DIR    folder of tensors dumped from TFLite Micro for this model and input:
                 index.json and one <tensor index>.bin file per tensor
  --json         print the report as JSON`;

type Interpreter = InstanceType<Microq["Interpreter"]>;

/** Differences of one tensor from the float reference or from a dump, in LSB. */
export interface DifferenceStats {
  elements: number;
  /** Elements whose stored value differs. */
  differing: number;
  maxDifference: number;
  meanDifference: number;
}

export interface LayerRow {
  /** Operator index, or null for a graph input. */
  operatorIndex: number | null;
  /** Builtin operator name, or "input". */
  operator: string;
  tensorIndex: number;
  tensorName: string;
  type: string;
  shape: number[];
  /** Stored-value size of 1 LSB: 1 for integer tensors, a real step for float32 ones. */
  lsb: number;
  /** microq against the float reference. Null for inputs, and where referenceNote gives the reason. */
  reference: DifferenceStats | null;
  referenceNote: string | null;
  /** microq against the dumped tensor. Null when the dump has no usable copy of it. */
  dump: DifferenceStats | null;
  firstMismatch: boolean;
}

export interface CompareReport {
  model: string;
  inputs: string[];
  dumps: string | null;
  layers: LayerRow[];
  /** The first row in graph order that differs from the dump. Null without --dumps or when all match. */
  firstMismatch: { operatorIndex: number | null; operator: string; tensorIndex: number; tensorName: string } | null;
  /** Dump entries that were not compared and other findings, one sentence each. */
  notes: string[];
}

export async function compareCommand(args: ParsedArgs): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError(`compare takes one model file\nusage: ${COMPARE_USAGE}`);
  const inputPaths = args.values.get("input") ?? [];
  if (inputPaths.length === 0) throw new UsageError(`compare needs at least one --input file\nusage: ${COMPARE_USAGE}`);
  const dumpDirectory = args.values.has("dumps") ? singleValue(args, "dumps", "") : null;

  const modelPath = args.positional[0];
  const modelBytes = readBinaryFile(modelPath, "model");
  const inputs = inputPaths.map((path, i) => readBinaryFile(path, `input ${i} file`));
  const dump = dumpDirectory === null ? null : readTflmDump(dumpDirectory);

  const report = buildCompareReport(await loadBundle(), { modelPath, modelBytes, inputPaths, inputs, dump });
  process.stdout.write(args.flags.has("json") ? stringifyJsonForTerminal(report) + "\n" : formatCompareReport(report) + "\n");
}

export interface CompareRequest {
  modelPath: string;
  modelBytes: Uint8Array;
  inputPaths: string[];
  inputs: Uint8Array[];
  dump: TflmDump | null;
}

export function buildCompareReport(microq: Microq, request: CompareRequest): CompareReport {
  const interpreter = new microq.Interpreter(request.modelBytes);
  checkInputs(interpreter, request);
  const model = parseModel(request.modelBytes);
  const notes: string[] = [];
  const { layers, outputs } = runLayers(interpreter, model, request.inputs, notes);

  let firstMismatch: CompareReport["firstMismatch"] = null;
  if (request.dump !== null) {
    compareWithDump(request.modelPath, model, request.dump, layers, outputs, notes);
    const first = layers.find((row) => row.dump !== null && row.dump.differing > 0);
    if (first !== undefined) {
      first.firstMismatch = true;
      firstMismatch = { operatorIndex: first.operatorIndex, operator: first.operator, tensorIndex: first.tensorIndex, tensorName: first.tensorName };
    }
  }
  return {
    model: request.modelPath,
    inputs: request.inputPaths,
    dumps: request.dump === null ? null : request.dump.directory,
    layers,
    firstMismatch,
    notes,
  };
}

function checkInputs(interpreter: Interpreter, request: CompareRequest): void {
  if (request.inputs.length !== interpreter.inputs.length) {
    throw new InputFileError(
      `${request.modelPath} has ${countOf(interpreter.inputs.length, "input tensor")}, but ` +
        `${countOf(request.inputs.length, "--input file")} ${request.inputs.length === 1 ? "was" : "were"} given; ` +
        `pass one per input, in order`,
    );
  }
  interpreter.inputs.forEach((tensor, i) => {
    if (request.inputs[i].byteLength !== tensor.bytes.byteLength) {
      throw new InputFileError(
        `input ${i} file ${request.inputPaths[i]} has ${countOf(request.inputs[i].byteLength, "byte")}, but input tensor "${tensor.name}" ` +
          `(${tensor.type} [${tensor.shape}]) needs ${tensor.bytes.byteLength}; pass raw little-endian tensor bytes`,
      );
    }
  });
}

/**
 * Runs the graph one operator at a time, as invoke() does, and copies each
 * tensor as soon as it is written, because later operators reuse arena
 * memory. Each operator's activation inputs are copied right before it
 * runs, so the reference reads exactly the values the kernel read. Returns one row
 * per graph input and per operator output, and the copied tensors.
 */
function runLayers(
  interpreter: Interpreter,
  model: ModelDef,
  inputs: Uint8Array[],
  notes: string[],
): { layers: LayerRow[]; outputs: Map<number, Uint8Array> } {
  interpreter.inputs.forEach((tensor, i) => tensor.bytes.set(inputs[i]));
  const written = new Map<number, Uint8Array>();
  const layers: LayerRow[] = [];
  for (const index of model.inputs) {
    written.set(index, interpreter.tensorBytes(index).slice());
    layers.push(newRow(model.tensors[index], null, "input", tensorLsb(model.tensors[index])));
  }

  for (const op of model.operators) {
    const readBytes = new Map<number, Uint8Array>();
    for (const index of op.inputs) {
      if (index < 0 || model.tensors[index].dataOffset >= 0 || readBytes.has(index)) continue;
      const bytes = interpreter.tensorBytes(index).slice();
      const writtenBytes = written.get(index);
      if (writtenBytes !== undefined && !sameBytes(bytes, writtenBytes)) {
        notes.push(
          `tensor ${index} "${model.tensors[index].name}" changed between being written and operator ${op.index} (${op.name}) ` +
            `reading it: another tensor shares its arena memory, a memory planner bug`,
        );
      }
      readBytes.set(index, bytes);
    }

    interpreter.invokeOperator(op.index);
    for (const index of op.outputs) written.set(index, interpreter.tensorBytes(index).slice());

    for (const index of op.outputs) {
      const row = newRow(model.tensors[index], op.index, op.name, outputLsb(model, op));
      measureAgainstReference(model, op, row, readBytes, written.get(index) as Uint8Array);
      layers.push(row);
    }
  }
  // Variable tensors (SVDF and LSTM state) as the invoke left them, which is
  // what a TFLM dump holds for them.
  for (const tensor of model.tensors) {
    if (!tensor.isVariable || written.has(tensor.index)) continue;
    written.set(tensor.index, interpreter.tensorBytes(tensor.index).slice());
    layers.push(newRow(tensor, null, "state", tensorLsb(tensor)));
  }
  return { layers, outputs: written };
}

function newRow(tensor: TensorDef, operatorIndex: number | null, operator: string, lsb: number): LayerRow {
  return {
    operatorIndex,
    operator,
    tensorIndex: tensor.index,
    tensorName: tensor.name,
    type: tensorTypeName(tensor.type),
    shape: [...tensor.shape],
    lsb,
    reference: null,
    referenceNote: null,
    dump: null,
    firstMismatch: false,
  };
}

/** Returns 1 LSB in stored values: the scale of a quantized float32 tensor, else 1. */
function tensorLsb(tensor: TensorDef): number {
  return tensor.type === TensorType.FLOAT32 && tensor.scale.length > 0 && tensor.scale[0] > 0 ? tensor.scale[0] : 1;
}

function measureAgainstReference(
  model: ModelDef,
  op: OperatorDef,
  row: LayerRow,
  readBytes: Map<number, Uint8Array>,
  outputBytes: Uint8Array,
): void {
  if (op.outputs.length !== 1) {
    row.referenceNote = `${op.name} has ${op.outputs.length} outputs; the float reference handles one`;
    return;
  }
  try {
    const reference = referenceLayer(model, op, (index) => {
      const bytes = readBytes.get(index);
      if (bytes === undefined) throw new FloatReferenceError(`tensor ${index} was not copied before operator ${op.index} ran`);
      return bytes;
    });
    const output = model.tensors[op.outputs[0]];
    row.reference = difference(decodeValues(outputBytes, output.type), reference.expected, reference.lsb);
  } catch (error) {
    if (!(error instanceof FloatReferenceError)) throw error;
    row.referenceNote = error.message;
  }
}

/** Compares element by element. Each difference is |actual - expected| / lsb. */
function difference(actual: Float64Array, expected: Float64Array, lsb: number): DifferenceStats {
  let differing = 0;
  let maxDifference = 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === expected[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    differing++;
    const d = Math.abs(actual[i] - expected[i]) / lsb;
    // A NaN on one side counts as the largest difference there is.
    const size = Number.isNaN(d) ? Number.MAX_VALUE : d;
    sum += size;
    if (size > maxDifference) maxDifference = size;
  }
  return { elements: actual.length, differing, maxDifference, meanDifference: actual.length > 0 ? sum / actual.length : 0 };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Fills in the dump columns of the rows whose tensor the dump contains.
 * Entries that cannot be compared (not in the model, not written by microq,
 * a missing file) become notes. Throws InputFileError when the dump is of
 * another model: an entry's type or shape differs from the model's tensor
 * at that index, or no entry could be compared.
 */
function compareWithDump(
  modelPath: string,
  model: ModelDef,
  dump: TflmDump,
  layers: LayerRow[],
  outputs: Map<number, Uint8Array>,
  notes: string[],
): void {
  const firstNote = notes.length;
  notes.push(...dump.problems);
  const rows = new Map(layers.map((row) => [row.tensorIndex, row]));
  for (const entry of dump.tensors) {
    const label = `dump tensor ${entry.index} "${entry.name}"`;
    const tensor = model.tensors[entry.index];
    if (tensor === undefined) {
      notes.push(`${label} not compared: the model has only ${countOf(model.tensors.length, "tensor")}; check that the dump is of this model`);
      continue;
    }
    const modelType = tensorTypeName(tensor.type);
    if (entry.type !== modelType || entry.shape.length !== tensor.shape.length || entry.shape.some((d, i) => d !== tensor.shape[i])) {
      throw new InputFileError(
        `${label} in ${dump.directory} is ${entry.type} [${entry.shape}], but tensor ${tensor.index} "${tensor.name}" of ` +
          `${modelPath} is ${modelType} [${tensor.shape}], so the dump is of another model; pass the dump folder of this model`,
      );
    }
    const row = rows.get(entry.index);
    const bytes = outputs.get(entry.index);
    if (row === undefined || bytes === undefined) {
      notes.push(`${label} not compared: microq does not produce it, as it is neither a graph input nor an operator output`);
      continue;
    }
    if (entry.producerOpIndex !== row.operatorIndex) {
      notes.push(
        `${label}: the dump says operator ${entry.producerOpIndex ?? "none"} wrote it, the model says ${row.operatorIndex ?? "none (graph input)"}; compared anyway`,
      );
    }
    const dumped = readDumpTensorBytes(dump, entry);
    if (typeof dumped === "string") {
      notes.push(`${label} not compared: ${dumped}`);
      continue;
    }
    if (dumped.byteLength !== tensor.byteLength) {
      notes.push(`${label} not compared: ${entry.file} has ${countOf(dumped.byteLength, "byte")}, the tensor has ${tensor.byteLength}`);
      continue;
    }
    row.dump = difference(decodeValues(bytes, tensor.type), decodeValues(dumped, tensor.type), row.lsb);
  }

  if (!layers.some((row) => row.dump !== null)) {
    const reason = dump.tensors.length === 0 ? "its index.json lists no usable tensor" : `the first reason: ${notes[firstNote]}`;
    throw new InputFileError(
      `no tensor of dump folder ${dump.directory} could be compared with ${modelPath} (${reason}); pass the dump folder of this model`,
    );
  }
}

// Text output.

const FIRST_MISMATCH_MARKER = "<-- first mismatch";

/** Formats an error in LSB: integers as they are, fractions with 2 significant digits. */
function formatLsb(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(2)));
}

export function formatCompareReport(report: CompareReport): string {
  const withDump = report.dumps !== null;
  const header = ["op", "operator", "tensor", "type", "shape", "ref max", "ref mean"];
  if (withDump) header.push("dump diffs", "dump max");
  header.push("tensor name");

  const cells = report.layers.map((row) => {
    const line = [
      row.operatorIndex === null ? "-" : String(row.operatorIndex),
      row.operator,
      String(row.tensorIndex),
      row.type,
      `[${row.shape.join(",")}]`,
      row.reference === null ? "-" : formatLsb(row.reference.maxDifference),
      row.reference === null ? "-" : formatLsb(row.reference.meanDifference),
    ];
    if (withDump) {
      line.push(row.dump === null ? "-" : String(row.dump.differing), row.dump === null ? "-" : formatLsb(row.dump.maxDifference));
    }
    line.push(row.firstMismatch ? `${row.tensorName}  ${FIRST_MISMATCH_MARKER}` : row.tensorName);
    // Names come from the model file: escaping before the widths are measured keeps the columns aligned.
    return line.map(escapeControlCharacters);
  });

  // Text columns align left and numeric ones right. The name column stays unpadded.
  const leftAligned = new Set([1, 3, 4, header.length - 1]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column].length)));
  const formatLine = (line: string[]) =>
    line
      .map((cell, column) => {
        if (column === line.length - 1) return cell;
        return leftAligned.has(column) ? cell.padEnd(widths[column]) : cell.padStart(widths[column]);
      })
      .join("  ");

  const lines: string[] = [];
  lines.push(`model: ${report.model}`);
  lines.push(`inputs: ${report.inputs.join(", ")}`);
  if (withDump) lines.push(`dumps: ${report.dumps}`);
  lines.push("ref: |microq - float reference| in LSB of the output, from microq's own inputs to each layer");
  if (withDump) lines.push("dump: elements that differ from the dumped tensor, and the largest difference in LSB");
  lines.push("");
  lines.push(formatLine(header));
  for (const line of cells) lines.push(formatLine(line));
  lines.push("");
  lines.push(...summaryLines(report));
  if (report.notes.length > 0) {
    lines.push("");
    lines.push(`notes (${report.notes.length}):`);
    for (const note of report.notes) lines.push(`  ${note}`);
  }
  // Notes and summary lines quote tensor names too.
  return lines.map(escapeControlCharacters).join("\n");
}

function summaryLines(report: CompareReport): string[] {
  const lines: string[] = [];
  let worst: LayerRow | undefined;
  for (const row of report.layers) {
    if (row.reference !== null && (worst === undefined || row.reference.maxDifference > (worst.reference as DifferenceStats).maxDifference)) worst = row;
  }
  if (worst !== undefined && (worst.reference as DifferenceStats).maxDifference === 0) {
    lines.push("float reference: every layer matches it exactly");
  } else if (worst !== undefined) {
    const stats = worst.reference as DifferenceStats;
    lines.push(
      `float reference: largest error ${formatLsb(stats.maxDifference)} LSB, at operator ${worst.operatorIndex} (${worst.operator}) ` +
        `tensor ${worst.tensorIndex}`,
    );
  }
  for (const row of report.layers) {
    if (row.referenceNote !== null) lines.push(`float reference skipped operator ${row.operatorIndex} (${row.operator}): ${row.referenceNote}`);
  }
  if (report.dumps === null) return lines;

  const compared = report.layers.filter((row) => row.dump !== null).length;
  const first = report.layers.find((row) => row.firstMismatch);
  if (first === undefined || first.dump === null) {
    lines.push(compared === 1 ? "dump: the 1 compared tensor matches microq" : `dump: all ${compared} compared tensors match microq`);
  } else {
    const where = first.operatorIndex === null ? "graph input" : `operator ${first.operatorIndex} (${first.operator})`;
    lines.push(
      `first mismatch: ${where} tensor ${first.tensorIndex} "${first.tensorName}": ${first.dump.differing} of ` +
        `${first.dump.elements} elements differ, by up to ${formatLsb(first.dump.maxDifference)} LSB`,
    );
    if (first.operatorIndex === null) lines.push("the --input file differs from the input the dump was made from");
  }
  return lines;
}
