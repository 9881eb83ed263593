// config-linux.md: namespaces, id mappings, time offsets, devices, sysctl,
// masked and readonly paths, rootfs propagation, seccomp, personality.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { setNamespace, withoutNamespace } from '../lib/config';
import { v1Mount } from '../lib/host';
import { extractProbeReport, nsInode, parseIdMap, parseMountinfo, parseTimensOffsets, propagationOf, ProbeCheck, ProbeReport } from '../lib/probe';

import { Cfg, sleep } from '../lib/util';
import { checkOf, containerCgroupDir, createFailsCase, createOnly, mountOf, probeCase, readTrim } from './helpers';

const S_NS = 'config-linux.md#configLinuxNamespaces';
const S_MAP = 'config-linux.md#configLinuxUserNamespaceMappings';
const S_TIME = 'config-linux.md#configLinuxTimeOffset';
const S_DEV = 'config-linux.md#configLinuxDevices';
const S_DEFDEV = 'config-linux.md#configLinuxDefaultDevices';
const S_SYSCTL = 'config-linux.md#configLinuxSysctl';
const S_MASK = 'config-linux.md#configLinuxMaskedPaths';
const S_RO = 'config-linux.md#configLinuxReadonlyPaths';
const S_PROP = 'config-linux.md#configLinuxRootfsMountPropagation';
const S_SECCOMP = 'config-linux.md#configLinuxSeccomp';
const S_PERS = 'config-linux.md#configLinuxPersonality';

// config type -> /proc/<pid>/ns name
const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup', time: 'time' };
const UNSHARE_FLAG: Record<string, string> = { network: '--net', ipc: '--ipc', uts: '--uts', mount: '--mount', cgroup: '--cgroup', pid: '--pid', user: '--user', time: '--time' };

const USERNS_MAP = { uid: [{ containerID: 0, hostID: 100000, size: 65536 }], gid: [{ containerID: 0, hostID: 100000, size: 65536 }] };

function addUserNs(cfg: Cfg): void {
  setNamespace(cfg, 'user');
  cfg.linux.uidMappings = JSON.parse(JSON.stringify(USERNS_MAP.uid));
  cfg.linux.gidMappings = JSON.parse(JSON.stringify(USERNS_MAP.gid));
  // sysfs and the cgroup mount cannot be made in a user namespace without its own netns/cgroupns ownership;
  // keep the mounts a user-namespaced container can always make
  cfg.mounts = cfg.mounts.filter((m: Cfg) => m.destination !== '/sys/fs/cgroup');
}

function timeSupported(ctx: CaseContext): string | null {
  if (!ctx.host.timeNamespace) return 'the kernel has no time namespaces';
  const claimed = ctx.features?.linux?.namespaces;
  if (Array.isArray(claimed) && !claimed.includes('time')) return 'the runtime\'s features document does not list the time namespace (a SHOULD)';
  return null;
}

function nsRequires(type: string) {
  return (ctx: CaseContext): string | null => {
    if (type === 'time') return timeSupported(ctx);
    const claimed = ctx.features?.linux?.namespaces;
    if (Array.isArray(claimed) && !claimed.includes(type)) return `the runtime's features document does not list the ${type} namespace (a SHOULD)`;
    return null;
  };
}

function nsOf(r: ProbeReport, type: string): number | null {
  return nsInode(r.ns[NS_FILE[type]]);
}

const newNsCases: CaseDef[] = ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup', 'time'].map((type) =>
  probeCase({
    id: `config-linux.namespaces.new.${type}`,
    section: S_NS,
    since: type === 'time' ? '1.1.0' : undefined,
    requirement: `A ${type} entry without path puts the process in a new ${type} namespace.`,
    requires: nsRequires(type),
    mutate(cfg) {
      if (type === 'user') addUserNs(cfg);
      else setNamespace(cfg, type);
    },
    expect(r, ctx) {
      const ino = nsOf(r, type);
      ctx.check(ino !== null && ino !== ctx.host.ns[NS_FILE[type]], `the ${type} namespace must differ from the runtime's`, { actual: r.ns[NS_FILE[type]] });
      if (type === 'pid') ctx.equal(r.pid, 1, 'in a new pid namespace the process is pid 1');
      if (type === 'cgroup') ctx.check((r.cgroup ?? []).every((l) => l.endsWith(':/')), 'in a new cgroup namespace the process sees its cgroup as /', { actual: r.cgroup });
    },
  }),
);

const inheritNsCases: CaseDef[] = ['pid', 'network', 'ipc', 'uts', 'user', 'cgroup', 'time'].map((type) =>
  probeCase({
    id: `config-linux.namespaces.inherit.${type}`,
    section: S_NS,
    requirement: `Without a ${type} entry the process stays in the runtime's ${type} namespace.`,
    requires: type === 'time' ? (ctx) => (ctx.host.timeNamespace ? null : 'the kernel has no time namespaces') : undefined,
    mutate(cfg) {
      withoutNamespace(cfg, type);
      if (type === 'uts') delete cfg.hostname;
      if (type === 'network') {
        // sysfs of the host netns cannot be mounted without CAP_SYS_ADMIN over it; keep it simple
        cfg.mounts = cfg.mounts.filter((m: Cfg) => m.destination !== '/sys' && m.destination !== '/sys/fs/cgroup');
        cfg.linux.maskedPaths = cfg.linux.maskedPaths.filter((p: string) => !p.startsWith('/sys'));
      }
    },
    expect(r, ctx) {
      ctx.equal(nsOf(r, type), ctx.host.ns[NS_FILE[type]], `the ${type} namespace must be the runtime's`);
    },
  }),
);

/** Starts a process holding fresh namespaces; returns the ns file path for the type. */
async function holder(ctx: CaseContext, type: string): Promise<string> {
  const unshare = ctx.host.unshare;
  if (!unshare) ctx.skip('unshare(1) is not installed');
  const args = [unshare, UNSHARE_FLAG[type]];
  if (type === 'pid') args.push('--fork');
  if (type === 'user') args.push('--map-root-user');
  args.push('sleep', '600');
  const h = ctx.spawnHelper(args);
  let nsPath = '';
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    if (!h.pid) continue;
    let pid = h.pid;
    if (type === 'pid') {
      // the namespace's first process is the forked child of unshare
      try {
        const kids = fs.readFileSync(`/proc/${h.pid}/task/${h.pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x);
        if (kids.length === 0) continue;
        pid = Number(kids[0]);
      } catch {
        continue;
      }
    }
    const p = `/proc/${pid}/ns/${NS_FILE[type]}`;
    try {
      const ino = nsInode(fs.readlinkSync(p));
      if (ino !== null && ino !== ctx.host.ns[NS_FILE[type]]) {
        ctx.nsLabels.set(ino, `joined-${type}`);
        nsPath = p;
        break;
      }
    } catch {
      /* not yet */
    }
  }
  if (!nsPath) ctx.fatal(`could not set up a ${type} namespace to join`);
  return nsPath;
}

const pathNsCases: CaseDef[] = ['network', 'ipc', 'uts', 'mount', 'cgroup', 'pid', 'user'].map(
  (type): CaseDef => ({
    id: `config-linux.namespaces.path.${type}`,
    section: S_NS,
    requirement: `A ${type} entry with a path puts the process in the namespace of that path.`,
    requires: nsRequires(type),
    async run(ctx: CaseContext) {
      const p = await holder(ctx, type);
      const want = nsInode(fs.readlinkSync(p));
      const cfg = ctx.baseConfig();
      setNamespace(cfg, type, p);
      if (type === 'user') {
        // the holder maps root to the runtime's root; the config states the same mapping
        cfg.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
        cfg.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
        // only gid 0 is mapped in that namespace: devpts cannot be given gid 5
        for (const m of cfg.mounts as Cfg[]) if (m.type === 'devpts') m.options = (m.options as string[]).filter((o) => o !== 'gid=5');
        cfg.mounts = cfg.mounts.filter((m: Cfg) => m.destination !== '/sys/fs/cgroup' && m.destination !== '/sys');
        cfg.linux.maskedPaths = cfg.linux.maskedPaths.filter((x: string) => !x.startsWith('/sys'));
      }
      const r = await ctx.probeReport(cfg);
      ctx.equal(nsOf(r, type), want, `the ${type} namespace must be the one at ${p}`);
    },
  }),
);

const nsErrorCases: CaseDef[] = [
  createFailsCase({
    id: 'config-linux.namespaces.path-wrong-type',
    section: S_NS,
    requirement: 'A namespace path that is not a namespace of the given type is an error.',
    mutate(cfg) {
      setNamespace(cfg, 'ipc', '/proc/self/ns/net');
    },
  }),
  createFailsCase({
    id: 'config-linux.namespaces.path-missing',
    section: S_NS,
    requirement: 'A namespace path that does not exist cannot be joined: create fails.',
    mutate(cfg, ctx) {
      setNamespace(cfg, 'network', ctx.path('no-such-netns'));
    },
  }),
  createFailsCase({
    id: 'config-linux.namespaces.duplicate',
    section: S_NS,
    requirement: 'Two namespace entries of the same type are an error.',
    mutate(cfg) {
      cfg.linux.namespaces.push({ type: 'ipc' });
    },
  }),
];

const mappingCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.uidMappings',
    section: S_MAP,
    requirement: 'With a user namespace, uid_map and gid_map of the process are the configured mappings.',
    mutate(cfg) {
      addUserNs(cfg);
      cfg.linux.uidMappings = [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 1000, hostID: 200000, size: 10 },
      ];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 300000, size: 2000 }];
    },
    expect(r, ctx) {
      ctx.equal(parseIdMap(r.uidMap), [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 1000, hostID: 200000, size: 10 },
      ], 'uid_map');
      ctx.equal(parseIdMap(r.gidMap), [{ containerID: 0, hostID: 300000, size: 2000 }], 'gid_map');
      ctx.equal(r.uid, 0, 'the process is uid 0 inside the namespace');
    },
  }),
  probeCase({
    id: 'config-linux.uidMappings.user-in-range',
    section: S_MAP,
    requirement: 'A process user inside the mapped range runs as that user in the container.',
    mutate(cfg) {
      addUserNs(cfg);
      cfg.process.user = { uid: 1000, gid: 1000 };
    },
    expect(r, ctx) {
      ctx.equal([r.uid, r.gid], [1000, 1000], 'uid/gid inside the user namespace');
    },
  }),
];

const timeCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.timeOffsets',
    section: S_TIME,
    since: '1.1.0',
    requirement: 'timeOffsets set the offsets of the container\'s time namespace for each named clock.',
    requires: timeSupported,
    mutate(cfg) {
      setNamespace(cfg, 'time');
      cfg.linux.timeOffsets = { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: 604800, nanosecs: 500 } };
    },
    expect(r, ctx) {
      const o = parseTimensOffsets(r.timensOffsets);
      ctx.equal(o.monotonic, { secs: 172800, nanosecs: 0 }, 'monotonic offset');
      ctx.equal(o.boottime, { secs: 604800, nanosecs: 500 }, 'boottime offset');
    },
  }),
];

const devCfg = { bounding: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE', 'CAP_CHOWN'], effective: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE', 'CAP_CHOWN'], permitted: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE', 'CAP_CHOWN'] };

const deviceCases: CaseDef[] = [
  ...(
    [
      ['char', { path: '/dev/conformance-c', type: 'c', major: 1, minor: 7, fileMode: 0o640, uid: 0, gid: 5 }],
      ['block', { path: '/dev/conformance-b', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 0 }],
      ['fifo', { path: '/dev/conformance-p', type: 'p', fileMode: 0o620, uid: 0, gid: 0 }],
      ['owner', { path: '/dev/conformance-o', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 1000, gid: 1001 }],
      ['outside-dev', { path: '/mnt/conformance-dev', type: 'c', major: 1, minor: 5, fileMode: 0o644, uid: 0, gid: 0 }],
    ] as const
  ).map(([name, dev]) =>
    probeCase({
      id: `config-linux.devices.${name}`,
      section: S_DEV,
      requirement: `A ${dev.type === 'p' ? 'fifo' : dev.type === 'b' ? 'block device' : 'character device'} listed in devices exists in the container at ${dev.path} with the configured numbers, mode and owner.`,
      mutate(cfg) {
        cfg.linux.devices = [dev];
      },
      args: ['--stat', dev.path],
      expect(r, ctx) {
        const c = checkOf(ctx, r, 'stat', dev.path);
        ctx.check(c.ok, `${dev.path} must exist`, { actual: c });
        ctx.equal(c.type, dev.type, 'type');
        if ('major' in dev) ctx.equal([c.major, c.minor], [dev.major, dev.minor], 'major:minor');
        ctx.equal(c.mode, dev.fileMode, 'file mode');
        ctx.equal([c.uid, c.gid], [dev.uid, dev.gid], 'owner');
      },
    }),
  ),
  createFailsCase({
    id: 'config-linux.devices.conflict',
    section: S_DEV,
    requirement: 'When a file that is not the requested device already exists at the device path, create fails.',
    mutate(cfg) {
      cfg.linux.devices = [{ path: '/etc/conflict', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    },
    prepare(b) {
      fs.writeFileSync(path.join(b.rootfs, 'etc', 'conflict'), 'a regular file\n');
    },
  }),
  ...(
    [
      ['null', '/dev/null', 1, 3],
      ['zero', '/dev/zero', 1, 5],
      ['full', '/dev/full', 1, 7],
      ['random', '/dev/random', 1, 8],
      ['urandom', '/dev/urandom', 1, 9],
      ['tty', '/dev/tty', 5, 0],
    ] as const
  ).map(([name, p, maj, min]) =>
    probeCase({
      id: `config-linux.devices.default.${name}`,
      section: S_DEFDEV,
      requirement: `${p} is supplied in every container (character device ${maj}:${min}) and can be opened.`,
      args: ['--stat', p, ...(name === 'tty' ? [] : ['--read', p])],
      expect(r, ctx) {
        const c = checkOf(ctx, r, 'stat', p);
        ctx.check(c.ok && c.type === 'c', `${p} must be a character device`, { actual: c });
        ctx.equal([c.major, c.minor], [maj, min], `${p} numbers`);
        if (name !== 'tty') ctx.check(checkOf(ctx, r, 'read', p).ok, `${p} must be readable`, { actual: checkOf(ctx, r, 'read', p) });
      },
    }),
  ),
  probeCase({
    id: 'config-linux.devices.default.ptmx',
    section: S_DEFDEV,
    requirement: '/dev/ptmx is supplied as a symlink to (or bind mount of) the container\'s /dev/pts/ptmx.',
    args: ['--stat', '/dev/ptmx'],
    expect(r, ctx) {
      const c = checkOf(ctx, r, 'stat', '/dev/ptmx');
      const okLink = c.type === 'l' && (c.target === 'pts/ptmx' || c.target === '/dev/pts/ptmx');
      const ms = parseMountinfo(r.mountinfo);
      const pts = ms.find((m) => m.mountPoint === '/dev/pts');
      const bind = ms.find((m) => m.mountPoint === '/dev/ptmx');
      const okBind = c.type === 'c' && !!bind && !!pts && bind.fstype === 'devpts' && bind.minor === pts.minor;
      ctx.check(okLink || okBind, '/dev/ptmx must lead to /dev/pts/ptmx', { actual: c });
    },
  }),
  probeCase({
    id: 'config-linux.devices.default.writable',
    section: S_DEFDEV,
    requirement: 'The default devices work: /dev/null and /dev/zero can be opened for writing.',
    args: ['--openw', '/dev/null', '--openw', '/dev/zero', '--openw', '/dev/full'],
    expect(r, ctx) {
      for (const p of ['/dev/null', '/dev/zero', '/dev/full']) ctx.check(checkOf(ctx, r, 'openw', p).ok, `${p} must open for writing`, { actual: checkOf(ctx, r, 'openw', p) });
    },
  }),
];

// device cgroup: 240:77 (a number reserved for local use, no driver behind it) is harmless to open and
// allowed by no runtime by default: denied -> EPERM (the cgroup check), allowed -> ENXIO/ENODEV (no driver)
const TUN = { path: '/dev/conformance-x', type: 'c', major: 240, minor: 77, fileMode: 0o666, uid: 0, gid: 0 };
const cgroupDeviceCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.resources.devices.denied',
    section: 'config-linux.md#configLinuxDeviceAllowedlist',
    requirement: 'A device not allowed by the device list cannot be opened even though its node exists.',
    mutate(cfg) {
      cfg.linux.devices = [TUN];
      cfg.linux.resources.devices = [{ allow: false, access: 'rwm' }];
    },
    args: ['--read', '/dev/conformance-x'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/dev/conformance-x').errno, 'EPERM', 'opening a denied device must fail with EPERM');
    },
  }),
  probeCase({
    id: 'config-linux.resources.devices.allowed',
    section: 'config-linux.md#configLinuxDeviceAllowedlist',
    requirement: 'A device allowed by the device list can be opened.',
    mutate(cfg) {
      cfg.linux.devices = [TUN];
      cfg.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 240, minor: 77, access: 'rwm' }];
    },
    args: ['--read', '/dev/conformance-x'],
    expect(r, ctx) {
      ctx.check(checkOf(ctx, r, 'read', '/dev/conformance-x').errno !== 'EPERM', 'an allowed device must not be refused with EPERM', { actual: checkOf(ctx, r, 'read', '/dev/conformance-x') });
    },
  }),
  probeCase({
    id: 'config-linux.resources.devices.order',
    section: 'config-linux.md#configLinuxDeviceAllowedlist',
    requirement: 'Device list entries apply in order: a deny after an allow of the same device wins.',
    mutate(cfg) {
      cfg.linux.devices = [TUN];
      cfg.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 240, minor: 77, access: 'rwm' }, { allow: false, type: 'c', major: 240, minor: 77, access: 'rwm' }];
    },
    args: ['--read', '/dev/conformance-x'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/dev/conformance-x').errno, 'EPERM', 'the later deny must win');
    },
  }),
];

// The allowlist a runtime sets up for the `runc spec` config (its only entry
// denies everything; the default devices must still work): read on the host
// in the container's devices cgroup, and enforced inside the container.
const S_ALLOW = 'config-linux.md#configLinuxDeviceAllowedlist';

interface ListRule {
  type: string;
  major: string;
  minor: string;
  access: string;
}

/** Parses devices.list ("c 1:3 rwm", "a *:* rwm"). */
function parseDevicesList(text: string): ListRule[] {
  const out: ListRule[] = [];
  for (const l of text.split('\n')) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(l.trim());
    if (m) out.push({ type: m[1], major: m[2], minor: m[3], access: m[4] });
  }
  return out;
}

/** Whether the rules grant every one of `access` on the device (a v1 list holds allowed entries only). */
function listAllows(rules: ListRule[], type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  return [...access].every((a) =>
    rules.some((r) => (r.type === 'a' || r.type === type) && (r.major === '*' || r.major === String(major)) && (r.minor === '*' || r.minor === String(minor)) && r.access.includes(a)),
  );
}

// default devices (config-linux.md#configLinuxDefaultDevices) and /dev/pts/ptmx behind /dev/ptmx
const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
  ['/dev/ptmx', 5, 2],
];
// character devices no runtime allows by default, each harmless to open the way the probe does
const UNLISTED_CHAR: { name: string; major: number; minor: number; access: 'r' | 'w' }[] = [
  { name: 'loop-control', major: 10, minor: 237, access: 'r' },
  { name: 'kmsg', major: 1, minor: 11, access: 'w' },
];

/** Block devices of this host (/sys/block), the host's disk first. */
function hostBlockDevices(ctx: CaseContext): { name: string; major: number; minor: number }[] {
  const out: { name: string; major: number; minor: number }[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync('/sys/block').sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^(\d+):(\d+)$/.exec(fs.readFileSync(`/sys/block/${n}/dev`, 'utf8').trim());
    if (m) out.push({ name: n, major: Number(m[1]), minor: Number(m[2]) });
  }
  const disk = ctx.host.blockDevice;
  return out.sort((a, b) => Number(!!disk && b.major === disk.major && b.minor === disk.minor) - Number(!!disk && a.major === disk.major && a.minor === disk.minor));
}

/**
 * The same mknod and open as the container's, done by the suite on the host
 * (in this case's directory): a device the host itself cannot open (some
 * hosts refuse their own disk with EPERM) proves nothing inside.
 */
function hostControl(ctx: CaseContext, specs: string[]): Map<string, ProbeCheck> {
  const args = specs.map((x, i) => ['--mknod', `${x}:${ctx.path(`host-node-${i}`)}`]).flat();
  const r = spawnSync(ctx.env.art.probe, args, { encoding: 'utf8', timeout: 10000 });
  const rep = extractProbeReport(r.stdout ?? '').report;
  const out = new Map<string, ProbeCheck>();
  if (rep) rep.checks.forEach((c, i) => out.set(specs[i], c));
  return out;
}

function deviceAllowlistCaps(cfg: Cfg): void {
  for (const set of ['bounding', 'effective', 'permitted'] as const) {
    const list: string[] = cfg.process.capabilities[set];
    if (!list.includes('CAP_MKNOD')) list.push('CAP_MKNOD');
  }
}

const defaultAllowlistCases: CaseDef[] = [
  {
    id: 'config-linux.resources.devices.default-list',
    section: S_ALLOW,
    requirement:
      'With the `runc spec` allowlist (one entry denying everything) the container\'s devices cgroup allows the default devices for reading and writing and nothing else: devices.list on the host neither allows all devices nor any device outside the defaults (loop-control, kmsg, the host\'s disk).',
    requires: (ctx) => (v1Mount(ctx.host, 'devices') ? null : 'the devices controller is not mounted as cgroup v1 on this host (cgroup v2 has no devices.list)'),
    async run(ctx: CaseContext) {
      const { pid } = await createOnly(ctx, ctx.baseConfig());
      const dir = containerCgroupDir(ctx, pid, 'devices');
      const text = readTrim(path.join(dir, 'devices.list'));
      if (text === null) ctx.fatal(`no devices.list in the container's devices cgroup ${dir}`);
      const lines = text.split('\n').filter((x) => x);
      ctx.observe('devices.list', lines);
      const rules = parseDevicesList(text);
      ctx.equal(lines.length, rules.length, 'every devices.list line must parse');
      ctx.check(!rules.some((r) => r.major === '*' && r.minor === '*' && /[rw]/.test(r.access)), 'no entry may allow reading or writing every device (of a type)', { actual: lines });
      for (const [p, maj, min] of DEFAULT_DEVICES) ctx.check(listAllows(rules, 'c', maj, min, 'rw'), `${p} (c ${maj}:${min}) must be allowed for reading and writing`, { actual: lines });
      for (const d of UNLISTED_CHAR) ctx.check(!listAllows(rules, 'c', d.major, d.minor, 'r') && !listAllows(rules, 'c', d.major, d.minor, 'w'), `${d.name} (c ${d.major}:${d.minor}) must not be allowed`, { actual: lines });
      for (const b of hostBlockDevices(ctx)) ctx.check(!listAllows(rules, 'b', b.major, b.minor, 'r') && !listAllows(rules, 'b', b.major, b.minor, 'w'), `block device ${b.name} (b ${b.major}:${b.minor}) must not be allowed`, { actual: lines });
    },
  },
  {
    id: 'config-linux.resources.devices.default-enforced',
    section: S_ALLOW,
    requirement:
      'With the `runc spec` allowlist a device outside the defaults cannot be used even by a process that may make device nodes: opening a node made for loop-control, kmsg or a block device of the host fails with EPERM, while nodes made for /dev/null and /dev/zero open.',
    requires: (ctx) => (ctx.host.cgroupMode === 'none' ? 'no cgroups on this host' : ctx.host.caps.includes('CAP_MKNOD') ? null : 'the suite runs without CAP_MKNOD on this host'),
    async run(ctx: CaseContext) {
      const blocks = hostBlockDevices(ctx);
      const denied = [
        ...UNLISTED_CHAR.map((d) => ({ what: `${d.name} (c ${d.major}:${d.minor})`, spec: `c:${d.major}:${d.minor}:${d.access}` })),
        ...blocks.map((b) => ({ what: `block device ${b.name} (b ${b.major}:${b.minor})`, spec: `b:${b.major}:${b.minor}:r` })),
      ];
      const allowed = [
        { what: '/dev/null (c 1:3)', spec: 'c:1:3:r' },
        { what: '/dev/zero (c 1:5)', spec: 'c:1:5:w' },
      ];
      const ctl = hostControl(ctx, [...denied, ...allowed].map((d) => d.spec));
      const openOnHost = (spec: string) => ctl.get(spec)?.ok === true;
      const chars = denied.filter((d) => d.spec.startsWith('c:') && openOnHost(d.spec));
      const block = denied.find((d) => d.spec.startsWith('b:') && openOnHost(d.spec));
      for (const d of denied.filter((x) => !openOnHost(x.spec))) ctx.note(`${d.what} left out: the host itself cannot open it (${ctl.get(d.spec)?.errno ?? 'no control result'})`);
      if (!allowed.every((d) => openOnHost(d.spec))) ctx.skip(`device nodes made by the suite cannot be opened on this host: ${JSON.stringify(allowed.map((d) => ctl.get(d.spec)))}`);
      const tried = [...chars, ...(block ? [block] : [])];
      if (tried.length === 0) ctx.skip('no device outside the defaults can be opened on this host, so none shows the allowlist at work');
      if (!block) ctx.note('no block device of this host can be opened by the host itself: only character devices are tried');
      const cfg = ctx.baseConfig();
      deviceAllowlistCaps(cfg);
      const nodes = [...tried, ...allowed].map((d, i) => ({ ...d, path: `/dev/conformance-mknod-${i}` }));
      const r = await ctx.probeReport(cfg, [...nodes.map((d) => ['--mknod', `${d.spec}:${d.path}`]).flat(), '--read', '/dev/null', '--openw', '/dev/null']);
      for (const d of nodes) {
        const c = checkOf(ctx, r, 'mknod', d.path);
        if (allowed.some((a) => a.spec === d.spec)) ctx.check(c.ok, `a node made for ${d.what} must open`, { actual: c });
        else ctx.equal(c.errno, 'EPERM', `${d.what} is not in the allowlist: making or opening a node for it must fail with EPERM`);
      }
      ctx.check(checkOf(ctx, r, 'read', '/dev/null').ok && checkOf(ctx, r, 'openw', '/dev/null').ok, '/dev/null must open for reading and writing');
    },
  },
];

const sysctlCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.sysctl.net',
    section: S_SYSCTL,
    requirement: 'A network sysctl is set inside the container\'s network namespace (and not on the host).',
    mutate(cfg) {
      cfg.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'net.ipv4.tcp_syncookies': '0' };
    },
    args: ['--sysctl', 'net.ipv4.ip_forward', '--sysctl', 'net.ipv4.tcp_syncookies'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'sysctl', 'net.ipv4.ip_forward').value, '1', 'net.ipv4.ip_forward');
      ctx.equal(checkOf(ctx, r, 'sysctl', 'net.ipv4.tcp_syncookies').value, '0', 'net.ipv4.tcp_syncookies');
    },
  }),
  probeCase({
    id: 'config-linux.sysctl.ipc',
    section: S_SYSCTL,
    requirement: 'An IPC sysctl is set inside the container\'s IPC namespace.',
    mutate(cfg) {
      cfg.linux.sysctl = { 'kernel.msgmax': '4096', 'kernel.shmmni': '1000' };
    },
    args: ['--sysctl', 'kernel.msgmax', '--sysctl', 'kernel.shmmni'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'sysctl', 'kernel.msgmax').value, '4096', 'kernel.msgmax');
      ctx.equal(checkOf(ctx, r, 'sysctl', 'kernel.shmmni').value, '1000', 'kernel.shmmni');
    },
  }),
  createFailsCase({
    id: 'config-linux.sysctl.unknown',
    section: S_SYSCTL,
    requirement: 'A sysctl that does not exist cannot be applied: create fails.',
    mutate(cfg) {
      cfg.linux.sysctl = { 'net.ipv4.conformance_no_such_key': '1' };
    },
  }),
];

const maskCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.maskedPaths.proc-file',
    section: S_MASK,
    requirement: 'A masked file under /proc cannot be read: reading gives nothing or an error.',
    mutate(cfg) {
      cfg.linux.maskedPaths = ['/proc/kcore', '/proc/keys'];
    },
    args: ['--read', '/proc/keys'],
    expect(r, ctx) {
      const c = checkOf(ctx, r, 'read', '/proc/keys');
      ctx.check(!c.ok || c.bytes === 0, '/proc/keys must not be readable', { actual: c });
    },
  }),
  probeCase({
    id: 'config-linux.maskedPaths.dir',
    section: S_MASK,
    requirement: 'A masked directory shows no content.',
    mutate(cfg) {
      cfg.linux.maskedPaths = ['/proc/sys/kernel', '/etc'];
    },
    args: ['--read', '/proc/sys/kernel', '--read', '/etc'],
    expect(r, ctx) {
      for (const p of ['/proc/sys/kernel', '/etc']) {
        const c = checkOf(ctx, r, 'read', p);
        ctx.check(!c.ok || c.count === 0, `${p} must show no entries`, { actual: c });
      }
    },
  }),
  probeCase({
    id: 'config-linux.maskedPaths.rootfs-file',
    section: S_MASK,
    requirement: 'A masked regular file of the rootfs cannot be read.',
    mutate(cfg) {
      cfg.linux.maskedPaths = ['/etc/hostname'];
    },
    args: ['--read', '/etc/hostname'],
    expect(r, ctx) {
      const c = checkOf(ctx, r, 'read', '/etc/hostname');
      ctx.check(!c.ok || c.bytes === 0, '/etc/hostname must not be readable', { actual: c });
    },
  }),
  probeCase({
    id: 'config-linux.readonlyPaths.proc-sys',
    section: S_RO,
    requirement: 'A read-only path cannot be opened for writing (EROFS) but can still be read.',
    mutate(cfg) {
      cfg.linux.readonlyPaths = ['/proc/sys'];
    },
    args: ['--openw', '/proc/sys/kernel/domainname', '--read', '/proc/sys/kernel/ostype'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'openw', '/proc/sys/kernel/domainname').errno, 'EROFS', 'writing must fail with EROFS');
      ctx.check(checkOf(ctx, r, 'read', '/proc/sys/kernel/ostype').ok, 'reading must still work');
    },
  }),
  probeCase({
    id: 'config-linux.readonlyPaths.rootfs-dir',
    section: S_RO,
    requirement: 'A read-only directory of the rootfs rejects writes (EROFS) while the rest of the rootfs stays writable.',
    mutate(cfg) {
      cfg.linux.readonlyPaths = ['/home'];
    },
    args: ['--write', '/home/file', '--write', '/root/file', '--read', '/home'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'write', '/home/file').errno, 'EROFS', 'writing under /home must fail with EROFS');
      ctx.check(checkOf(ctx, r, 'write', '/root/file').ok, 'writing elsewhere must work');
      ctx.check(checkOf(ctx, r, 'read', '/home').ok, 'reading /home must work');
    },
  }),
];

function hostRootShared(): boolean {
  const ms = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'));
  const root = ms.filter((m) => m.mountPoint === '/').pop();
  return !!root && propagationOf(root).shared;
}

const propagation: CaseDef[] = (['shared', 'slave', 'private', 'unbindable'] as const).map((kind) =>
  probeCase({
    id: `config-linux.rootfsPropagation.${kind}`,
    section: S_PROP,
    requirement: `rootfsPropagation "${kind}" gives the container's root mount ${kind} propagation.`,
    mutate(cfg) {
      cfg.linux.rootfsPropagation = kind;
    },
    expect(r, ctx) {
      const p = propagationOf(mountOf(ctx, r, '/'));
      const opt = mountOf(ctx, r, '/').optional;
      if (kind === 'shared') ctx.check(p.shared, '/ must be shared (shared:N)', { actual: opt });
      if (kind === 'slave') {
        ctx.check(!p.shared, '/ must not be shared', { actual: opt });
        if (hostRootShared()) ctx.check(p.slave, '/ must be a slave of the host mount (master:N)', { actual: opt });
      }
      if (kind === 'private') ctx.check(!p.shared && !p.slave && !p.unbindable, '/ must be private (no propagation fields)', { actual: opt });
      if (kind === 'unbindable') ctx.check(p.unbindable, '/ must be unbindable', { actual: opt });
    },
  }),
);

function seccompCfg(cfg: Cfg, rules: Cfg[], extra: Cfg = {}): void {
  cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: rules, ...extra };
}

const seccompCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.seccomp.errno-default',
    section: S_SECCOMP,
    requirement: 'A syscall with action SCMP_ACT_ERRNO fails with EPERM (the default errno) and the filter is active (Seccomp mode 2).',
    mutate: (cfg) => seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' }]),
    args: ['--syscall', 'personality-query', '--syscall', 'getppid'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'personality-query').errno, 'EPERM', 'personality must fail with EPERM');
      ctx.check(checkOf(ctx, r, 'syscall', 'getppid').ok, 'other syscalls must work');
      ctx.equal(r.seccomp, 2, 'Seccomp mode must be 2 (filter)');
    },
  }),
  probeCase({
    id: 'config-linux.seccomp.errnoRet',
    section: S_SECCOMP,
    requirement: 'errnoRet sets the errno returned by an SCMP_ACT_ERRNO rule.',
    mutate: (cfg) => seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]),
    args: ['--syscall', 'personality-query'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'personality-query').errno, 'EACCES', 'personality must fail with errno 13 (EACCES)');
    },
  }),
  probeCase({
    id: 'config-linux.seccomp.args',
    section: S_SECCOMP,
    requirement: 'Argument conditions narrow a rule: socket(AF_INET) is refused while socket(AF_UNIX) is allowed.',
    mutate: (cfg) => seccompCfg(cfg, [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] }]),
    args: ['--syscall', 'socket-inet', '--syscall', 'socket-unix'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'socket-inet').errno, 'EPERM', 'socket(AF_INET) must fail');
      ctx.check(checkOf(ctx, r, 'syscall', 'socket-unix').ok, 'socket(AF_UNIX) must work');
    },
  }),
  ...(['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS'] as const).map(
    (action): CaseDef => ({
      id: `config-linux.seccomp.${action === 'SCMP_ACT_KILL' ? 'kill' : 'kill-process'}`,
      section: S_SECCOMP,
      requirement: `A syscall with action ${action} kills the process when it is made.`,
      async run(ctx: CaseContext) {
        const cfg = ctx.baseConfig();
        seccompCfg(cfg, [{ names: ['chmod'], action }]);
        const run = await ctx.probe(cfg, ['--last-syscall', 'chmod']);
        if (!run.report) ctx.fatal(`no probe report: ${run.extract.error}`);
        ctx.observe('probe', run.report);
        ctx.check(run.extract.after === undefined, 'the process must be killed by the chmod syscall, but it survived', { actual: run.extract.after });
      },
    }),
  ),
  probeCase({
    id: 'config-linux.seccomp.no-new-privs-false',
    section: S_SECCOMP,
    requirement: 'The filter is installed also when noNewPrivileges is false.',
    mutate(cfg) {
      cfg.process.noNewPrivileges = false;
      seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' }]);
    },
    args: ['--syscall', 'personality-query'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'personality-query').errno, 'EPERM', 'personality must fail');
      ctx.equal(r.noNewPrivsPrctl, 0, 'no_new_privs must stay unset');
    },
  }),
  probeCase({
    id: 'config-linux.seccomp.non-root',
    section: S_SECCOMP,
    requirement: 'The filter is installed for a non-root process user too.',
    mutate(cfg) {
      cfg.process.user = { uid: 1000, gid: 1000 };
      cfg.process.noNewPrivileges = false;
      seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' }]);
    },
    args: ['--syscall', 'personality-query'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'personality-query').errno, 'EPERM', 'personality must fail');
    },
  }),
  {
    id: 'config-linux.seccomp.notify',
    section: S_SECCOMP,
    requirement:
      'With an SCMP_ACT_NOTIFY rule the runtime connects to listenerPath and sends one container process state (ociVersion, fds ["seccompFd"], pid, listenerMetadata as metadata, the state with status creating) with the listener fd; the agent then answers the notified syscall.',
    async run(ctx: CaseContext) {
      const sock = ctx.socketPath();
      const log = ctx.path('agent.log');
      // EXDEV (18): personality never fails so by itself.
      const agent = ctx.spawnHelper([ctx.env.art.seccompAgent, sock, '18', log], { stderrFile: ctx.path('agent.err') });
      for (let i = 0; i < 200 && !fs.existsSync(sock) && agent.exitCode === null; i++) await sleep(10);
      if (!fs.existsSync(sock)) ctx.fatal('the seccomp agent did not start');
      const cfg = ctx.baseConfig();
      seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: sock, listenerMetadata: 'conformance' });
      const run = await ctx.probe(cfg, ['--syscall', 'personality-query', '--syscall', 'getppid']);
      const r = run.report;
      if (!r) return ctx.fatal(`no probe report: ${run.extract.error}`);
      ctx.equal(checkOf(ctx, r, 'syscall', 'personality-query').errno, 'EXDEV', "personality must fail with the agent's errno (EXDEV)");
      ctx.check(checkOf(ctx, r, 'syscall', 'getppid').ok, 'other syscalls must work');
      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      ctx.equal(lines.length, 1, 'exactly one container process state');
      // The agent writes the number of fds a state came with, then the state.
      const line = lines[0] ?? '';
      ctx.equal(Number(line.slice(0, line.indexOf(' '))), 1, 'one fd, the listener, with the state');
      let m: Cfg = {};
      try {
        m = JSON.parse(line.slice(line.indexOf(' ') + 1) || '{}');
      } catch {
        return ctx.fatal('the container process state is not JSON', { actual: line });
      }
      // What runtimes have in common (their versions and pids differ).
      ctx.observe('agent.state', { fds: m.fds, metadata: m.metadata, status: m.state?.status, samePid: m.pid === m.state?.pid });
      ctx.equal(m.fds, ['seccompFd'], 'fds');
      ctx.equal(m.metadata, 'conformance', 'metadata is listenerMetadata');
      ctx.check(typeof m.ociVersion === 'string' && m.ociVersion.length > 0, 'ociVersion is set', { actual: m.ociVersion });
      ctx.equal(m.state?.id, run.id, 'state.id');
      ctx.equal(m.state?.status, 'creating', 'state.status');
      ctx.check(Number.isInteger(m.pid) && m.pid > 0, 'pid is the container process', { actual: m.pid });
      ctx.equal(m.pid, m.state?.pid, "for the container's process, pid and state.pid are the same");
    },
  },
  createFailsCase({
    id: 'config-linux.seccomp.notify-unreachable',
    section: S_SECCOMP,
    requirement: 'If sending the container process state to listenerPath fails, the runtime generates an error: create fails.',
    mutate(cfg, ctx) {
      seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: ctx.path('nobody-listens.sock') });
    },
  }),
  probeCase({
    id: 'config-linux.seccomp.absent',
    section: S_SECCOMP,
    requirement: 'Without seccomp in the config no filter is installed.',
    mutate(cfg) {
      delete cfg.linux.seccomp;
    },
    expect(r, ctx) {
      ctx.equal(r.seccomp, 0, 'Seccomp mode must be 0');
    },
  }),
  createFailsCase({
    id: 'config-linux.seccomp.invalid-action',
    section: S_SECCOMP,
    requirement: 'An action that is not a valid seccomp action is an error.',
    mutate: (cfg) => seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_CONFORMANCE' }]),
  }),
  createFailsCase({
    id: 'config-linux.seccomp.errno-on-kill',
    section: S_SECCOMP,
    requirement: 'errnoRet on an action that cannot return an errno (SCMP_ACT_KILL) is an error.',
    mutate: (cfg) => seccompCfg(cfg, [{ names: ['chmod'], action: 'SCMP_ACT_KILL', errnoRet: 1 }]),
  }),
  createFailsCase({
    id: 'config-linux.seccomp.invalid-arch',
    section: S_SECCOMP,
    requirement: 'An architecture name that is not valid is an error.',
    mutate: (cfg) => {
      seccompCfg(cfg, [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' }]);
      cfg.linux.seccomp.architectures = ['SCMP_ARCH_CONFORMANCE'];
    },
  }),
];

const personalityCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.personality.linux32',
    section: S_PERS,
    requirement: 'personality LINUX32 makes uname report a 32-bit machine.',
    requires: () => (process.arch === 'x64' || process.arch === 'arm64' ? null : 'LINUX32 is only checked on 64-bit hosts'),
    mutate(cfg) {
      cfg.linux.personality = { domain: 'LINUX32' };
    },
    expect(r, ctx) {
      ctx.check(/^(i[3-6]86|armv[78]l|arm)$/.test(r.machine), `uname machine must be 32-bit (got ${r.machine})`);
      ctx.equal(r.personality & 0xff, 0x0008, 'personality must be PER_LINUX32');
    },
  }),
  probeCase({
    id: 'config-linux.personality.linux',
    section: S_PERS,
    requirement: 'personality LINUX keeps the native execution domain.',
    mutate(cfg) {
      cfg.linux.personality = { domain: 'LINUX' };
    },
    expect(r, ctx) {
      ctx.equal(r.personality & 0xff, 0, 'personality must be PER_LINUX');
    },
  }),
  createFailsCase({
    id: 'config-linux.personality.invalid',
    section: S_PERS,
    requirement: 'An execution domain that is not valid is an error.',
    mutate(cfg) {
      cfg.linux.personality = { domain: 'CONFORMANCE' };
    },
  }),
];

const S_MEMPOL = 'config-linux.md#configLinuxMemoryPolicy';

const memoryPolicyCases: CaseDef[] = [
  probeCase({
    id: 'config-linux.memoryPolicy.bind',
    section: S_MEMPOL,
    requirement: 'The memory policy is set for the container (set_mempolicy(2)): with MPOL_BIND on node 0, get_mempolicy(2) in the container returns MPOL_BIND (2) and node 0.',
    mutate(cfg) {
      cfg.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    },
    expect(r, ctx) {
      ctx.equal(r.memPolicy.mode, 2, 'the mode must be MPOL_BIND (2)');
      ctx.equal(r.memPolicy.nodes, '1', 'the nodes must be node 0 alone');
    },
  }),
  probeCase({
    id: 'config-linux.memoryPolicy.unset',
    section: S_MEMPOL,
    requirement: 'Without memoryPolicy the process keeps the default policy (MPOL_DEFAULT, 0).',
    expect(r, ctx) {
      ctx.equal(r.memPolicy.mode, 0, 'the mode must be MPOL_DEFAULT (0)');
    },
  }),
  createFailsCase({
    id: 'config-linux.memoryPolicy.no-nodes',
    section: S_MEMPOL,
    requirement: 'MPOL_BIND needs at least one node (set_mempolicy(2): EINVAL for an empty nodemask): create fails.',
    mutate(cfg) {
      cfg.linux.memoryPolicy = { mode: 'MPOL_BIND' };
    },
  }),
];

const S_NETDEV = 'config-linux.md#configLinuxNetworkDevices';

/** A new ifb interface on the host (deleted when the case ends), or a skip. */
function hostInterface(ctx: CaseContext): string {
  const name = `tscf${process.pid.toString(36).slice(-3)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const made = spawnSync('ip', ['link', 'add', name, 'type', 'ifb'], { encoding: 'utf8' });
  if (made.error || made.status !== 0) ctx.skip(`cannot make an ifb interface here: ${made.error?.message ?? made.stderr.trim()}`);
  ctx.onCleanup(() => spawnSync('ip', ['link', 'del', name]));
  return name;
}

const netDeviceCases: CaseDef[] = [
  {
    id: 'config-linux.netDevices.move',
    section: S_NETDEV,
    requirement: 'A host network device listed in netDevices is made available in the container under the given name, and its state is set up.',
    async run(ctx: CaseContext) {
      const dev = hostInterface(ctx);
      const cfg = ctx.baseConfig();
      cfg.linux.netDevices = { [dev]: { name: 'cnf0' } };
      const run = await ctx.probe(cfg, ['--read', '/sys/class/net/cnf0/flags', '--read', `/sys/class/net/${dev}/flags`]);
      const r = run.report;
      if (!r) return ctx.fatal(`no probe report: ${run.extract.error}`);
      const flags = checkOf(ctx, r, 'read', '/sys/class/net/cnf0/flags');
      ctx.check(flags.ok === true, 'the device must be in the container as cnf0', { actual: flags });
      ctx.check((Number(flags.content ?? 0) & 1) === 1, 'cnf0 must be up (IFF_UP)', { actual: flags.content });
      ctx.equal(checkOf(ctx, r, 'read', `/sys/class/net/${dev}/flags`).errno, 'ENOENT', 'the host name must not be used in the container');
    },
  },
  createFailsCase({
    id: 'config-linux.netDevices.missing',
    section: S_NETDEV,
    requirement: 'The runtime checks that the device can be moved: a device the host does not have is an error, and create fails.',
    mutate(cfg) {
      cfg.linux.netDevices = { 'tscf-none': {} };
    },
  }),
];

const S_RDT = 'config-linux.md#configLinuxIntelRdt';
const resctrlMounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' - ')[1]?.startsWith('resctrl '));

const intelRdtCases: CaseDef[] = [
  createFailsCase({
    id: 'config-linux.intelRdt.no-resctrl',
    section: S_RDT,
    requirement: 'If intelRdt is set and no resctrl filesystem is mounted in the runtime mount namespace, the runtime generates an error: create fails.',
    mutate(cfg, ctx) {
      if (resctrlMounted()) ctx.skip('this host has a resctrl filesystem mounted');
      cfg.linux.intelRdt = { closID: 'conformance' };
    },
  }),
];

export const linuxCases: CaseDef[] = [
  ...newNsCases,
  ...inheritNsCases,
  ...pathNsCases,
  ...nsErrorCases,
  ...mappingCases,
  ...timeCases,
  ...deviceCases,
  ...cgroupDeviceCases,
  ...defaultAllowlistCases,
  ...sysctlCases,
  ...maskCases,
  ...propagation,
  ...seccompCases,
  ...personalityCases,
  ...memoryPolicyCases,
  ...netDeviceCases,
  ...intelRdtCases,
];


