// Reading a folder of intermediate tensors dumped from TensorFlow Lite Micro:
// index.json lists the tensors (index, file, name, type, shape, scale,
// zero_point, producer_op_index) and each tensor's raw little-endian bytes
// are in its own file, usually "<index>.bin".

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InputFileError } from "../cli_errors.js";

/** One tensor listed in index.json. */
export interface DumpTensor {
  readonly index: number;
  /** File name inside the dump folder. */
  readonly file: string;
  readonly name: string;
  /** Type name as tensorTypeName spells it: "int8", "float32". */
  readonly type: string;
  readonly shape: readonly number[];
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** Operator that wrote the tensor, or null for a graph input. */
  readonly producerOpIndex: number | null;
}

export interface TflmDump {
  readonly directory: string;
  readonly tensors: readonly DumpTensor[];
  /** Entries of index.json that could not be read, one sentence each. */
  readonly problems: readonly string[];
}

const HINT = "pass a folder with index.json and one <tensor index>.bin file per tensor";

/** Reads index.json of a dump folder and throws InputFileError when the folder or its index is unusable. */
export function readTflmDump(directory: string): TflmDump {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new InputFileError(`dump folder ${directory} not found or not a folder; ${HINT}`);
  }
  const indexPath = join(directory, "index.json");
  if (!existsSync(indexPath)) {
    throw new InputFileError(`dump folder ${directory} has no index.json; ${HINT}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(indexPath, "utf8"));
  } catch (error) {
    throw new InputFileError(`${indexPath} is not valid JSON (${(error as Error).message}); ${HINT}`);
  }
  const list = (parsed as { tensors?: unknown } | null)?.tensors;
  if (!Array.isArray(list)) {
    throw new InputFileError(`${indexPath} has no "tensors" array; ${HINT}`);
  }

  const tensors: DumpTensor[] = [];
  const problems: string[] = [];
  list.forEach((entry, position) => {
    const tensor = parseEntry(entry);
    if (typeof tensor === "string") problems.push(`index.json tensors[${position}] skipped: ${tensor}`);
    else tensors.push(tensor);
  });
  return { directory, tensors, problems };
}

/** Returns the entry, or a sentence saying which field is invalid. */
function parseEntry(entry: unknown): DumpTensor | string {
  if (entry === null || typeof entry !== "object") return "not an object";
  const fields = entry as Record<string, unknown>;
  const index = fields.index;
  if (!Number.isInteger(index) || (index as number) < 0) return `index ${JSON.stringify(index)} is not a tensor index`;
  const file = fields.file;
  if (typeof file !== "string" || file === "" || basename(file) !== file) {
    return `tensor ${index}: file ${JSON.stringify(file)} is not a file name inside the folder`;
  }
  const producer = fields.producer_op_index ?? null;
  if (producer !== null && !Number.isInteger(producer)) return `tensor ${index}: producer_op_index ${JSON.stringify(producer)} is not an integer`;
  return {
    index: index as number,
    file,
    name: typeof fields.name === "string" ? fields.name : "",
    type: typeof fields.type === "string" ? fields.type : "",
    shape: numberList(fields.shape),
    scale: numberList(fields.scale),
    zeroPoint: numberList(fields.zero_point),
    producerOpIndex: producer as number | null,
  };
}

function numberList(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

/** Returns the tensor's bytes, or a sentence saying why they cannot be read. */
export function readDumpTensorBytes(dump: TflmDump, tensor: DumpTensor): Uint8Array | string {
  const path = join(dump.directory, tensor.file);
  try {
    const data = readFileSync(path);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    return `${path} not readable (${(error as NodeJS.ErrnoException).code ?? "error"})`;
  }
}
