// Measures the convolution kernels on a TFLM fixture model (person_detect by
// default): XS meter units per multiply-accumulate by operator type, XS and
// Node wall time per invoke, and the persistent bytes of each kernel set.
//
// Kernel sets:
//   microq  dist/microq.js, the optimized kernels.
//   naive   dist/microq-naive.js, a line-by-line port of TFLM's reference
//           kernels; skipped when that bundle is missing.
//
// All sets run in one XS process and one Node process, with their invokes
// interleaved round by round, so that load from other processes on the
// machine slows every set alike. Times are medians over the rounds of single
// invokes, so for a model that runs in well under a millisecond they mostly
// show the clock's resolution.
//
// Usage: node build/bench/kernels/person_detect.js [--model NAME] [--xs-runs N] [--node-runs N] [--operators] [--json]
//   --model      a model of the TFLM fixture manifest, such as micro_speech_quantized
//   --operators  also print the meter units per MAC of every operator
// Build first: node scripts/build.mjs

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { parseArgs, singleValue } from "../../tools/args.js";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { arrayBufferExpression } from "../../tools/xs/model-module.js";
import { readFixture, tflmModel } from "../../host-tests/fixtures.js";

const RECORD_PREFIX = "#bench:";
const XS_TIMEOUT_MS = 1_800_000;

interface KernelSetSource {
  name: string;
  /** File name of the bundle inside the XS run folder. */
  file: string;
  code: string;
  /** Exported function to pass as resolveKernel, or null for the bundle's own kernels. */
  resolver: string | null;
}

/** Measurements of one kernel set on one engine. */
interface SetMeasurement {
  name: string;
  outputs: number[];
  persistentBytes: number;
  macs: number;
  /** Per operator: name, MACs, meter units (XS only). */
  operators: { name: string; macs: number; meter: number | null }[];
  /** Meter units of one whole invoke (XS only). */
  invokeMeter: number | null;
  /** Median ms per invoke. */
  medianMs: number;
}

async function kernelSets(): Promise<KernelSetSource[]> {
  const microqPath = resolve(REPOSITORY_ROOT, "dist", "microq.js");
  if (!existsSync(microqPath)) throw new Error(`${microqPath} not found: run node scripts/build.mjs first`);
  const sets: KernelSetSource[] = [];
  const naivePath = resolve(REPOSITORY_ROOT, "dist", "microq-naive.js");
  if (existsSync(naivePath)) {
    sets.push({ name: "naive", file: "naive.mjs", code: readFileSync(naivePath, "utf8"), resolver: "resolveNaiveKernel" });
  }
  sets.push({ name: "microq", file: "microq.mjs", code: readFileSync(microqPath, "utf8"), resolver: null });
  return sets;
}

/**
 * Returns the source of an ES module that measures every kernel set. The
 * module runs unchanged on XS and on Node, where `hasMeter` is false.
 */
function measurementModule(sets: KernelSetSource[], model: Uint8Array, input: Uint8Array, runs: number, hasMeter: boolean): string {
  const imports = sets.map((set, i) => `import * as bundle${i} from "./${set.file}";`).join("\n");
  const creators = sets
    .map((set, i) => {
      const options = set.resolver === null ? "{}" : `{ resolveKernel: bundle${i}.${set.resolver} }`;
      return `  { name: ${JSON.stringify(set.name)}, interpreter: new bundle${i}.Interpreter(model, ${options}) },`;
    })
    .join("\n");
  return `${imports}
const model = ${arrayBufferExpression(model)};
const input = new Uint8Array(${arrayBufferExpression(input)});
const now = () => performance.now();
const sets = [
${creators}
];
const results = [];
for (const set of sets) {
  const interpreter = set.interpreter;
  // The arena planner may reuse the input tensor's memory for later
  // tensors, so the input is copied in before every invoke.
  interpreter.inputs[0].bytes.set(input);
  // Operators run in graph order, so each finds its inputs as a whole invoke leaves them.
  const operators = [];
  for (let i = 0; i < interpreter.operators.length; i++) {
    let meter = null;
    if (${hasMeter}) resetMeter(0, 0);
    interpreter.invokeOperator(i);
    if (${hasMeter}) meter = resetMeter(0, 0);
    operators.push({ name: interpreter.operators[i].name, macs: interpreter.operators[i].macs, meter });
  }
  let invokeMeter = null;
  interpreter.inputs[0].bytes.set(input);
  if (${hasMeter}) resetMeter(0, 0);
  interpreter.invoke();
  if (${hasMeter}) invokeMeter = resetMeter(0, 0);
  results.push({
    name: set.name,
    outputs: Array.from(new Int8Array(interpreter.outputs[0].bytes.buffer, interpreter.outputs[0].bytes.byteOffset, interpreter.outputs[0].bytes.length)),
    persistentBytes: interpreter.persistentBytes,
    macs: interpreter.macs,
    operators,
    invokeMeter,
    times: [],
  });
}
for (let round = 0; round < ${runs}; round++) {
  for (let s = 0; s < sets.length; s++) {
    const interpreter = sets[s].interpreter;
    interpreter.inputs[0].bytes.set(input);
    const start = now();
    interpreter.invoke();
    results[s].times.push(now() - start);
  }
}
for (const result of results) {
  const times = result.times.slice().sort((a, b) => a - b);
  const middle = times.length >> 1;
  result.medianMs = times.length % 2 === 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
  delete result.times;
}
export const measurements = results;
if (typeof print === "function") print(${JSON.stringify(RECORD_PREFIX)} + JSON.stringify(results));
`;
}

async function measureOnXs(sets: KernelSetSource[], model: Uint8Array, input: Uint8Array, runs: number): Promise<SetMeasurement[]> {
  const files: Record<string, string> = { "main.mjs": measurementModule(sets, model, input, runs, true) };
  for (const set of sets) files[set.file] = set.code;
  const result = await runXsModule(files, "main.mjs", { timeoutMs: XS_TIMEOUT_MS });
  if (result.error !== undefined) {
    throw new Error(`XS measurement failed: ${result.error.name}: ${result.error.message}\n${result.error.stack ?? ""}`);
  }
  const line = result.stdout.split("\n").find((text) => text.startsWith(RECORD_PREFIX));
  if (line === undefined) throw new Error(`XS measurement printed no results. Its stdout was ${JSON.stringify(result.stdout)}`);
  return JSON.parse(line.slice(RECORD_PREFIX.length)) as SetMeasurement[];
}

async function measureOnNode(sets: KernelSetSource[], model: Uint8Array, input: Uint8Array, runs: number): Promise<SetMeasurement[]> {
  const folder = mkdtempSync(join(tmpdir(), "microq-bench-"));
  try {
    for (const set of sets) writeFileSync(join(folder, set.file), set.code);
    // The module decodes its data with XS's Base64 global, which Node lacks.
    const globals = globalThis as { Base64?: { decode(text: string): ArrayBuffer } };
    globals.Base64 ??= {
      decode: (text: string) => {
        const bytes = Buffer.from(text, "base64");
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      },
    };
    const main = join(folder, "main.mjs");
    writeFileSync(main, measurementModule(sets, model, input, runs, false));
    const module = (await import(pathToFileURL(main).href)) as { measurements: SetMeasurement[] };
    return module.measurements;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

interface TypeRow {
  type: string;
  macs: number;
  meterPerMac: Record<string, number>;
}

/** Sums meter units and MACs of each operator type, in the order types first appear. */
function meterByType(measurements: SetMeasurement[]): TypeRow[] {
  const rows = new Map<string, TypeRow>();
  const meters = new Map<string, Map<string, number>>();
  for (const set of measurements) {
    set.operators.forEach((op) => {
      let row = rows.get(op.name);
      if (row === undefined) {
        row = { type: op.name, macs: 0, meterPerMac: {} };
        rows.set(op.name, row);
        meters.set(op.name, new Map());
      }
      if (set === measurements[0]) row.macs += op.macs;
      const sums = meters.get(op.name)!;
      sums.set(set.name, (sums.get(set.name) ?? 0) + (op.meter ?? 0));
    });
  }
  for (const row of rows.values()) {
    for (const [name, meter] of meters.get(row.type)!) row.meterPerMac[name] = row.macs > 0 ? meter / row.macs : meter;
  }
  return [...rows.values()];
}

function formatTable(modelName: string, xs: SetMeasurement[], node: SetMeasurement[], xsRuns: number, nodeRuns: number, perOperator: boolean): string {
  const names = xs.map((set) => set.name);
  const lines: string[] = [];
  lines.push(`## ${modelName}: XS meter units per MAC by operator type`);
  lines.push("");
  lines.push(`| operator type | MACs | ${names.join(" | ")} |`);
  lines.push(`|---|---:|${names.map(() => "---:").join("|")}|`);
  for (const row of meterByType(xs)) {
    const label = row.macs > 0 ? "" : " (meter per invoke, no MACs)";
    lines.push(`| ${row.type}${label} | ${row.macs} | ${names.map((n) => row.meterPerMac[n].toFixed(1)).join(" | ")} |`);
  }
  if (perOperator) {
    lines.push("");
    lines.push(`## ${modelName}: XS meter units per MAC by operator`);
    lines.push("");
    lines.push(`| index | operator | MACs | ${names.join(" | ")} |`);
    lines.push(`|---:|---|---:|${names.map(() => "---:").join("|")}|`);
    xs[0].operators.forEach((op, index) => {
      const cells = xs.map((set) => {
        const meter = set.operators[index].meter ?? 0;
        return (op.macs > 0 ? meter / op.macs : meter).toFixed(1);
      });
      lines.push(`| ${index} | ${op.name} | ${op.macs} | ${cells.join(" | ")} |`);
    });
  }
  lines.push("");
  lines.push(`## ${modelName}: whole model`);
  lines.push("");
  lines.push(`| figure | ${names.join(" | ")} |`);
  lines.push(`|---|${names.map(() => "---:").join("|")}|`);
  lines.push(`| XS meter units per invoke | ${xs.map((s) => s.invokeMeter).join(" | ")} |`);
  lines.push(`| XS meter units per MAC | ${xs.map((s) => (s.invokeMeter! / s.macs).toFixed(2)).join(" | ")} |`);
  lines.push(`| XS ms per invoke (median of ${xsRuns}) | ${xs.map((s) => s.medianMs.toPrecision(4)).join(" | ")} |`);
  lines.push(`| Node ms per invoke (median of ${nodeRuns}) | ${node.map((s) => s.medianMs.toPrecision(4)).join(" | ")} |`);
  lines.push(`| persistent bytes | ${xs.map((s) => s.persistentBytes).join(" | ")} |`);
  lines.push(`| output scores | ${xs.map((s) => s.outputs.join(" ")).join(" | ")} |`);
  const microq = xs.find((s) => s.name === "microq");
  if (microq !== undefined) {
    lines.push("");
    for (const set of xs) {
      if (set === microq) continue;
      const nodeSet = node.find((s) => s.name === set.name)!;
      const nodeMicroq = node.find((s) => s.name === "microq")!;
      lines.push(
        `microq against ${set.name}: XS wall time ${(set.medianMs / microq.medianMs).toFixed(2)}x faster, ` +
          `XS meter ${(set.invokeMeter! / microq.invokeMeter!).toFixed(2)}x lower, ` +
          `Node ${(nodeSet.medianMs / nodeMicroq.medianMs).toFixed(2)}x faster, ` +
          `${microq.persistentBytes - set.persistentBytes} more persistent bytes`,
      );
    }
  }
  return lines.join("\n");
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`invalid ${option} ${text}: expected an integer of at least 1`);
  return value;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ["model", "xs-runs", "node-runs"], ["json", "operators"]);
  const modelName = singleValue(args, "model", "person_detect");
  const xsRuns = positiveInteger(singleValue(args, "xs-runs", "9"), "--xs-runs");
  const nodeRuns = positiveInteger(singleValue(args, "node-runs", "51"), "--node-runs");

  const entry = tflmModel(modelName);
  const model = readFixture(entry.model);
  const input = readFixture(entry.cases[0].inputs[0]);
  const sets = await kernelSets();

  const xs = await measureOnXs(sets, model, input, xsRuns);
  const node = await measureOnNode(sets, model, input, nodeRuns);

  const reference = xs[0].outputs.join(",");
  for (const set of [...xs, ...node]) {
    if (set.outputs.join(",") !== reference) {
      throw new Error(`kernel set ${set.name} output [${set.outputs}] differs from ${xs[0].name} output [${xs[0].outputs}]`);
    }
  }

  if (args.flags.has("json")) {
    console.log(JSON.stringify({ xs, node }, null, 2));
  } else {
    console.log(formatTable(modelName, xs, node, xsRuns, nodeRuns, args.flags.has("operators")));
  }
}

main().catch((error: unknown) => {
  console.error(`bench/kernels/person_detect: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
