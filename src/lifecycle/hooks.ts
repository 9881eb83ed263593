// POSIX-platform hooks (config.md "POSIX-platform Hooks"): each gets the
// container state on stdin, exactly its configured argv and environment,
// and, with a timeout, is killed when it runs over. prestart,
// createRuntime, poststart and poststop run here, in the runtime
// namespaces; createContainer runs in the container's namespaces through
// tsrun-init's hook mode. startContainer hooks are run by the container's
// init itself (addon/init/start_hooks.cc), with the process's identity.
import type { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { Channel } from '../init/channel';
import { initArgs } from '../init/launcher';
import { Msg, encodePlan, type PlanRecord, record } from '../init/protocol';
import { TsrunError } from '../errors';
import { warn } from '../log';
import { initHelperPath, native } from '../native/addon';
import { CLONE, NS_FILE } from '../plan/clone';
import { join } from '../spec/fieldpath';
import type { Hook, HookStage, NamespaceType, Spec } from '../spec/types';

export { hookState, type StateForHooks } from '../state/hookstate';

/** A hook failed: the operation fails and the container is stopped. */
export class HookError extends TsrunError {}

/** Where a container-namespace hook runs: the namespaces of the init. */
export interface InContainer {
  pid: number;
  namespaces: NamespaceType[];
}

/** The pid of a process as its own (innermost) pid namespace sees it. */
export function pidInContainer(pid: number): number {
  const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1].trim().split(/\s+/).pop()) : pid;
}

function environment(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function describeFailure(r: ReturnType<typeof spawnSync>, hook: Hook): string {
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `timed out after ${hook.timeout}s`;
  if (r.error) return r.error.message;
  const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
  const stderr = String(r.stderr ?? '').trim();
  return stderr ? `${how}: ${stderr.slice(-500)}` : how;
}

function hookModeRecords(hook: Hook, target: InContainer): PlanRecord[] {
  const records: PlanRecord[] = [];
  for (const type of target.namespaces) {
    records.push(record('NS_JOIN', 'hook', { flag: CLONE[type], path: `/proc/${target.pid}/ns/${NS_FILE[type]}` }));
  }
  if (target.namespaces.includes('pid') || target.namespaces.includes('time')) records.push(record('FORK', 'hook'));
  const args = hook.args?.length ? hook.args : [hook.path];
  records.push(record('HOOK_EXEC', 'hook', { path: hook.path, args, env: hook.env ?? [] }));
  return records;
}

// The state as stdin: an unnamed file rather than Node's stdin "pipe",
// which is a socket, and a hook may well reopen /dev/stdin (a socket cannot
// be reopened through /proc/self/fd).
function stateInput(state: string): number {
  // Required here: node:os is not among the modules Node starts with, and
  // most containers have no hooks.
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const O_TMPFILE = 0o20200000;
  let fd: number;
  try {
    fd = openSync(tmpdir(), O_TMPFILE | constants.O_RDWR, 0o600);
  } catch {
    const dir = mkdtempSync(joinPath(tmpdir(), 'tsrun-hook-'));
    fd = openSync(joinPath(dir, 'state.json'), 'w+', 0o600);
    rmSync(dir, { recursive: true, force: true });
  }
  writeSync(fd, state, 0); // at offset 0, so the shared file offset stays at the start
  return fd;
}

function runOne(hook: Hook, state: string, target: InContainer | undefined): ReturnType<typeof spawnSync> {
  const stdin = stateInput(state);
  try {
    const r = runWithStdin(hook, stdin, target);
    // A hook that ran over is killed with everything it started: each hook
    // leads a process group of its own (detached), killed as a whole.
    if (r.pid && (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
      try {
        process.kill(-r.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    return r;
  } finally {
    closeSync(stdin);
  }
}

function runWithStdin(hook: Hook, stdin: number, target: InContainer | undefined): ReturnType<typeof spawnSync> {
  // Required here: loading child_process costs about 6 ms, and most containers have no hooks.
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const common = {
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL' as const,
    maxBuffer: 16 << 20,
    detached: true,
  };
  if (!target) {
    const args = hook.args?.length ? hook.args : [hook.path];
    return spawnSync(hook.path, args.slice(1), { ...common, argv0: args[0], env: environment(hook.env), stdio: [stdin, 'pipe', 'pipe'] });
  }
  // In the container's namespaces: tsrun-init joins them and execs the hook.
  const [ours, theirs] = native().socketpair();
  const exe = native().openHelper(initHelperPath);
  try {
    new Channel(ours).send(Msg.PLAN, encodePlan(hookModeRecords(hook, target), {}));
    return spawnSync(`/proc/self/fd/${exe}`, initArgs('hook', 3), { ...common, argv0: 'tsrun-init', env: {}, stdio: [stdin, 'pipe', 'pipe', theirs] });
  } finally {
    for (const fd of [ours, theirs, exe]) closeSync(fd);
  }
}

/**
 * Runs the hooks of a stage in order. A failure throws a HookError naming
 * the hook; for poststop (where failures are only warnings) use
 * runPoststop.
 */
export function runHooks(spec: Spec, stage: HookStage, state: string, target?: InContainer): void {
  (spec.hooks?.[stage] ?? []).forEach((hook, i) => {
    const r = runOne(hook, state, target);
    if (r.status !== 0 || r.error) throw new HookError(`${stage} hook ${hook.path} failed: ${describeFailure(r, hook)}`, join(join('hooks', stage), i));
  });
}

/** poststop hooks: a failure is logged and the next hook still runs. */
export function runPoststop(spec: Spec, state: string): void {
  (spec.hooks?.poststop ?? []).forEach((hook, i) => {
    const r = runOne(hook, state, undefined);
    if (r.status !== 0 || r.error) warn(`hooks.poststop[${i}]: ${hook.path} failed: ${describeFailure(r, hook)}`);
  });
}

/** The namespace types the container has (new or joined). */
export function containerNamespaces(spec: Spec): NamespaceType[] {
  return (spec.linux?.namespaces ?? []).map((n) => n.type);
}
