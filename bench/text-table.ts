/** Plain-text tables for the benchmark's printed report. */

/** A number for a table cell: integers as they are, others to `digits` decimals, '—' when missing. */
export const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(digits);

export const kib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? null : bytes / 1024);

/** A titled table: the first column left-aligned, the others right-aligned. */
export function table(title: string, headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`\n${title}`, line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
