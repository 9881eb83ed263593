// config.md#configHooks and runtime.md#runtimeLifecycle: every hook kind,
// where and when it runs, what it receives, order, failures and timeouts.
// The probe binary is the hook (probe --hook NAME --dir DIR).
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { Bundle, CaseContext } from '../lib/context';
import { nsInode } from '../lib/probe';
import { describe, ok } from '../lib/runtime';
import { stateProblems } from '../lib/state';
import { Cfg, pidAlive } from '../lib/util';
import { expectNoContainer } from './helpers';

const S_HOOKS = 'config.md#configHooks';
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

/** Hooks whose path resolves in the container namespace (startContainer). */
const IN_CONTAINER: HookKind[] = ['startContainer'];

export interface HookRec {
  name: string;
  argv: string[];
  env: string[];
  pid: number;
  targetPid: number;
  ns: Record<string, string | null>;
  target?: { ns: Record<string, string | null>; cmdline: string[]; exe: string | null };
}

/** Directory the hooks write to, bind-mounted at /hooks for container-side hooks. */
export function hookDir(ctx: CaseContext): string {
  const d = ctx.path('hooks');
  if (!fs.existsSync(d)) {
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, 0o777);
  }
  return d;
}

export function hookEntry(ctx: CaseContext, kind: HookKind, name: string, o: { exit?: number; sleep?: number; timeout?: number; env?: string[] } = {}): Cfg {
  const inC = IN_CONTAINER.includes(kind);
  const args = ['conformance-hook', '--hook', name, '--dir', inC ? '/hooks' : hookDir(ctx)];
  if (o.exit !== undefined) args.push('--exit', String(o.exit));
  if (o.sleep !== undefined) args.push('--sleep', String(o.sleep));
  const e: Cfg = { path: inC ? '/probe' : ctx.env.art.probe, args, env: o.env ?? [`CONFORMANCE_HOOK=${name}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'] };
  if (o.timeout !== undefined) e.timeout = o.timeout;
  return e;
}

export function withHookMount(ctx: CaseContext, cfg: Cfg): void {
  cfg.mounts.push({ destination: '/hooks', type: 'bind', source: hookDir(ctx), options: ['rbind', 'rw'] });
}

export function hookOrder(ctx: CaseContext): string[] {
  try {
    return fs.readFileSync(path.join(hookDir(ctx), 'order'), 'utf8').split('\n').filter((x) => x);
  } catch {
    return [];
  }
}

export function hookRec(ctx: CaseContext, name: string): HookRec | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(hookDir(ctx), `${name}.json`), 'utf8')) as HookRec;
  } catch {
    return null;
  }
}

export function hookStdin(ctx: CaseContext, name: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(hookDir(ctx), `${name}.stdin`), 'utf8'));
  } catch {
    return null;
  }
}

const inode = (s: string | null | undefined) => nsInode(s ?? null);

/** Full lifecycle with the given hooks; returns checkpoints of the hook order. */
async function lifecycle(ctx: CaseContext, cfg: Cfg): Promise<{ id: string; b: Bundle; pid: number; afterCreate: string[]; afterStart: string[]; beforeDelete: string[]; afterDelete: string[]; containerNs: Record<string, number | null> }> {
  cfg.process.args = ['/probe', '--sleep', '2'];
  const b = ctx.makeBundle(cfg);
  const id = ctx.newId();
  const c = await ctx.create(id, b);
  if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
  const afterCreate = hookOrder(ctx);
  const st = await ctx.stateOf(id);
  const pid = st?.pid ?? 0;
  const containerNs = ctx.hostView(pid).ns;
  const s = await ctx.start(id);
  if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
  const afterStart = hookOrder(ctx);
  await ctx.waitStopped(id, 20);
  const beforeDelete = hookOrder(ctx);
  const d = await ctx.delete(id);
  if (!ok(d)) ctx.fatal(`delete failed: ${describe(d)}`);
  const afterDelete = hookOrder(ctx);
  ctx.observe('order', { afterCreate, afterStart, beforeDelete, afterDelete });
  return { id, b, pid, afterCreate, afterStart, beforeDelete, afterDelete, containerNs };
}

function kindCase(kind: HookKind): CaseDef {
  const when: Record<HookKind, string> = {
    prestart: 'during create, in the runtime namespace',
    createRuntime: 'during create, in the runtime namespace',
    createContainer: 'during create, in the container namespace (path resolved in the runtime namespace)',
    startContainer: 'during start before the user program, in the container namespace (path resolved there)',
    poststart: 'after the user program started and before start returns, in the runtime namespace',
    poststop: 'after the container is deleted and before delete returns, in the runtime namespace',
  };
  return {
    id: `config.hooks.${kind}`,
    section: S_HOOKS,
    requirement: `A ${kind} hook runs ${when[kind]}, and receives the container state on stdin.`,
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.hooks = { [kind]: [hookEntry(ctx, kind, kind)] };
      if (IN_CONTAINER.includes(kind)) withHookMount(ctx, cfg);
      const L = await lifecycle(ctx, cfg);
      const during = { prestart: 'create', createRuntime: 'create', createContainer: 'create', startContainer: 'start', poststart: 'start', poststop: 'delete' }[kind];
      ctx.equal(L.afterCreate.includes(kind), during === 'create', `the hook must ${during === 'create' ? '' : 'not '}have run when create returns`);
      if (during === 'start') ctx.check(L.afterStart.includes(kind), 'the hook must have run when start returns');
      if (during === 'delete') {
        ctx.check(!L.beforeDelete.includes(kind), 'the hook must not run before delete');
        ctx.check(L.afterDelete.includes(kind), 'the hook must have run when delete returns');
      }
      ctx.equal(L.afterDelete.filter((x) => x === kind).length, 1, 'the hook must run exactly once');
      const rec = hookRec(ctx, kind);
      if (!rec) ctx.fatal('the hook left no record');
      const runtimeNs = !['createContainer', 'startContainer'].includes(kind);
      if (runtimeNs) {
        ctx.equal(inode(rec.ns.mnt), ctx.host.ns.mnt, 'the hook must run in the runtime mount namespace');
        ctx.equal(inode(rec.ns.net), ctx.host.ns.net, 'the hook must run in the runtime network namespace');
      } else {
        ctx.equal(inode(rec.ns.mnt), L.containerNs.mnt, 'the hook must run in the container mount namespace');
      }
      const st = hookStdin(ctx, kind);
      ctx.equal(stateProblems(st, { id: L.id, bundle: L.b.dir }), [], 'the state on stdin must conform');
      if (kind === 'poststart' && rec.target) {
        ctx.check(rec.target.cmdline[0] === '/probe', 'when poststart runs, the container process must already execute the user program', { actual: rec.target.cmdline });
      }
      ctx.observe('stdin.status', (st as Cfg | null)?.status);
    },
  };
}

function failCase(kind: HookKind): CaseDef {
  const create = ['prestart', 'createRuntime', 'createContainer'].includes(kind);
  return {
    id: `config.hooks.${kind}-fails`,
    section: 'runtime.md#runtimeLifecycle',
    requirement:
      kind === 'poststop'
        ? 'A failing poststop hook is only a warning: delete succeeds and the next poststop hook still runs.'
        : `A failing ${kind} hook is an error: ${create ? 'create' : 'start'} fails, the container is stopped and destroyed, and the poststop hooks run.`,
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran', '--sleep', '30']);
      cfg.hooks = { [kind]: [hookEntry(ctx, kind, `${kind}-bad`, { exit: 1 })] };
      if (kind === 'poststop') cfg.hooks.poststop.push(hookEntry(ctx, 'poststop', 'poststop-next'));
      else cfg.hooks.poststop = [hookEntry(ctx, 'poststop', 'poststop')];
      if (IN_CONTAINER.includes(kind)) withHookMount(ctx, cfg);
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      ctx.observe('create.ok', ok(c));
      if (create) {
        ctx.check(!ok(c), 'create must fail when the hook fails');
        ctx.check(hookOrder(ctx).includes(`${kind}-bad`), 'the failing hook must have run');
        await expectNoContainer(ctx, id, b, 'after the hook failed');
        ctx.check(hookOrder(ctx).includes('poststop'), 'the poststop hooks must run when the container is destroyed after the failure');
        return;
      }
      if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
      const pid = (await ctx.stateOf(id))?.pid ?? 0;
      const s = await ctx.start(id);
      ctx.observe('start.ok', ok(s));
      if (kind === 'poststop') {
        if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
        await ctx.kill(id, 'KILL');
        await ctx.waitStopped(id);
        const d = await ctx.delete(id);
        ctx.check(ok(d), `delete must succeed although a poststop hook failed (${describe(d)})`);
        ctx.check(hookOrder(ctx).includes('poststop-next'), 'the poststop hook after the failing one must still run');
        ctx.check(!ok(await ctx.state(id)), 'the container must be gone after delete');
        return;
      }
      ctx.check(!ok(s), `start must fail when the ${kind} hook fails`);
      if (kind === 'startContainer') ctx.check(!fs.existsSync(path.join(b.rootfs, 'ran')), 'the user program must not run after startContainer failed');
      await ctx.waitPidGone(pid, 10);
      const st = await ctx.stateOf(id);
      ctx.check(!st || st.status === 'stopped', `the container must be stopped (status ${st?.status})`);
      ctx.check(!pidAlive(pid), 'the container process must not be left running');
      if (st) await ctx.delete(id);
      ctx.check(hookOrder(ctx).includes('poststop'), 'the poststop hooks must run once the container is destroyed');
    },
  };
}

export const hookCases: CaseDef[] = [
  ...HOOK_KINDS.map(kindCase),
  {
    id: 'config.hooks.order',
    section: S_HOOKS,
    requirement: 'Hooks run in lifecycle order (prestart, createRuntime, createContainer, startContainer, poststart, poststop) and, within a kind, in the listed order.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.hooks = {};
      for (const k of HOOK_KINDS) cfg.hooks[k] = [hookEntry(ctx, k, `${k}-1`), hookEntry(ctx, k, `${k}-2`)];
      withHookMount(ctx, cfg);
      const L = await lifecycle(ctx, cfg);
      const want = HOOK_KINDS.flatMap((k) => [`${k}-1`, `${k}-2`]);
      ctx.equal(L.afterDelete, want, 'hook order');
    },
  },
  {
    id: 'config.hooks.args-env',
    section: S_HOOKS,
    requirement: 'A hook gets exactly its configured args (argv) and env (environ).',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const h = hookEntry(ctx, 'createRuntime', 'argsenv', { env: ['A=1', 'B=two words', 'EMPTY='] });
      h.args = [...h.args, 'extra arg'];
      cfg.hooks = { createRuntime: [h] };
      await lifecycle(ctx, cfg);
      const rec = hookRec(ctx, 'argsenv');
      if (!rec) ctx.fatal('the hook left no record');
      ctx.equal(rec.argv, h.args, 'argv');
      ctx.equal(rec.env, ['A=1', 'B=two words', 'EMPTY='], 'environ');
    },
  },
  ...(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as HookKind[]).map(failCase),
  {
    id: 'config.hooks.timeout',
    section: S_HOOKS,
    requirement: 'A hook still running after its timeout is aborted and counts as failed: create fails within a bounded time.',
    timeout: 90,
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.hooks = { createRuntime: [hookEntry(ctx, 'createRuntime', 'slow', { sleep: 60, timeout: 2 })] };
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const t0 = Date.now();
      const c = await ctx.create(id, b, { timeoutMs: 50000 });
      const secs = (Date.now() - t0) / 1000;
      ctx.observe('create.ok', ok(c));
      ctx.check(!c.timedOut && secs < 30, `create must give up on the hook after its 2s timeout (took ${secs.toFixed(1)}s)`);
      ctx.check(!ok(c), 'create must fail when a hook times out');
      if (!ok(c)) await expectNoContainer(ctx, id, b, 'after the hook timed out');
    },
  },
  {
    id: 'config.hooks.path-relative',
    section: S_HOOKS,
    requirement: 'A hook path must be absolute; a relative one is invalid and create fails.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      const h = hookEntry(ctx, 'createRuntime', 'relative');
      h.path = 'probe';
      cfg.hooks = { createRuntime: [h] };
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b, { cwd: path.dirname(ctx.env.art.probe) });
      ctx.observe('create.ok', ok(c));
      ctx.check(!ok(c), 'create must fail with a relative hook path');
    },
  },
];
