// Differential mode: normalize what two runtimes produced for the same case
// and compare field by field. What must differ between two containers (ids,
// pids, timestamps, cgroup names, namespace inode numbers, mount ids, paths
// of the run directory) is replaced by placeholders or relations first.
import { capsFromHex, nsInode, parseMountinfo, ProbeReport, MountEntry } from './probe';
import { stableStringify } from './util';

export interface NormalizeCtx {
  /** host namespace inodes by type (mnt, net, ...) */
  hostNs: Record<string, number | null>;
  /** inode -> label for namespaces made by the case's helpers */
  nsLabels?: Map<number, string>;
  /** literal strings to replace, longest first (run dir, case dir, ids) */
  replacements: [string, string][];
}

export function replaceAll(s: string, reps: [string, string][]): string {
  let out = s;
  for (const [from, to] of [...reps].sort((a, b) => b[0].length - a[0].length)) {
    if (from) out = out.split(from).join(to);
  }
  return out
    .replace(/(pipe|socket|anon_inode:\[?[a-z_]*\]?|net|mnt|pid|uts|ipc|user|cgroup|time):\[\d+\]/g, '$1:[N]')
    .replace(/\/dev\/pts\/\d+/g, '/dev/pts/N');
}

const NS_KEYS: Record<string, string> = {
  cgroup: 'cgroup',
  ipc: 'ipc',
  mnt: 'mnt',
  net: 'net',
  pid: 'pid',
  pid_for_children: 'pid',
  time: 'time',
  time_for_children: 'time',
  user: 'user',
  uts: 'uts',
};

/** A namespace as a relation: "host", "new", a helper's label, or "absent". */
export function nsRelation(link: string | null | undefined, type: string, c: NormalizeCtx): string {
  const ino = nsInode(link);
  if (ino === null) return 'absent';
  const label = c.nsLabels?.get(ino);
  if (label) return label;
  const host = c.hostNs[NS_KEYS[type] ?? type];
  return host === ino ? 'host' : 'new';
}

function normMount(m: MountEntry, byId: Map<number, MountEntry>, c: NormalizeCtx): Record<string, unknown> {
  const parent = byId.get(m.parent);
  return {
    mountPoint: replaceAll(m.mountPoint, c.replacements),
    parent: parent ? replaceAll(parent.mountPoint, c.replacements) : null,
    root: replaceAll(m.root, c.replacements),
    fstype: m.fstype,
    source: replaceAll(m.source, c.replacements),
    options: m.options,
    propagation: m.optional.map((o) => o.replace(/:\d+$/, '')).sort(),
    superOptions: m.superOptions,
  };
}

/** A probe report reduced to what two conforming runtimes must agree on. */
export function normalizeReport(r: ProbeReport, c: NormalizeCtx): Record<string, unknown> {
  const rep = (s: string) => replaceAll(s, c.replacements);
  const mounts = parseMountinfo(r.mountinfo);
  const byId = new Map(mounts.map((m) => [m.id, m]));
  const ns: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.ns)) ns[k] = nsRelation(v, k, c);
  const caps: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.caps)) caps[k] = capsFromHex(v || '0');
  const devices: Record<string, unknown> = {};
  for (const d of r.devices) {
    const { path: p, ...rest } = d;
    devices[rep(p)] = { ...rest, ...(rest.target ? { target: rep(rest.target) } : {}) };
  }
  const checks: Record<string, unknown> = {};
  for (const ch of r.checks) {
    const { op, path: p, ...rest } = ch;
    const v: Record<string, unknown> = { ...rest };
    // What the random devices give is different on every read, by design.
    if (typeof v.content === 'string') v.content = /^\/dev\/u?random$/.test(p) ? `<${(v.content as string).length} random bytes>` : rep(v.content);
    if (Array.isArray(v.entries)) v.entries = (v.entries as string[]).map(rep).sort();
    if ('ret' in v && op === 'syscall') v.ret = (v.ret as number) < 0 ? v.ret : 'ok';
    checks[`${op} ${rep(p)}`] = v;
  }
  return {
    argv: r.argv.map(rep),
    env: r.env.map(rep),
    uid: r.uid,
    euid: r.euid,
    suid: r.suid,
    gid: r.gid,
    egid: r.egid,
    sgid: r.sgid,
    groups: r.groups,
    caps,
    noNewPrivs: r.noNewPrivs,
    seccomp: r.seccomp,
    seccompFilters: r.seccompFilters,
    umask: r.umask,
    cpusAllowed: r.cpusAllowed,
    memsAllowed: r.memsAllowed,
    rlimits: r.rlimits,
    cwd: r.cwd,
    hostname: r.hostname,
    domainname: r.domainname,
    machine: r.machine,
    personality: r.personality,
    ns,
    // inside a new pid namespace the probe is pid 1; elsewhere pids differ
    pidInContainer: r.pid === 1 ? 1 : 'host-pid',
    oomScoreAdj: r.oomScoreAdj,
    // cgroup names differ by design: keep only the shape of each line
    cgroup: (r.cgroup ?? []).map((l) => l.replace(/:[^:]*$/, (m) => (m === ':/' ? ':/' : ':<cgroup>'))),
    uidMap: r.uidMap,
    gidMap: r.gidMap,
    setgroups: r.setgroups,
    timensOffsets: r.timensOffsets,
    lsm: r.lsmCurrent,
    mounts: mounts.map((m) => normMount(m, byId, c)),
    nice: r.nice,
    sched: r.sched,
    ioprio: r.ioprio,
    tty: { isatty0: r.tty.isatty0, isatty1: r.tty.isatty1, isatty2: r.tty.isatty2, name0: r.tty.name0 ? rep(r.tty.name0) : null, rows: r.tty.rows, cols: r.tty.cols },
    devices,
    fds: r.fds.map((f) => ({ fd: f.fd, target: rep(f.target) })),
    checks,
    signal: r.signal,
  };
}

export interface DiffItem {
  path: string;
  target: unknown;
  reference: unknown;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Field-by-field comparison. Objects recurse by key; arrays of mounts are
 * compared by mount point (order kept as a separate field); other arrays
 * compare whole.
 */
export function diffValues(a: unknown, b: unknown, at = ''): DiffItem[] {
  if (isObj(a) && isObj(b)) {
    const out: DiffItem[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) out.push(...diffValues(a[k], b[k], at ? `${at}.${k}` : k));
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && at.endsWith('mounts')) {
    const out: DiffItem[] = [];
    // A mount point mounted over again (a bound /sys with the cgroup mount
    // on top, say) appears as "<point>#2", "<point>#3"...
    const keys = (x: unknown[]) => {
      const seen = new Map<string, number>();
      return x.map((m) => {
        const k = isObj(m) ? String(m.mountPoint) : stableStringify(m);
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        return n > 1 ? `${k}#${n}` : k;
      });
    };
    const ka = keys(a);
    const kb = keys(b);
    const ma = new Map<string, unknown>(a.map((m, i) => [ka[i], m]));
    const mb = new Map<string, unknown>(b.map((m, i) => [kb[i], m]));
    // The order of the mounts both sides have; a mount only one side has is
    // a difference of its own below, not also one of order.
    const order = (k: string[], other: Map<string, unknown>) => k.filter((x) => other.has(x));
    if (stableStringify(order(ka, mb)) !== stableStringify(order(kb, ma))) out.push({ path: `${at}[order]`, target: order(ka, mb), reference: order(kb, ma) });
    for (const k of [...new Set([...ma.keys(), ...mb.keys()])].sort()) out.push(...diffValues(ma.get(k), mb.get(k), `${at}[${k}]`));
    return out;
  }
  if (stableStringify(a) === stableStringify(b)) return [];
  return [{ path: at, target: a, reference: b }];
}

export interface Allowance {
  /** case id, or a prefix ending in "*", or "*" */
  case: string;
  /** field path prefix (as printed in diffs), or "*" */
  field: string;
  /** runtime names this applies to (target side); empty = any */
  runtimes?: string[];
  reason: string;
}

function matchGlob(pattern: string, s: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return s.startsWith(pattern.slice(0, -1));
  return pattern === s;
}

export function fieldMatches(pattern: string, field: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return field.startsWith(pattern.slice(0, -1));
  return field === pattern || field.startsWith(pattern + '.') || field.startsWith(pattern + '[');
}

/** Splits diffs into allowed (with the reason) and not allowed. */
export function applyAllowances(
  caseId: string,
  runtimeName: string,
  diffs: DiffItem[],
  allowances: Allowance[],
): { allowed: (DiffItem & { reason: string })[]; rejected: DiffItem[] } {
  const allowed: (DiffItem & { reason: string })[] = [];
  const rejected: DiffItem[] = [];
  for (const d of diffs) {
    const a = allowances.find(
      (x) => matchGlob(x.case, caseId) && fieldMatches(x.field, d.path) && (!x.runtimes || x.runtimes.length === 0 || x.runtimes.includes(runtimeName)),
    );
    if (a) allowed.push({ ...d, reason: a.reason });
    else rejected.push(d);
  }
  return { allowed, rejected };
}
