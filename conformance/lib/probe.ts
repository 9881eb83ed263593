// Parsing of what the probe (probe/probe.c) prints, into typed values.
import { z } from 'zod';

export const BEGIN_MARK = '@@TSRUN-PROBE-BEGIN@@';
export const END_MARK = '@@TSRUN-PROBE-END@@';
export const AFTER_MARK = '@@TSRUN-PROBE-AFTER@@';

const check = z
  .object({
    op: z.string(),
    path: z.string(),
    ok: z.boolean(),
    errno: z.string(),
  })
  .passthrough();

const rlimit = z.object({ soft: z.string(), hard: z.string() }).nullable();

export const probeReportSchema = z
  .object({
    fds: z.array(z.object({ fd: z.number(), target: z.string() })),
    argv: z.array(z.string()),
    env: z.array(z.string()),
    pid: z.number(),
    ppid: z.number(),
    signal: z.number().optional(),
    uid: z.number(),
    euid: z.number(),
    suid: z.number(),
    gid: z.number(),
    egid: z.number(),
    sgid: z.number(),
    groups: z.array(z.number()),
    caps: z.object({
      inheritable: z.string(),
      permitted: z.string(),
      effective: z.string(),
      bounding: z.string(),
      ambient: z.string(),
    }),
    noNewPrivs: z.number(),
    noNewPrivsPrctl: z.number(),
    seccomp: z.number(),
    seccompFilters: z.number(),
    umask: z.string().nullable(),
    cpusAllowed: z.string(),
    memsAllowed: z.string(),
    rlimits: z.record(rlimit),
    cwd: z.string().nullable(),
    hostname: z.string(),
    domainname: z.string(),
    machine: z.string(),
    personality: z.number(),
    /** get_mempolicy(2): the mode with its flags (-1: the call failed), and the mask of nodes 0-63 in hex. */
    memPolicy: z.object({ mode: z.number(), nodes: z.string() }),
    ns: z.record(z.string().nullable()),
    oomScoreAdj: z.string().nullable(),
    cgroup: z.array(z.string()).nullable(),
    uidMap: z.array(z.string()).nullable(),
    gidMap: z.array(z.string()).nullable(),
    setgroups: z.string().nullable(),
    timensOffsets: z.array(z.string()).nullable(),
    apparmor: z.string().nullable(),
    lsmCurrent: z.string().nullable(),
    mountinfo: z.array(z.string()).nullable(),
    nice: z.number(),
    sched: z
      .object({
        policy: z.number(),
        flags: z.number().optional(),
        nice: z.number().optional(),
        priority: z.number().optional(),
        runtime: z.number().optional(),
        deadline: z.number().optional(),
        period: z.number().optional(),
        error: z.string().optional(),
      })
      .passthrough(),
    ioprio: z.object({ class: z.number().optional(), level: z.number().optional(), error: z.string().optional() }),
    tty: z
      .object({
        isatty0: z.boolean(),
        isatty1: z.boolean(),
        isatty2: z.boolean(),
        name0: z.string().nullable(),
        rows: z.number().optional(),
        cols: z.number().optional(),
        sid: z.number(),
        pgid: z.number(),
        fgpgrp: z.number(),
      })
      .passthrough(),
    devices: z.array(
      z
        .object({
          path: z.string(),
          type: z.string(),
          mode: z.number(),
          uid: z.number(),
          gid: z.number(),
          major: z.number().optional(),
          minor: z.number().optional(),
          target: z.string().optional(),
        })
        .passthrough(),
    ),
    clocks: z.object({ monotonic: z.number(), boottime: z.number() }),
    checks: z.array(check),
    complete: z.literal(true),
  })
  .passthrough();

export type ProbeReport = z.infer<typeof probeReportSchema>;
export type ProbeCheck = z.infer<typeof check>;

export interface ExtractResult {
  report: ProbeReport | null;
  error?: string;
  /** result of --last-syscall, when the probe survived it */
  after?: ProbeCheck | null;
}

/** Finds the framed JSON document in a container's stdout and validates it. */
export function extractProbeReport(stdout: string): ExtractResult {
  const b = stdout.indexOf(BEGIN_MARK);
  if (b < 0) return { report: null, error: 'probe output not found (no begin marker)' };
  const e = stdout.indexOf(END_MARK, b);
  if (e < 0) return { report: null, error: 'probe output truncated (no end marker)' };
  const text = stdout.slice(b + BEGIN_MARK.length, e).trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { report: null, error: `probe output is not JSON: ${(err as Error).message}` };
  }
  const parsed = probeReportSchema.safeParse(json);
  if (!parsed.success) {
    return { report: null, error: `probe output has an unexpected shape: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
  }
  let after: ProbeCheck | null | undefined;
  const a = stdout.indexOf(AFTER_MARK, e);
  if (a >= 0) {
    const line = stdout.slice(a + AFTER_MARK.length).split('\n')[0].trim();
    try {
      after = check.parse(JSON.parse(line));
    } catch {
      after = null;
    }
  }
  return { report: parsed.data, after };
}

// Linux capability numbers (include/uapi/linux/capability.h).
export const CAPABILITIES: string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Hex capability mask from /proc/<pid>/status -> sorted capability names. */
export function capsFromHex(hex: string): string[] {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`bad capability mask: ${JSON.stringify(hex)}`);
  const v = BigInt('0x' + hex);
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    if ((v >> BigInt(i)) & 1n) out.push(CAPABILITIES[i] ?? `CAP_${i}`);
  }
  return out.sort();
}

export function capsToHex(names: string[]): string {
  let v = 0n;
  for (const n of names) {
    const i = CAPABILITIES.indexOf(n);
    if (i < 0) throw new Error(`unknown capability ${n}`);
    v |= 1n << BigInt(i);
  }
  return v.toString(16).padStart(16, '0');
}

export interface MountEntry {
  id: number;
  parent: number;
  major: number;
  minor: number;
  root: string;
  mountPoint: string;
  options: string[];
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

/** Undoes the octal escapes (\040 etc.) that the kernel uses in mountinfo. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses one /proc/<pid>/mountinfo line (proc(5)). */
export function parseMountinfoLine(line: string): MountEntry {
  const parts = line.trim().split(' ');
  const sep = parts.indexOf('-', 6);
  if (parts.length < 10 || sep < 0) throw new Error(`bad mountinfo line: ${line}`);
  const [maj, min] = parts[2].split(':').map(Number);
  return {
    id: Number(parts[0]),
    parent: Number(parts[1]),
    major: maj,
    minor: min,
    root: unescapeMountinfo(parts[3]),
    mountPoint: unescapeMountinfo(parts[4]),
    options: parts[5].split(','),
    optional: parts.slice(6, sep),
    fstype: parts[sep + 1],
    source: unescapeMountinfo(parts[sep + 2]),
    superOptions: (parts[sep + 3] ?? '').split(',').filter((x) => x !== ''),
  };
}

export function parseMountinfo(lines: string[] | null | undefined): MountEntry[] {
  return (lines ?? []).filter((l) => l.trim() !== '').map(parseMountinfoLine);
}

/** The mount that is visible at a path: the last one mounted exactly there. */
export function mountAt(mounts: MountEntry[], mountPoint: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const m of mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

/** Propagation of a mount from its optional fields. */
export function propagationOf(m: MountEntry): { shared: boolean; slave: boolean; unbindable: boolean } {
  return {
    shared: m.optional.some((o) => o.startsWith('shared:')),
    slave: m.optional.some((o) => o.startsWith('master:')),
    unbindable: m.optional.includes('unbindable'),
  };
}

/** "net:[4026531840]" -> 4026531840 */
export function nsInode(link: string | null | undefined): number | null {
  if (!link) return null;
  const m = /:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

export interface CgroupLine {
  id: number;
  controllers: string[];
  path: string;
}

/** Parses /proc/<pid>/cgroup lines ("4:memory:/a/b", "0::/"). */
export function parseCgroupLines(lines: string[] | null | undefined): CgroupLine[] {
  return (lines ?? [])
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const a = l.indexOf(':');
      const b = l.indexOf(':', a + 1);
      if (a < 0 || b < 0) throw new Error(`bad cgroup line: ${l}`);
      return { id: Number(l.slice(0, a)), controllers: l.slice(a + 1, b).split(',').filter((x) => x), path: l.slice(b + 1) };
    });
}

/** Parses uid_map/gid_map lines to {containerID, hostID, size}. */
export function parseIdMap(lines: string[] | null | undefined): { containerID: number; hostID: number; size: number }[] {
  return (lines ?? [])
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((a) => a.length === 3 && a.every((n) => Number.isFinite(n)))
    .map(([c, h, s]) => ({ containerID: c, hostID: h, size: s }));
}

/** Parses /proc/<pid>/timens_offsets ("monotonic  172800 0"). */
export function parseTimensOffsets(lines: string[] | null | undefined): Record<string, { secs: number; nanosecs: number }> {
  const out: Record<string, { secs: number; nanosecs: number }> = {};
  for (const l of lines ?? []) {
    const p = l.trim().split(/\s+/);
    if (p.length === 3) out[p[0]] = { secs: Number(p[1]), nanosecs: Number(p[2]) };
  }
  return out;
}

/** Looks up the environment value of NAME in an environ array. */
export function envValue(env: string[], name: string): string | undefined {
  for (const e of env) if (e.startsWith(name + '=')) return e.slice(name.length + 1);
  return undefined;
}

export function findCheck(r: ProbeReport, op: string, path: string): ProbeCheck | undefined {
  return r.checks.find((c) => c.op === op && c.path === path);
}

/** rlimit value as the probe prints it -> bigint, with RLIM_INFINITY for "unlimited". */
export const RLIM_INFINITY = (1n << 64n) - 1n;
export function rlimitValue(v: string): bigint {
  return v === 'unlimited' ? RLIM_INFINITY : BigInt(v);
}
