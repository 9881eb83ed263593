// TAP version 14 output and the closing summary.
import { sectionFile } from './case';

export type Directive = { kind: 'SKIP' | 'TODO'; reason: string } | null;

/** Escapes what TAP reserves in a test point description. */
export function tapDescription(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');
}

function yamlScalar(v: unknown): string {
  if (v === undefined) return '~';
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v);
}

/** A small YAML emitter for diagnostics (strings always quoted; JSON is valid YAML). */
export function toYaml(v: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}[]`;
    return v
      .map((x) => {
        if (x !== null && typeof x === 'object') {
          const inner = toYaml(x, indent + 2).replace(/^\s+/, '');
          return `${pad}- ${inner}`;
        }
        return `${pad}- ${yamlScalar(x)}`;
      })
      .join('\n');
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return `${pad}{}`;
    return entries
      .map(([k, x]) => {
        const key = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k);
        if (x !== null && typeof x === 'object' && (Array.isArray(x) ? x.length > 0 : Object.keys(x).length > 0)) {
          return `${pad}${key}:\n${toYaml(x, indent + 2)}`;
        }
        return `${pad}${key}: ${Array.isArray(x) ? '[]' : x !== null && typeof x === 'object' ? '{}' : yamlScalar(x)}`;
      })
      .join('\n');
  }
  return `${pad}${yamlScalar(v)}`;
}

export class TapWriter {
  private n = 0;
  constructor(private write: (s: string) => void) {}

  header(plan: number): void {
    this.write('TAP version 14\n');
    this.write(`1..${plan}\n`);
  }

  comment(text: string): void {
    for (const l of text.split('\n')) this.write(`# ${l}\n`);
  }

  point(okay: boolean, description: string, directive: Directive, diag?: Record<string, unknown>): number {
    this.n++;
    let line = `${okay ? 'ok' : 'not ok'} ${this.n} - ${tapDescription(description)}`;
    if (directive) line += ` # ${directive.kind} ${tapDescription(directive.reason)}`;
    this.write(line + '\n');
    if (diag && Object.keys(diag).length > 0) {
      this.write('  ---\n');
      this.write(toYaml(diag, 2) + '\n');
      this.write('  ...\n');
    }
    return this.n;
  }

  get count(): number {
    return this.n;
  }
}

export interface ResultRow {
  id: string;
  section: string;
  status: 'pass' | 'fail' | 'skip';
  known: boolean;
}

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  knownFailed: number;
  unexpectedFailed: number;
}

export function totals(rows: ResultRow[]): Totals {
  const t = { passed: 0, failed: 0, skipped: 0, knownFailed: 0, unexpectedFailed: 0 };
  for (const r of rows) {
    if (r.status === 'pass') t.passed++;
    else if (r.status === 'skip') t.skipped++;
    else {
      t.failed++;
      if (r.known) t.knownFailed++;
      else t.unexpectedFailed++;
    }
  }
  return t;
}

/** The table by spec section: one row per section, in spec file order. */
export function sectionTable(rows: ResultRow[]): string {
  const order = ['runtime.md', 'runtime-linux.md', 'config.md', 'config-linux.md', 'features.md', 'features-linux.md', 'bundle.md'];
  const by = new Map<string, { pass: number; fail: number; known: number; skip: number }>();
  for (const r of rows) {
    const s = by.get(r.section) ?? { pass: 0, fail: 0, known: 0, skip: 0 };
    if (r.status === 'pass') s.pass++;
    else if (r.status === 'skip') s.skip++;
    else {
      s.fail++;
      if (r.known) s.known++;
    }
    by.set(r.section, s);
  }
  const secs = [...by.keys()].sort((a, b) => {
    const fa = order.indexOf(sectionFile(a));
    const fb = order.indexOf(sectionFile(b));
    return fa !== fb ? fa - fb : a.localeCompare(b);
  });
  const w = Math.max(7, ...secs.map((s) => s.length));
  const lines = [`${'section'.padEnd(w)}  pass  fail  (known)  skip`];
  lines.push('-'.repeat(w + 30));
  for (const s of secs) {
    const v = by.get(s)!;
    lines.push(`${s.padEnd(w)}  ${String(v.pass).padStart(4)}  ${String(v.fail).padStart(4)}  ${`(${v.known})`.padStart(7)}  ${String(v.skip).padStart(4)}`);
  }
  const t = totals(rows);
  lines.push('-'.repeat(w + 30));
  lines.push(`${'total'.padEnd(w)}  ${String(t.passed).padStart(4)}  ${String(t.failed).padStart(4)}  ${`(${t.knownFailed})`.padStart(7)}  ${String(t.skipped).padStart(4)}`);
  return lines.join('\n');
}

export function closingLine(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** Sections with at least one failure (known or not). */
export function failingSections(rows: ResultRow[]): string[] {
  return [...new Set(rows.filter((r) => r.status === 'fail').map((r) => r.section))].sort();
}
