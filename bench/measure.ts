// Timing one command line: wall time from spawn to exit, as a client such
// as containerd's shim sees it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Clients such as containerd do not set NODE_EXTRA_CA_CERTS, which costs
// every node start tens of milliseconds, nor NODE_OPTIONS: measure without.
export const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS;
delete childEnv.NODE_OPTIONS;

export interface Result {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

// Output goes to files: a created container keeps the stdio it was given,
// and a pipe would not reach end-of-file until the container exits.
let outputDir = '/tmp';
export function setOutputDir(dir: string): void {
  outputDir = dir;
}

export function exec(argv: readonly string[]): Result {
  const out = join(outputDir, 'stdout');
  const err = join(outputDir, 'stderr');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: childEnv, stdio: ['ignore', fds[0], fds[1]] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fds.forEach((fd) => closeSync(fd));
  return { ms, status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
}

/** The time of a command that must succeed. */
export function must(argv: readonly string[]): number {
  return succeeded(argv, exec(argv)).ms;
}

/** The result of argv, or an error saying how it failed. */
export function succeeded(argv: readonly string[], r: Result): Result {
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return r;
}

/** The same, without waiting: for the concurrent clients. stdout is discarded; stderr is what came before the exit. */
export function execAsync(argv: readonly string[]): Promise<{ ms: number; status: number | null; stderr: string }> {
  const start = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ ms: ms(), status: null, stderr: err.message }));
    child.on('exit', (status) => resolve({ ms: ms(), status, stderr }));
  });
}

/** Samples by name: one list of milliseconds (or kB) per measured thing. */
export class Samples {
  private data = new Map<string, number[]>();

  add(key: string, value: number): void {
    if (!this.data.has(key)) this.data.set(key, []);
    this.data.get(key)!.push(value);
  }

  /** The median, or NaN if nothing was measured. */
  median(key: string): number {
    const xs = [...(this.data.get(key) ?? [])].sort((a, b) => a - b);
    if (xs.length === 0) return NaN;
    return xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
  }

  count(key: string): number {
    return this.data.get(key)?.length ?? 0;
  }
}
