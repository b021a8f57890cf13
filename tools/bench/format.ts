// Text output of the benchmark: one report in detail for `microq bench`, and
// summary tables of many reports for `npm run bench`.

import type { AllocationReport, KernelSetResult } from "../../bench/harness/types.js";
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

function meterCell(meter: number | null): string {
  return meter === null ? "-" : formatCount(meter);
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
  const meterCells = (microq: number | null, naive: number | null, ratio: number | null) =>
    hasMeter ? [meterCell(microq), meterCell(naive), formatRatio(ratio)] : [];

  const operatorRows = report.operators.map((op) => [
    String(op.index),
    op.name,
    formatInteger(op.macs),
    formatTime(op.microqMs),
    formatTime(op.naiveMs),
    formatRatio(op.speedup.time),
    ...meterCells(op.microqMeter, op.naiveMeter, op.speedup.meter),
  ]);
  const typeRows = report.operatorTypes.map((type) => [
    type.name,
    String(type.count),
    formatInteger(type.macs),
    formatTime(type.microqMs),
    formatTime(type.naiveMs),
    formatRatio(type.speedup.time),
    ...meterCells(type.microqMeter, type.naiveMeter, type.speedup.meter),
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

/** Formats one report: the whole-invoke figures of both kernel sets, then the operator tables if measured. */
export function formatBenchReport(report: BenchReport): string {
  const { microq, naive } = report;
  const row = (label: string, cell: (result: KernelSetResult) => string, ratio = "") => [label, cell(microq), cell(naive), ratio];
  const rows = [row("invoke time", (r) => formatTime(r.invoke.medianMs), formatRatio(report.speedup.time))];
  if (report.engine === "xs") {
    rows.push(row("XS meter / invoke", (r) => meterCell(r.invoke.meter), formatRatio(report.speedup.meter)));
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
    `outputs match: ${report.outputsMatch ? "yes" : "NO, the kernel sets disagree"}`,
    `allocations: ${describeAllocationMethod(microq.allocations, report.allocationsNote)}`,
    "speedup: naive figure / microq figure",
    ...formatOperatorTables(report),
  ];
  return lines.join("\n");
}

/** Formats the reports of many models and engines as summary tables: speed, memory, and operator types. */
export function formatBenchSummary(reports: readonly BenchReport[]): string {
  const speedRows = reports.map((r) => [
    r.model,
    r.engine,
    formatInteger(r.macs),
    formatTime(r.microq.invoke.medianMs),
    formatTime(r.naive.invoke.medianMs),
    formatRatio(r.speedup.time),
    meterCell(r.microq.meterPerMac),
    meterCell(r.naive.meterPerMac),
    formatRatio(r.speedup.meter),
  ]);
  const memoryRows = reports.map((r) => [
    r.model,
    r.engine,
    formatInteger(r.microq.arenaBytes),
    formatInteger(r.naive.arenaBytes),
    formatInteger(r.microq.persistentBytes),
    formatInteger(r.naive.persistentBytes),
    formatAllocations(r.microq.allocations),
    formatAllocations(r.naive.allocations),
    r.outputsMatch ? "yes" : "NO",
  ]);
  const typeRows = reports.flatMap((r) =>
    (r.operatorTypes ?? []).map((type) => [
      r.model,
      r.engine,
      type.name,
      String(type.count),
      formatTime(type.microqMs),
      formatTime(type.naiveMs),
      formatRatio(type.speedup.time),
      formatRatio(type.speedup.meter),
    ]),
  );

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
