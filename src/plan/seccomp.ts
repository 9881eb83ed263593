// linux.seccomp (config-linux.md "Seccomp") compiled to a BPF program for
// tsrun-init to install. The spec's names become libseccomp's numbers here;
// libseccomp (through the addon) does the compiling.
import { TsrunError, messageOf } from '../errors';
import { debug } from '../log';
import { native, type SeccompJob } from '../native/addon';
import { join } from '../spec/fieldpath';
import { exactInteger } from '../spec/json';
import type { Seccomp } from '../spec/types';

const EPERM = 1;

const actions: Record<string, number> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

const operators: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

// The spec's architecture names and libseccomp's.
const architectures: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
};

// seccomp(2) SECCOMP_FILTER_FLAG_*, passed on when the filter is loaded.
const flags: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

// Flags the kernel takes only with a notify listener (SCMP_ACT_NOTIFY):
// loading them alone is EINVAL.
const listenerFlags: Record<string, number> = { SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32 };
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
// TSYNC and a listener together need this too (seccomp(2)).
const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;

/** What the features document says about seccomp: exactly the tables above. */
export const seccompFeatures = {
  enabled: true,
  actions: Object.keys(actions),
  operators: Object.keys(operators),
  archs: Object.keys(architectures),
  knownFlags: [...Object.keys(flags), ...Object.keys(listenerFlags)],
  supportedFlags: [...Object.keys(flags), ...Object.keys(listenerFlags)],
};

function action(name: string, errnoRet: number | undefined, field: string): number {
  const base = actions[name];
  if (base === undefined) throw new TsrunError(`unknown seccomp action ${name}`, field);
  const takesErrno = name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE';
  // config-linux.md "Seccomp": an errno on an action that returns none is an error.
  if (errnoRet !== undefined && !takesErrno) throw new TsrunError(`${name} cannot return an errno (errnoRet)`, field);
  // ERRNO and TRACE carry a 16-bit value: the errno (EPERM unless given).
  if (takesErrno) return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return base;
}

interface Rule {
  syscall: string;
  action: number;
  args: { index: number; op: number; value: bigint; valueTwo: bigint }[];
  field: string;
}

/** The syscalls tsrun-init sends the notify listener with (and reports a failure to send it with). */
export const listenerHandover = ['write', 'writev', 'sendmsg'];

/** Where the notify listener goes (config-linux.md "Seccomp": listenerPath). */
export interface SeccompListener {
  path: string;
  metadata?: string;
}

/** The listener's destination, when a rule is SCMP_ACT_NOTIFY (startSeccompCompile checks the rest). */
export function seccompListener(s: Seccomp | undefined): SeccompListener | undefined {
  if (!s?.listenerPath || !(s.syscalls ?? []).some((c) => c.action === 'SCMP_ACT_NOTIFY')) return undefined;
  return { path: s.listenerPath, ...(s.listenerMetadata !== undefined && { metadata: s.listenerMetadata }) };
}

export interface CompiledSeccomp {
  bpf: Buffer;
  /** seccomp(2) SECCOMP_FILTER_FLAG_* */
  flags: number;
  /** With an SCMP_ACT_NOTIFY rule. */
  listener?: SeccompListener;
}

/** A filter being compiled on a thread of the addon; what is known before the compile ends. */
export interface SeccompCompile {
  /** seccomp(2) SECCOMP_FILTER_FLAG_* */
  flags: number;
  /** With an SCMP_ACT_NOTIFY rule. */
  listener?: SeccompListener;
  /** Waits for the compile to end; a rule libseccomp refuses is a TsrunError naming it. */
  wait(): CompiledSeccomp;
}

/**
 * Checks the filter and starts its compile, which goes on while the caller
 * does other work (create: its state directory and cgroups, and
 * tsrun-init's setup until it asks for the program). A field that is wrong
 * on its face throws here, before anything is made. With the state root, a
 * program compiled before from the same rules is used instead, and a new
 * one is kept (seccomp-cache.ts).
 */
export function startSeccompCompile(s: Seccomp, stateRoot?: string): SeccompCompile {
  // A listener is for SCMP_ACT_NOTIFY rules; without one the path is
  // ignored (config-linux.md "Seccomp"). As runc, the default action is not
  // NOTIFY: every syscall, the listener's own handover included, would wait
  // on an agent that does not have it yet.
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') throw new TsrunError('SCMP_ACT_NOTIFY cannot be the default action', 'linux.seccomp.defaultAction');
  const notifies = (s.syscalls ?? []).some((c) => c.action === 'SCMP_ACT_NOTIFY');
  if (notifies && !s.listenerPath) throw new TsrunError('is required with an SCMP_ACT_NOTIFY rule', 'linux.seccomp.listenerPath');
  if (notifies && !s.listenerPath!.startsWith('/')) throw new TsrunError(`${JSON.stringify(s.listenerPath)} is not an absolute path`, 'linux.seccomp.listenerPath');
  // tsrun-init hands the listener over with these (runc refuses write by
  // name too): notified, they would wait on the listener they carry.
  (s.syscalls ?? []).forEach((c, i) => {
    const handover = c.action === 'SCMP_ACT_NOTIFY' && c.names.find((n) => listenerHandover.includes(n));
    if (handover) throw new TsrunError(`SCMP_ACT_NOTIFY cannot be used for ${handover}: tsrun-init sends the notify listener with it`, join(join('linux.seccomp.syscalls', i), 'names'));
  });
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet, 'linux.seccomp.defaultAction');
  const arches = (s.architectures ?? []).map((a, i) => {
    const name = architectures[a];
    if (!name) throw new TsrunError(`unknown architecture ${a}`, join('linux.seccomp.architectures', i));
    return name;
  });
  let loadFlags = notifies ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  (s.flags ?? []).forEach((f, i) => {
    if (f in listenerFlags) {
      if (!notifies) throw new TsrunError(`${f} applies to a notify listener, and no rule is SCMP_ACT_NOTIFY`, join('linux.seccomp.flags', i));
      loadFlags |= listenerFlags[f];
      return;
    }
    if (!(f in flags)) throw new TsrunError(`unknown seccomp flag ${f}`, join('linux.seccomp.flags', i));
    loadFlags |= flags[f];
  });
  if (notifies && loadFlags & flags.SECCOMP_FILTER_FLAG_TSYNC) loadFlags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  const rules: Rule[] = [];
  const cacheDir = stateRoot === undefined ? undefined : seccompCache().seccompCacheDir(stateRoot);
  // The rules as libseccomp gets them, one per line (the cache's key).
  const lines: string[] = cacheDir ? [`${defaultAction} ${JSON.stringify(arches)}`] : [];
  (s.syscalls ?? []).forEach((call, i) => {
    const field = join('linux.seccomp.syscalls', i);
    const act = action(call.action, call.errnoRet, join(field, 'action'));
    // libseccomp refuses a rule that only repeats the default; it changes nothing.
    if (act === defaultAction) return;
    const args = (call.args ?? []).map((a, j) => {
      const op = operators[a.op];
      if (op === undefined) throw new TsrunError(`unknown operator ${a.op}`, join(join(join(field, 'args'), j), 'op'));
      const f = join(join(field, 'args'), j);
      return { index: a.index, op, value: exactInteger(a, 'value', join(f, 'value')), valueTwo: a.valueTwo === undefined ? 0n : exactInteger(a, 'valueTwo', join(f, 'valueTwo')) };
    });
    // As runc: conditions on distinct arguments must all hold (one rule);
    // several on the same argument are alternatives (one rule each).
    const indexes = args.map((a) => a.index);
    const alternatives = new Set(indexes).size < indexes.length ? args.map((a) => [a]) : [args];
    for (const name of call.names) {
      for (const alt of alternatives) {
        rules.push({ syscall: name, action: act, args: alt, field });
        if (cacheDir) lines.push(`${JSON.stringify(name)} ${act}${alt.map((a) => ` ${a.index} ${a.op} ${a.value} ${a.valueTwo}`).join('')}`);
      }
    }
  });
  const listener = seccompListener(s);
  const key = cacheDir ? seccompCache().compileKey(lines.join('\n')) : undefined;
  const cached = key ? seccompCache().lookUp(cacheDir!, key) : undefined;
  if (cached) {
    debug('seccomp: the program compiled before from these rules');
    return { flags: loadFlags, listener, wait: () => compiled(cached, loadFlags, listener) };
  }
  const refused = (err: unknown) => {
    const rule = (err as { rule?: number }).rule;
    return new TsrunError(messageOf(err), rule !== undefined ? rules[rule].field : 'linux.seccomp');
  };
  let job: SeccompJob;
  try {
    job = native().startSeccompCompile({ defaultAction, architectures: arches, rules });
  } catch (err) {
    throw refused(err);
  }
  return {
    flags: loadFlags,
    listener,
    wait() {
      let result: { bpf: Buffer; unknown: string[] };
      try {
        result = native().seccompCompiled(job);
      } catch (err) {
        throw refused(err);
      }
      if (key) seccompCache().store(cacheDir!, key, result);
      return compiled(result, loadFlags, listener);
    },
  };
}

function compiled(result: { bpf: Buffer; unknown: string[] }, flags: number, listener: SeccompListener | undefined): CompiledSeccomp {
  if (result.unknown.length) debug(`seccomp: syscalls unknown to libseccomp, skipped: ${[...new Set(result.unknown)].join(' ')}`);
  return { bpf: result.bpf, flags, listener };
}

// Loaded with a state root only (tests compile without one).
const seccompCache = () => require('./seccomp-cache') as typeof import('./seccomp-cache');

/** The BPF program, the seccomp(2) flags to load it with, and where its notify listener goes, at once (for tests). */
export function compileSeccomp(s: Seccomp): CompiledSeccomp {
  return startSeccompCompile(s).wait();
}
