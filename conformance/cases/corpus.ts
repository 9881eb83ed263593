// Real configs from generators (conformance/corpus/*.json, maintained
// separately): each is adapted to this host and run; the probe's view must
// match what the config asks for. In differential mode these are compared
// field by field with the reference runtime.
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { conformanceDir } from '../lib/known';
import { capsFromHex, envValue, nsInode, parseMountinfo, ProbeReport } from '../lib/probe';
import { Cfg, clone } from '../lib/util';

const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup', time: 'time' };
const FILE_NAMES = new Set(['hostname', 'hosts', 'resolv.conf', '.containerenv', 'passwd', 'group', 'localtime']);

export interface Adapted {
  config: Cfg;
  changes: string[];
}

/**
 * Makes a generator's config runnable here without changing what it asks of
 * the runtime where that is observable: the rootfs, the program, the cgroup
 * path and host-specific paths are replaced; every change is recorded.
 */
export function adaptConfig(
  orig: Cfg,
  o: { workDir: string; hostHardNofile: bigint; hostOomScoreAdj: number; hasCapSysResource: boolean; apparmor: boolean; selinux: boolean },
): Adapted {
  const c = clone(orig);
  const changes: string[] = [];
  c.root = { ...(c.root ?? {}), path: 'rootfs' };
  c.process = c.process ?? { cwd: '/', user: { uid: 0, gid: 0 } };
  c.process.args = ['/probe'];
  if (c.process.terminal) {
    c.process.terminal = false;
    changes.push('terminal off (the suite reads stdout)');
  }
  if (c.hooks) {
    delete c.hooks;
    changes.push('hooks removed (their programs belong to the generating host)');
  }
  c.linux = c.linux ?? {};
  c.linux.cgroupsPath = '';
  if (c.process.apparmorProfile && !o.apparmor) {
    delete c.process.apparmorProfile;
    changes.push('apparmorProfile removed (no AppArmor here)');
  }
  if (c.process.selinuxLabel && !o.selinux) {
    delete c.process.selinuxLabel;
    changes.push('selinuxLabel removed (no SELinux here)');
  }
  if (c.linux.mountLabel && !o.selinux) {
    delete c.linux.mountLabel;
    changes.push('mountLabel removed (no SELinux here)');
  }
  if (!o.hasCapSysResource && Array.isArray(c.process.rlimits)) {
    for (const r of c.process.rlimits as Cfg[]) {
      if (r.type === 'RLIMIT_NOFILE' && BigInt(Math.trunc(Number(r.hard))) > o.hostHardNofile) {
        r.hard = Number(o.hostHardNofile);
        r.soft = Math.min(Number(r.soft), r.hard);
        changes.push(`RLIMIT_NOFILE lowered to the host's hard limit ${r.hard} (no CAP_SYS_RESOURCE here)`);
      }
    }
  }
  if (typeof c.process.oomScoreAdj === 'number' && c.process.oomScoreAdj < o.hostOomScoreAdj && !o.hasCapSysResource) {
    c.process.oomScoreAdj = o.hostOomScoreAdj;
    changes.push('oomScoreAdj raised to the caller\'s (lowering needs CAP_SYS_RESOURCE)');
  }
  const ns = (c.linux.namespaces ?? []) as Cfg[];
  if (ns.some((n) => n.type === 'user' && !n.path) && !c.linux.uidMappings) {
    // rootless templates leave the mapping to the runtime's caller: map the caller (root here) to root
    c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    for (const m of (c.mounts ?? []) as Cfg[]) if (m.type === 'devpts' && Array.isArray(m.options)) m.options = m.options.filter((x: string) => !/^gid=/.test(x));
    changes.push('user namespace without mappings (a rootless template): the caller is mapped to root, devpts gid option dropped');
  }
  if (Array.isArray(c.linux.namespaces)) {
    for (const n of c.linux.namespaces as Cfg[]) {
      if (n.path) {
        changes.push(`${n.type} namespace path ${n.path} replaced by a new namespace`);
        delete n.path;
      }
    }
  }
  let i = 0;
  for (const m of (c.mounts ?? []) as Cfg[]) {
    const bind = (m.options ?? []).some((x: string) => x === 'bind' || x === 'rbind') || m.type === 'bind';
    if (!bind || !m.source) continue;
    const src = path.isAbsolute(m.source) ? m.source : null;
    if (src && fs.existsSync(src) && !src.startsWith('/srv/oci-corpus') && !/\/(containers|containerd)\//.test(src)) continue;
    const base = path.basename(m.destination);
    const isFile = FILE_NAMES.has(base) || FILE_NAMES.has(path.basename(m.source)) || /\.[a-z]+$/.test(base);
    const repl = path.join(o.workDir, 'sources', `${i++}-${base || 'root'}`);
    if (isFile) {
      fs.mkdirSync(path.dirname(repl), { recursive: true });
      fs.writeFileSync(repl, `stand-in for ${base}\n`);
    } else {
      fs.mkdirSync(repl, { recursive: true });
    }
    m.source = repl;
  }
  if (i) changes.push(`${i} bind source(s) of the generating host replaced by local stand-ins`);
  return { config: c, changes };
}

/** Checks the probe's view against what the config asks for. */
export function verifyAgainstConfig(ctx: CaseContext, cfg: Cfg, r: ProbeReport): void {
  const p = cfg.process ?? {};
  if (p.user) {
    ctx.equal(r.uid, p.user.uid ?? 0, 'uid');
    ctx.equal(r.gid, p.user.gid ?? 0, 'gid');
    if (Array.isArray(p.user.additionalGids)) {
      const extra = r.groups.filter((g) => g !== (p.user.gid ?? 0)).sort((a, b) => a - b);
      const want = [...new Set((p.user.additionalGids as number[]).filter((g) => g !== (p.user.gid ?? 0)))].sort((a, b) => a - b);
      ctx.equal(extra, want, 'supplementary groups');
    }
    if (typeof p.user.umask === 'number') ctx.equal(r.umask, p.user.umask.toString(8).padStart(4, '0'), 'umask');
  }
  if (p.cwd) ctx.equal(r.cwd, p.cwd, 'cwd');
  for (const e of (p.env ?? []) as string[]) {
    const k = e.slice(0, e.indexOf('='));
    ctx.equal(envValue(r.env, k), e.slice(e.indexOf('=') + 1), `env ${k}`);
  }
  if (p.capabilities) {
    const pc = p.capabilities as Record<string, string[] | undefined>;
    const grantable = (xs: string[] | undefined) => [...new Set(xs ?? [])].filter((x) => ctx.host.caps.includes(x)).sort();
    for (const set of ['bounding', 'inheritable'] as const) {
      if (Array.isArray(pc[set])) ctx.equal(capsFromHex(r.caps[set]), grantable(pc[set]), `${set} capabilities`);
    }
    // the kernel keeps an ambient capability only if it is also permitted and inheritable;
    // the spec asks for a warning (not an error) for those that cannot be granted
    if (Array.isArray(pc.ambient)) {
      const amb = grantable(pc.ambient).filter((c) => (pc.permitted ?? []).includes(c) && (pc.inheritable ?? []).includes(c));
      ctx.equal(capsFromHex(r.caps.ambient), amb, 'ambient capabilities (those also permitted and inheritable)');
    }
  }
  ctx.equal(r.noNewPrivsPrctl, p.noNewPrivileges ? 1 : 0, 'no_new_privs');
  for (const rl of (p.rlimits ?? []) as Cfg[]) {
    ctx.equal(r.rlimits[rl.type], { soft: String(rl.soft), hard: String(rl.hard) }, `${rl.type}`);
  }
  if (typeof p.oomScoreAdj === 'number') ctx.equal(r.oomScoreAdj, String(p.oomScoreAdj), 'oom_score_adj');
  const nsTypes = new Set(((cfg.linux?.namespaces ?? []) as Cfg[]).map((n) => n.type));
  if (cfg.hostname && nsTypes.has('uts')) ctx.equal(r.hostname, cfg.hostname, 'hostname');
  for (const [t, f] of Object.entries(NS_FILE)) {
    const ino = nsInode(r.ns[f]);
    if (ino === null || ctx.host.ns[f] === null) continue;
    if (nsTypes.has(t)) ctx.check(ino !== ctx.host.ns[f], `${t} namespace must be new`);
    else ctx.equal(ino, ctx.host.ns[f], `${t} namespace must be the runtime's`);
  }
  const mounts = parseMountinfo(r.mountinfo);
  for (const m of (cfg.mounts ?? []) as Cfg[]) {
    const dest = path.posix.resolve('/', m.destination);
    const masked = ((cfg.linux?.maskedPaths ?? []) as string[]).includes(dest);
    if (masked) continue;
    ctx.check(mounts.some((x) => x.mountPoint === dest), `a mount at ${dest}`, { actual: mounts.map((x) => x.mountPoint) });
  }
  if (cfg.root?.readonly) ctx.check(mounts.filter((m) => m.mountPoint === '/').pop()?.options.includes('ro'), 'the root must be read-only');
  for (const mp of (cfg.linux?.maskedPaths ?? []) as string[]) {
    const c = r.checks.find((x) => x.op === 'read' && x.path === mp);
    if (c && c.ok) ctx.check(c.bytes === 0 || c.count === 0 || c.dir === true && c.count === 0, `masked path ${mp} must show nothing`, { actual: c });
  }
  for (const rp of (cfg.linux?.readonlyPaths ?? []) as string[]) {
    const c = r.checks.find((x) => x.op === 'openw' && x.path === rp);
    if (c && c.errno !== 'ENOENT' && c.errno !== 'EISDIR') ctx.check(c.errno === 'EROFS' || c.errno === 'EACCES', `readonly path ${rp} must refuse writes`, { actual: c });
  }
  if (cfg.linux?.seccomp) ctx.equal(r.seccomp, 2, 'seccomp filter');
  for (const d of (cfg.linux?.devices ?? []) as Cfg[]) {
    if (!r.devices.some((x) => x.path === d.path) && !r.checks.some((x) => x.op === 'stat' && x.path === d.path && x.ok)) {
      ctx.check(false, `device ${d.path} must exist`);
    }
  }
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  const st = fs.lstatSync(p);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

export function loadCorpus(dir = path.join(conformanceDir(), 'corpus')): { name: string; file: string; config: Cfg }[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: { name: string; file: string; config: Cfg }[] = [];
  for (const f of files) {
    try {
      const c = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (c && typeof c === 'object' && !Array.isArray(c)) out.push({ name: f.replace(/\.json$/, ''), file: f, config: c });
    } catch {
      /* a broken fixture shows as a failing case below */
      out.push({ name: f.replace(/\.json$/, ''), file: f, config: { __unreadable: true } });
    }
  }
  return out;
}

export function corpusCases(): CaseDef[] {
  return loadCorpus().map(({ name, file, config }) => ({
    id: `corpus.${name.replace(/[^A-Za-z0-9.\-_]/g, '_')}`,
    section: 'config.md#configuration',
    requirement: `The config written by a real generator (${file}) runs, and the process sees what the config asks for.`,
    timeout: 90,
    async run(ctx: CaseContext) {
      if (config.__unreadable) ctx.fatal(`${file} is not readable JSON`);
      const work = ctx.path('corpus');
      fs.mkdirSync(work, { recursive: true });
      const a = adaptConfig(config, {
        workDir: work,
        hostHardNofile: ctx.host.hardNofile,
        hostOomScoreAdj: ctx.host.oomScoreAdj,
        hasCapSysResource: ctx.host.caps.includes('CAP_SYS_RESOURCE'),
        apparmor: ctx.host.apparmor,
        selinux: ctx.host.selinux,
      });
      if (a.changes.length) ctx.note(`adapted: ${a.changes.join('; ')}`);
      const args: string[] = [];
      for (const mp of (a.config.linux?.maskedPaths ?? []) as string[]) args.push('--read', mp);
      for (const rp of (a.config.linux?.readonlyPaths ?? []) as string[]) args.push('--openw', rp);
      for (const d of (a.config.linux?.devices ?? []) as Cfg[]) args.push('--stat', d.path);
      const cwd = a.config.process?.cwd;
      const r = await ctx.probeReport(a.config, args, {
        // generators rely on the image having the working directory; this rootfs may not
        prepare: (b) => {
          if (typeof cwd === 'string' && cwd.startsWith('/')) fs.mkdirSync(path.join(b.rootfs, cwd), { recursive: true });
          // as the image store of the generator would: the rootfs belongs to the container's root
          const root = ((a.config.linux?.uidMappings ?? []) as Cfg[]).find((m) => m.containerID === 0);
          const groot = ((a.config.linux?.gidMappings ?? []) as Cfg[]).find((m) => m.containerID === 0);
          if (root && root.hostID !== 0) chownTree(b.rootfs, root.hostID, groot ? groot.hostID : root.hostID);
        },
      });
      verifyAgainstConfig(ctx, a.config, r);
    },
  }));
}
