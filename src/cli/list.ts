// `tsrun list` output: runc's columns, or JSON. runc writes the table
// through Go's tabwriter (minwidth 12, padding 3): a column is as wide as
// its widest cell plus 3, and at least 12; the last one is not padded.
// The status is the derived one: created, running, paused or stopped.
const MIN_WIDTH = 12;
const PADDING = 3;

export function formatList(states: Record<string, unknown>[], format: 'table' | 'json', quiet: boolean): string {
  if (quiet) return states.map((s) => `${s.id}\n`).join('');
  if (format === 'json') return JSON.stringify(states) + '\n';
  const header = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];
  const rows = states.map((s) => [s.id, s.pid, s.status, s.bundle, s.created, s.owner].map((v) => String(v ?? '')));
  const widths = header.map((h, i) => Math.max(MIN_WIDTH, PADDING + Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join('') + '\n';
  return line(header) + rows.map(line).join('');
}
