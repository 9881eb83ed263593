// `tsrun list` output: runc's columns, or JSON.
export function formatList(states: Record<string, unknown>[], format: 'table' | 'json', quiet: boolean): string {
  if (quiet) return states.map((s) => `${s.id}\n`).join('');
  if (format === 'json') return JSON.stringify(states) + '\n';
  const header = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];
  const rows = states.map((s) => [s.id, s.pid, s.status, s.bundle, s.created, s.owner].map((v) => String(v ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('') + '\n';
  return line(header) + rows.map(line).join('');
}
