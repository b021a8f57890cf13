// Text output of the benchmark: one report in detail for `microq bench`, and
// summary tables of many reports for `npm run bench`.

import type { AllocationReport, KernelSetResult, Speedup } from "../../bench/harness/types.js";
import { BenchReport } from "./report.js";
import { formatCount, formatInteger, formatRatio, formatTable, formatTime } from "./table.js";

/** Formats the allocations of one invoke: "0", the average of one invoke, or "n/a" when not counted. */
export function formatAllocations(allocations: AllocationReport | null): string {
  if (allocations === null) return "n/a";
  if (allocations.allocationFree) return "0";
  const perInvoke = (value: number | undefined) => formatCount((value ?? 0) / allocations.invokes);
  if (allocations.slots !== undefined) {
    return `${perInvoke(allocations.slots)} slots, ${perInvoke(allocations.chunkBytes)} B`;
  }
  const collections = allocations.unexpectedCollections ?? 0;
  return collections > 0 ? `unreliable (${collections} GC)` : `${perInvoke(allocations.bytes)} B`;
}

function describeAllocationMethod(allocations: AllocationReport | null, note: string | null): string {
  if (allocations === null) return note ?? "not counted on this engine";
  if (allocations.method === "v8-young-generation") {
    return (
      `V8 young-generation growth of N invokes subtracted from that of 2N, N = invokes per timed run; ` +
      `0 means below ${allocations.noiseBytes} bytes in total`
    );
  }
  return "exact XS heap counts (slots and chunk bytes) over the last timed run";
}

/** Text of a naive figure or a speedup when the naive baseline cannot prepare the model. */
const NOT_AVAILABLE = "n/a";

function meterCell(meter: number | null): string {
  return meter === null ? "-" : formatCount(meter);
}

/** Formats a naive time, or "n/a" without the baseline. */
function naiveTimeCell(ms: number | null): string {
  return ms === null ? NOT_AVAILABLE : formatTime(ms);
}

/** Formats the time or meter ratio of a speedup, or "n/a" without the baseline. */
function speedupCell(speedup: Speedup | null, figure: keyof Speedup): string {
  return speedup === null ? NOT_AVAILABLE : formatRatio(speedup[figure]);
}

function formatOperatorTables(report: BenchReport): string[] {
  if (report.operators === null || report.operatorTypes === null) return [];
  const hasMeter = report.engine === "xs";
  const meterColumns = hasMeter
    ? [
        { header: "microq meter", align: "right" as const },
        { header: "naive meter", align: "right" as const },
        { header: "meter speedup", align: "right" as const },
      ]
    : [];
  const hasBaseline = report.naive !== null;
  const meterCells = (microq: number | null, naive: number | null, speedup: Speedup | null) =>
    hasMeter ? [meterCell(microq), hasBaseline ? meterCell(naive) : NOT_AVAILABLE, speedupCell(speedup, "meter")] : [];

  const operatorRows = report.operators.map((op) => [
    String(op.index),
    op.name,
    formatInteger(op.macs),
    formatTime(op.microqMs),
    naiveTimeCell(op.naiveMs),
    speedupCell(op.speedup, "time"),
    ...meterCells(op.microqMeter, op.naiveMeter, op.speedup),
  ]);
  const typeRows = report.operatorTypes.map((type) => [
    type.name,
    String(type.count),
    formatInteger(type.macs),
    formatTime(type.microqMs),
    naiveTimeCell(type.naiveMs),
    speedupCell(type.speedup, "time"),
    ...meterCells(type.microqMeter, type.naiveMeter, type.speedup),
  ]);
  return [
    "",
    "per operator (median time of one call):",
    formatTable(
      [
        { header: "#", align: "right" },
        { header: "operator", align: "left" },
        { header: "MACs", align: "right" },
        { header: "microq", align: "right" },
        { header: "naive", align: "right" },
        { header: "speedup", align: "right" },
        ...meterColumns,
      ],
      operatorRows,
    ),
    "",
    "per operator type (sums of the operators above):",
    formatTable(
      [
        { header: "operator", align: "left" },
        { header: "count", align: "right" },
        { header: "MACs", align: "right" },
        { header: "microq", align: "right" },
        { header: "naive", align: "right" },
        { header: "speedup", align: "right" },
        ...meterColumns,
      ],
      typeRows,
    ),
  ];
}

/** Formats the lines under the main table: whether the outputs match, or why there is no baseline, and the allocation method. */
function formatComparisonLines(report: BenchReport): string[] {
  const allocations = `allocations: ${describeAllocationMethod(report.microq.allocations, report.allocationsNote)}`;
  if (report.naiveUnavailable !== null) {
    return [report.naiveUnavailable.reason, allocations];
  }
  return [
    `outputs match: ${report.outputsMatch ? "yes" : "NO, the kernel sets disagree"}`,
    allocations,
    "speedup: naive figure / microq figure",
  ];
}

/**
 * Formats one report: the whole-invoke figures of both kernel sets, then the
 * operator tables if measured. Without the naive baseline its cells read
 * "n/a" and one line gives the reason.
 */
export function formatBenchReport(report: BenchReport): string {
  const { microq, naive } = report;
  const row = (label: string, cell: (result: KernelSetResult) => string, ratio = "") => [
    label,
    cell(microq),
    naive === null ? NOT_AVAILABLE : cell(naive),
    ratio,
  ];
  const rows = [row("invoke time", (r) => formatTime(r.invoke.medianMs), speedupCell(report.speedup, "time"))];
  if (report.engine === "xs") {
    rows.push(row("XS meter / invoke", (r) => meterCell(r.invoke.meter), speedupCell(report.speedup, "meter")));
    rows.push(row("XS meter / MAC", (r) => meterCell(r.meterPerMac)));
  }
  rows.push(
    row("MACs", (r) => formatInteger(r.macs)),
    row("arena bytes", (r) => formatInteger(r.arenaBytes)),
    row("persistent bytes", (r) => formatInteger(r.persistentBytes)),
    row("allocations / invoke", (r) => formatAllocations(r.allocations)),
    row("invokes per timed run", (r) => String(r.invoke.callsPerRun)),
  );

  const lines = [
    `${report.model} on ${report.engine}: median of ${report.runs} timed run${report.runs === 1 ? "" : "s"} after a warm-up`,
    formatTable(
      [
        { header: "", align: "left" },
        { header: "microq", align: "right" },
        { header: "naive", align: "right" },
        { header: "speedup", align: "right" },
      ],
      rows,
    ),
    ...formatComparisonLines(report),
    ...formatOperatorTables(report),
  ];
  return lines.join("\n");
}

/** Formats the reports of many models and engines as summary tables: speed, memory, and operator types. */
export function formatBenchSummary(reports: readonly BenchReport[]): string {
  const naiveCell = (report: BenchReport, cell: (naive: KernelSetResult) => string) =>
    report.naive === null ? NOT_AVAILABLE : cell(report.naive);
  const outputsMatchCell = (report: BenchReport) => {
    if (report.outputsMatch === null) return NOT_AVAILABLE;
    return report.outputsMatch ? "yes" : "NO";
  };

  const speedRows = reports.map((r) => [
    r.model,
    r.engine,
    formatInteger(r.macs),
    formatTime(r.microq.invoke.medianMs),
    naiveCell(r, (naive) => formatTime(naive.invoke.medianMs)),
    speedupCell(r.speedup, "time"),
    meterCell(r.microq.meterPerMac),
    naiveCell(r, (naive) => meterCell(naive.meterPerMac)),
    speedupCell(r.speedup, "meter"),
  ]);
  const memoryRows = reports.map((r) => [
    r.model,
    r.engine,
    formatInteger(r.microq.arenaBytes),
    naiveCell(r, (naive) => formatInteger(naive.arenaBytes)),
    formatInteger(r.microq.persistentBytes),
    naiveCell(r, (naive) => formatInteger(naive.persistentBytes)),
    formatAllocations(r.microq.allocations),
    naiveCell(r, (naive) => formatAllocations(naive.allocations)),
    outputsMatchCell(r),
  ]);
  const typeRows = reports.flatMap((r) =>
    (r.operatorTypes ?? []).map((type) => [
      r.model,
      r.engine,
      type.name,
      String(type.count),
      formatTime(type.microqMs),
      naiveTimeCell(type.naiveMs),
      speedupCell(type.speedup, "time"),
      speedupCell(type.speedup, "meter"),
    ]),
  );
  const modelsWithoutBaseline = Array.from(new Set(reports.filter((r) => r.naive === null).map((r) => r.model)));

  const lines = [
    "Invoke time (median) and XS meter units per MAC; speedup = naive / microq",
    formatTable(
      [
        { header: "model", align: "left" },
        { header: "engine", align: "left" },
        { header: "MACs", align: "right" },
        { header: "microq", align: "right" },
        { header: "naive", align: "right" },
        { header: "speedup", align: "right" },
        { header: "meter/MAC microq", align: "right" },
        { header: "meter/MAC naive", align: "right" },
        { header: "meter speedup", align: "right" },
      ],
      speedRows,
    ),
    "",
    "Memory and allocations per invoke",
    formatTable(
      [
        { header: "model", align: "left" },
        { header: "engine", align: "left" },
        { header: "arena B microq", align: "right" },
        { header: "arena B naive", align: "right" },
        { header: "persistent B microq", align: "right" },
        { header: "persistent B naive", align: "right" },
        { header: "alloc/invoke microq", align: "right" },
        { header: "alloc/invoke naive", align: "right" },
        { header: "outputs match", align: "left" },
      ],
      memoryRows,
    ),
    "alloc/invoke: exact heap counts on xs; on node 0 means below the noise of the V8 count " +
      "(512 bytes over all counted invokes); n/a where the engine cannot count them",
  ];
  const unavailable = reports.find((r) => r.naiveUnavailable !== null)?.naiveUnavailable;
  if (modelsWithoutBaseline.length > 0 && unavailable) {
    lines.push(`naive n/a for ${modelsWithoutBaseline.join(", ")}: ${unavailable.reason}`);
  }
  if (typeRows.length > 0) {
    lines.push(
      "",
      "Per operator type (sums of per-operator medians)",
      formatTable(
        [
          { header: "model", align: "left" },
          { header: "engine", align: "left" },
          { header: "operator", align: "left" },
          { header: "count", align: "right" },
          { header: "microq", align: "right" },
          { header: "naive", align: "right" },
          { header: "speedup", align: "right" },
          { header: "meter speedup", align: "right" },
        ],
        typeRows,
      ),
    );
  }
  return lines.join("\n");
}
