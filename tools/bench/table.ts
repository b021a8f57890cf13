// Plain-text tables with aligned columns, and the number formats of the
// benchmark output.

export interface Column {
  header: string;
  /** Text columns align left, number columns right. */
  align: "left" | "right";
}

/** Formats rows under a header row and a dashed rule, two spaces between columns. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => row[i].length)));
  const formatRow = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (columns[i].align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  const lines = [formatRow(columns.map((column) => column.header)), widths.map((width) => "-".repeat(width)).join("  ")];
  for (const row of rows) lines.push(formatRow(row));
  return lines.join("\n");
}

/** Formats a time in ms with three significant digits, in µs, ms or s. */
export function formatTime(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

/** Formats a count with three significant digits and a k, M or G suffix. */
export function formatCount(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
  if (magnitude >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (magnitude >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
  const text = value.toPrecision(3);
  return text.includes(".") && !text.includes("e") ? text.replace(/\.?0+$/, "") : text;
}

/** Formats an integer with thousands separators: 7,160,194. */
export function formatInteger(value: number): string {
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Formats a speedup ratio: "4.07x", or "-" when it is missing. */
export function formatRatio(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? "-" : `${ratio.toFixed(2)}x`;
}
