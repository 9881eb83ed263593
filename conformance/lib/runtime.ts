// Drives a runtime binary through its runc-compatible command line.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface CmdResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
  /** spawn error (binary missing, ...) */
  error?: string;
}

export function ok(r: CmdResult): boolean {
  return r.code === 0 && !r.timedOut && !r.error;
}

export function describe(r: CmdResult): string {
  const how = r.error
    ? `could not run (${r.error})`
    : r.timedOut
      ? `timed out after ${r.ms} ms`
      : r.signal
        ? `killed by ${r.signal}`
        : `exit ${r.code}`;
  const err = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return `\`${r.argv.join(' ')}\`: ${how}${err ? ` (stderr: ${err.slice(0, 400)})` : ''}`;
}

export interface RunOpts {
  timeoutMs?: number;
  /** file paths for the child's stdout/stderr (needed when a container inherits them) */
  stdoutFile?: string;
  stderrFile?: string;
  stdinFile?: string;
  /** extra fds to pass (become 3, 4, ... in the child) */
  extraFds?: number[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

/** A clean environment for runtimes and hooks: no leak of the caller's variables. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C',
  };
}

const live = new Set<number>();

/** Kills every command still running (used by the interrupt handler). */
export function killAllCommands(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  live.clear();
}

export function runCmd(argv: string[], opts: RunOpts = {}): Promise<CmdResult> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  const started = Date.now();
  return new Promise((resolve) => {
    const fdsToClose: number[] = [];
    const stdio: (string | number)[] = [];
    const openFd = (p: string | undefined, flags: string, fallback: string) => {
      if (!p) return fallback;
      const fd = fs.openSync(p, flags, 0o644);
      fdsToClose.push(fd);
      return fd;
    };
    stdio.push(opts.input !== undefined ? 'pipe' : openFd(opts.stdinFile ?? '/dev/null', 'r', 'ignore'));
    stdio.push(openFd(opts.stdoutFile, 'a', 'pipe'));
    stdio.push(openFd(opts.stderrFile, 'a', 'pipe'));
    for (const fd of opts.extraFds ?? []) stdio.push(fd);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let done = false;
    const finish = (code: number | null, signal: string | null, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const fd of fdsToClose) {
        try {
          fs.closeSync(fd);
        } catch {
          /* ignore */
        }
      }
      if (opts.stderrFile && !stderr) {
        try {
          stderr = fs.readFileSync(opts.stderrFile, 'utf8').slice(-4000);
        } catch {
          /* ignore */
        }
      }
      resolve({ argv, code, signal, stdout, stderr, timedOut, ms: Date.now() - started, error });
    };
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), {
        stdio: stdio as never,
        env: opts.env ?? cleanEnv(),
        cwd: opts.cwd,
        detached: true,
      });
    } catch (e) {
      finish(null, null, (e as Error).message);
      return;
    }
    const pid = child.pid;
    if (pid) live.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (pid) process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < 4 << 20) stdout += d.toString('utf8');
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 1 << 20) stderr += d.toString('utf8');
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    child.on('error', (e) => {
      if (pid) live.delete(pid);
      finish(null, null, e.message);
    });
    child.on('close', (code, signal) => {
      if (pid) live.delete(pid);
      finish(code, signal);
    });
  });
}

export interface CreateOpts {
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  extraFds?: number[];
  stdoutFile: string;
  stderrFile: string;
  stdinFile?: string;
  timeoutMs?: number;
  /** run the runtime through `sh -c` after setting this oom_score_adj */
  oomScoreAdj?: number;
  /** run the runtime with this umask (through sh) */
  umask?: string;
  /** working directory of the runtime process */
  cwd?: string;
}

/** One runtime under test: binary (plus wrapper arguments) and its --root. */
export class Runtime {
  constructor(
    public readonly name: string,
    /** argv prefix: [binary] or [wrapper, ...] */
    public readonly cmd: string[],
    public readonly root: string,
    public readonly timeoutMs = 30000,
  ) {}

  argv(...args: string[]): string[] {
    return [...this.cmd, '--root', this.root, ...args];
  }

  exec(args: string[], opts: RunOpts = {}): Promise<CmdResult> {
    return runCmd(this.argv(...args), { timeoutMs: this.timeoutMs, ...opts });
  }

  create(id: string, bundle: string, o: CreateOpts): Promise<CmdResult> {
    const args = ['create', '--bundle', bundle];
    if (o.pidFile) args.push('--pid-file', o.pidFile);
    if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
    if (o.preserveFds !== undefined) args.push('--preserve-fds', String(o.preserveFds));
    args.push(id);
    let argv = this.argv(...args);
    if (o.oomScoreAdj !== undefined || o.umask !== undefined) {
      const pre: string[] = [];
      if (o.oomScoreAdj !== undefined) pre.push(`echo ${o.oomScoreAdj} > /proc/self/oom_score_adj`);
      if (o.umask !== undefined) pre.push(`umask ${o.umask}`);
      argv = ['/bin/sh', '-c', `${pre.join(' && ')} && exec "$@"`, 'sh', ...argv];
    }
    return runCmd(argv, {
      timeoutMs: o.timeoutMs ?? this.timeoutMs,
      stdoutFile: o.stdoutFile,
      stderrFile: o.stderrFile,
      stdinFile: o.stdinFile,
      extraFds: o.extraFds,
      cwd: o.cwd,
    });
  }

  start(id: string): Promise<CmdResult> {
    return this.exec(['start', id]);
  }

  state(id: string): Promise<CmdResult> {
    return this.exec(['state', id]);
  }

  kill(id: string, signal?: string): Promise<CmdResult> {
    return this.exec(signal === undefined ? ['kill', id] : ['kill', id, signal]);
  }

  delete(id: string, force = false): Promise<CmdResult> {
    return this.exec(force ? ['delete', '--force', id] : ['delete', id]);
  }

  /** Synchronous force delete, for the interrupt path. */
  deleteSync(id: string): void {
    const a = this.argv('delete', '--force', id);
    spawnSync(a[0], a.slice(1), { stdio: 'ignore', timeout: 10000, env: cleanEnv() });
  }

  features(): Promise<CmdResult> {
    return runCmd([...this.cmd, 'features'], { timeoutMs: this.timeoutMs });
  }

  spec(args: string[], cwd: string): Promise<CmdResult> {
    return runCmd([...this.cmd, 'spec', ...args], { timeoutMs: this.timeoutMs, cwd });
  }

  version(): Promise<CmdResult> {
    return runCmd([...this.cmd, '--version'], { timeoutMs: 10000 });
  }
}
