// config.md: ociVersion, root, mounts, process, hostname, domainname,
// annotations and extensibility.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CaseDef } from '../lib/case';
import { CaseContext } from '../lib/context';
import { capsFromHex, extractProbeReport, parseMountinfo, propagationOf, rlimitValue, RLIM_INFINITY } from '../lib/probe';
import { describe, ok } from '../lib/runtime';
import { Cfg, sleep } from '../lib/util';
import { checkOf, createFailsCase, createOnly, mountOf, probeCase, requireCap } from './helpers';

const S_VER = 'config.md#configSpecificationVersion';
const S_ROOT = 'config.md#configRoot';
const S_MOUNTS = 'config.md#configMounts';
const S_MOPTS = 'config.md#configLinuxMountOptions';
const S_PROC = 'config.md#configProcess';
const S_PPROC = 'config.md#configPOSIXProcess';
const S_LPROC = 'config.md#configLinuxProcess';
const S_USER = 'config.md#configPOSIXUser';

/** A tmpfs mount at dest with the given options. */
function tmpfsAt(dest: string, options: string[]): Cfg {
  return { destination: dest, type: 'tmpfs', source: 'tmpfs', options };
}

/** Makes a host directory that is its own (tmpfs) mount, shared, with a submount `sub`. */
function sharedSource(ctx: CaseContext, name: string): string {
  const src = ctx.path(name);
  fs.mkdirSync(src, { recursive: true });
  const run = (args: string[]) => {
    const r = spawnSync('mount', args, { encoding: 'utf8' });
    if (r.status !== 0) ctx.fatal(`host setup: mount ${args.join(' ')} failed: ${r.stderr}`);
  };
  run(['-t', 'tmpfs', '-o', 'size=1m', 'conformance-src', src]);
  run(['--make-shared', src]);
  fs.mkdirSync(path.join(src, 'sub'));
  fs.writeFileSync(path.join(src, 'file'), 'top\n');
  run(['-t', 'tmpfs', '-o', 'size=1m', 'conformance-sub', path.join(src, 'sub')]);
  fs.writeFileSync(path.join(src, 'sub', 'file'), 'sub\n');
  return src;
}

/** Host dir with a file, plain (not a mount point). */
function plainSource(ctx: CaseContext, name: string): string {
  const src = ctx.path(name);
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'file'), `content of ${name}\n`);
  return src;
}

interface OptCase {
  opt: string;
  /** per-mount option expected present / absent in mountinfo */
  present?: string[];
  absent?: string[];
  /** superblock options expected present / absent */
  superPresent?: string[];
  superAbsent?: string[];
  /** combine with these options */
  with?: string[];
  level?: 'MUST' | 'SHOULD';
  note: string;
}

// Options of the Linux mount options table whose effect shows in mountinfo.
const OPTION_CASES: OptCase[] = [
  { opt: 'ro', present: ['ro'], note: 'the mount is read-only' },
  { opt: 'rw', present: ['rw'], with: [], note: 'the mount is writable' },
  { opt: 'nosuid', present: ['nosuid'], note: 'set-user-id bits are ignored on the mount' },
  { opt: 'suid', absent: ['nosuid'], with: ['nosuid'], note: 'a later suid clears an earlier nosuid' },
  { opt: 'nodev', present: ['nodev'], note: 'device files cannot be used through the mount' },
  { opt: 'dev', absent: ['nodev'], with: ['nodev'], note: 'a later dev clears an earlier nodev' },
  { opt: 'noexec', present: ['noexec'], note: 'programs cannot be executed from the mount' },
  { opt: 'exec', absent: ['noexec'], with: ['noexec'], note: 'a later exec clears an earlier noexec' },
  { opt: 'noatime', present: ['noatime'], note: 'access times are not updated' },
  { opt: 'atime', absent: ['noatime'], with: ['noatime'], note: 'a later atime clears an earlier noatime' },
  { opt: 'strictatime', absent: ['relatime', 'noatime'], note: 'access times are always updated' },
  { opt: 'nostrictatime', present: ['relatime'], with: ['strictatime'], note: 'strictatime is cleared (the kernel default relatime applies)' },
  { opt: 'nodiratime', present: ['nodiratime'], note: 'directory access times are not updated' },
  { opt: 'diratime', absent: ['nodiratime'], with: ['nodiratime'], note: 'a later diratime clears an earlier nodiratime' },
  { opt: 'sync', superPresent: ['sync'], note: 'writes are synchronous' },
  { opt: 'async', superAbsent: ['sync'], with: ['sync'], note: 'a later async clears an earlier sync' },
  { opt: 'dirsync', superPresent: ['dirsync'], note: 'directory updates are synchronous' },
  { opt: 'lazytime', superPresent: ['lazytime'], note: 'timestamps are kept in memory' },
  { opt: 'nolazytime', superAbsent: ['lazytime'], with: ['lazytime'], note: 'a later nolazytime clears lazytime' },
  { opt: 'defaults', present: ['rw'], absent: ['nosuid', 'nodev', 'noexec', 'ro'], note: 'the defaults: rw, suid, dev, exec, async' },
  { opt: 'nosymfollow', present: ['nosymfollow'], level: 'SHOULD', note: 'symbolic links are not followed on the mount' },
];

const optionCases: CaseDef[] = OPTION_CASES.map((oc) =>
  probeCase({
    id: `config.mounts.option.${oc.opt}`,
    section: S_MOPTS,
    requirement: `The mount option "${oc.opt}" is implemented: ${oc.note}.`,
    requires: (ctx) =>
      oc.level === 'SHOULD' && !(ctx.features?.mountOptions ?? []).includes(oc.opt)
        ? `"${oc.opt}" is a SHOULD option that the runtime's features document does not claim`
        : null,
    mutate(cfg) {
      cfg.mounts.push(tmpfsAt('/mnt/opt', [...(oc.with ?? []), oc.opt, 'size=1m']));
    },
    expect(r, ctx) {
      const m = mountOf(ctx, r, '/mnt/opt');
      ctx.equal(m.fstype, 'tmpfs', 'the mount must be a tmpfs');
      for (const o of oc.present ?? []) ctx.check(m.options.includes(o), `mount options must include ${o}`, { actual: m.options });
      for (const o of oc.absent ?? []) ctx.check(!m.options.includes(o), `mount options must not include ${o}`, { actual: m.options });
      for (const o of oc.superPresent ?? []) ctx.check(m.superOptions.includes(o), `superblock options must include ${o}`, { actual: m.superOptions });
      for (const o of oc.superAbsent ?? []) ctx.check(!m.superOptions.includes(o), `superblock options must not include ${o}`, { actual: m.superOptions });
    },
  }),
);

// Behaviour behind the flags, not just the flags.
const optionEffectCases: CaseDef[] = [
  probeCase({
    id: 'config.mounts.option.ro-write-fails',
    section: S_MOPTS,
    requirement: 'On a mount with "ro", creating a file fails with EROFS.',
    mutate: (cfg) => cfg.mounts.push(tmpfsAt('/mnt/ro', ['ro', 'size=1m'])),
    args: ['--write', '/mnt/ro/file'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'write', '/mnt/ro/file').errno, 'EROFS', 'writing on a ro mount must fail with EROFS');
    },
  }),
  probeCase({
    id: 'config.mounts.option.noexec-exec-fails',
    section: S_MOPTS,
    requirement: 'A program on a bind mount with "noexec" cannot be executed (EACCES), while the same program elsewhere can.',
    mutate(cfg, ctx) {
      const src = ctx.path('execsrc');
      fs.mkdirSync(src);
      fs.copyFileSync(ctx.env.art.probe, path.join(src, 'probe'));
      fs.chmodSync(path.join(src, 'probe'), 0o755);
      cfg.mounts.push({ destination: '/mnt/noexec', type: 'bind', source: src, options: ['bind', 'noexec'] });
    },
    args: ['--exec', '/mnt/noexec/probe', '--exec', '/probe'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'exec', '/mnt/noexec/probe').errno, 'EACCES', 'exec from a noexec mount must fail with EACCES');
      ctx.check(checkOf(ctx, r, 'exec', '/probe').ok, 'exec from the root must work');
    },
  }),
  probeCase({
    id: 'config.mounts.option.tmpcopyup',
    section: S_MOPTS,
    requirement: 'With "tmpcopyup" (MAY: copy up the contents to a tmpfs), the tmpfs starts with what was at its destination in the rootfs.',
    mutate: (cfg) => cfg.mounts.push(tmpfsAt('/mnt/copy', ['tmpcopyup', 'size=1m'])),
    opts: {
      prepare(b) {
        fs.mkdirSync(path.join(b.rootfs, 'mnt', 'copy'), { recursive: true });
        fs.writeFileSync(path.join(b.rootfs, 'mnt', 'copy', 'file'), 'from the rootfs\n');
      },
    },
    args: ['--read', '/mnt/copy/file'],
    expect(r, ctx) {
      ctx.equal(mountOf(ctx, r, '/mnt/copy').fstype, 'tmpfs', 'a tmpfs must be mounted at /mnt/copy');
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/copy/file').content, 'from the rootfs\n', "the rootfs's file must be in the tmpfs");
    },
  }),
  // config.md "Mounts": uidMappings/gidMappings and the idmap option. A
  // file the host's root owns, seen through the idmapped mount.
  ...(
    [
      ['mount-mappings', 'The mount\'s uidMappings and gidMappings are applied to it: a file owned by 0:0 on disk is seen as the mapped ids (1000:2000).', false, [1000, 2000]],
      ['userns', 'With "idmap" and no mappings of its own, the mount takes the container\'s user namespace mappings: a file owned by 0:0 on disk is seen as 0:0 by the container\'s root.', true, [0, 0]],
    ] as const
  ).map(([name, requirement, userns, [uid, gid]]) =>
    probeCase({
      id: `config.mounts.idmap.${name}`,
      section: S_MOUNTS,
      requirement,
      mutate(cfg, ctx) {
        const src = ctx.path(`idmap-${name}`);
        fs.mkdirSync(src);
        fs.writeFileSync(path.join(src, 'of-root'), 'x');
        const m: Cfg = { destination: '/mnt', type: 'bind', source: src, options: ['rbind', 'idmap'] };
        if (userns) {
          cfg.linux.namespaces.push({ type: 'user' });
          cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          cfg.mounts = cfg.mounts.filter((x: Cfg) => x.destination !== '/sys/fs/cgroup');
        } else {
          m.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
          m.gidMappings = [{ containerID: 0, hostID: 2000, size: 1 }];
        }
        cfg.mounts.push(m);
      },
      args: ['--stat', '/mnt/of-root'],
      expect(r, ctx) {
        const st = checkOf(ctx, r, 'stat', '/mnt/of-root');
        ctx.equal([st.uid, st.gid], [uid, gid], 'the owner seen through the idmapped mount');
      },
    }),
  ),
  createFailsCase({
    id: 'config.mounts.idmap.no-mappings',
    section: S_MOUNTS,
    requirement: 'An "idmap" mount without uidMappings and gidMappings in a container without a user namespace is an error.',
    mutate(cfg, ctx) {
      fs.mkdirSync(ctx.path('idmap-none'));
      cfg.mounts.push({ destination: '/mnt', type: 'bind', source: ctx.path('idmap-none'), options: ['rbind', 'idmap'] });
    },
  }),
  probeCase({
    id: 'config.mounts.option.nodev-open-fails',
    section: S_MOPTS,
    requirement: 'A device node on a mount with "nodev" cannot be opened.',
    mutate(cfg) {
      cfg.mounts.push(tmpfsAt('/mnt/nodev', ['nodev', 'size=1m']));
      cfg.process.capabilities = { bounding: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE'], effective: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE'], permitted: ['CAP_MKNOD', 'CAP_DAC_OVERRIDE'] };
      cfg.linux.devices = [{ path: '/mnt/nodev/null', type: 'c', major: 1, minor: 3, fileMode: 438 }];
      cfg.linux.resources.devices = [{ allow: true, access: 'rwm' }];
    },
    args: ['--read', '/mnt/nodev/null', '--read', '/dev/null'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/nodev/null').errno, 'EACCES', 'opening a device on a nodev mount must fail with EACCES');
      ctx.check(checkOf(ctx, r, 'read', '/dev/null').ok, '/dev/null itself must open');
    },
  }),
];

const propagationCases: CaseDef[] = (
  [
    ['shared', 'shared', false],
    ['rshared', 'shared', true],
    ['slave', 'slave', false],
    ['rslave', 'slave', true],
    ['private', 'private', false],
    ['rprivate', 'private', true],
    ['unbindable', 'unbindable', false],
    ['runbindable', 'unbindable', true],
  ] as const
).map(([opt, kind, recursive]) =>
  probeCase({
    id: `config.mounts.propagation.${opt}`,
    section: S_MOPTS,
    requirement: `A bind mount with "${opt}" gets ${kind} propagation${recursive ? ', and so do the mounts below it' : ''}.`,
    mutate(cfg, ctx) {
      const src = sharedSource(ctx, 'propsrc');
      cfg.mounts.push({ destination: '/mnt/prop', type: 'bind', source: src, options: ['rbind', opt] });
    },
    expect(r, ctx) {
      const targets = recursive ? ['/mnt/prop', '/mnt/prop/sub'] : ['/mnt/prop'];
      for (const t of targets) {
        const m = mountOf(ctx, r, t);
        const p = propagationOf(m);
        const got = p.unbindable ? 'unbindable' : p.shared ? 'shared' : p.slave ? 'slave' : 'private';
        const want = kind;
        if (kind === 'shared') ctx.check(p.shared, `${t} must be shared`, { actual: m.optional });
        else if (kind === 'slave') ctx.check(p.slave && !p.shared, `${t} must be a slave (master:N, not shared)`, { actual: m.optional });
        else ctx.equal(got, want, `${t} must be ${want}`);
      }
    },
  }),
);

// Recursive mount attributes (SHOULD; tested when the features document claims them).
const recursiveCases: CaseDef[] = (
  [
    ['rro', 'ro'],
    ['rnosuid', 'nosuid'],
    ['rnodev', 'nodev'],
    ['rnoexec', 'noexec'],
    ['rnoatime', 'noatime'],
    ['rnodiratime', 'nodiratime'],
    ['rnosymfollow', 'nosymfollow'],
  ] as const
).map(([opt, flag]) =>
  probeCase({
    id: `config.mounts.option.${opt}`,
    section: S_MOPTS,
    requirement: `"${opt}" applies ${flag} to the bind mount and to every mount below it.`,
    requires: (ctx) => ((ctx.features?.mountOptions ?? []).includes(opt) ? null : `"${opt}" is a SHOULD option that the runtime's features document does not claim`),
    mutate(cfg, ctx) {
      const src = sharedSource(ctx, 'recsrc');
      cfg.mounts.push({ destination: '/mnt/rec', type: 'bind', source: src, options: ['rbind', 'rprivate', opt] });
    },
    expect(r, ctx) {
      for (const t of ['/mnt/rec', '/mnt/rec/sub']) {
        const m = mountOf(ctx, r, t);
        ctx.check(m.options.includes(flag), `${t} must have ${flag}`, { actual: m.options });
      }
    },
  }),
);

const mountCases: CaseDef[] = [
  probeCase({
    id: 'config.mounts.order',
    section: S_MOUNTS,
    requirement: 'Mounts are made in the listed order: of two mounts on the same destination the later one is on top, and a nested mount listed after its parent stays visible.',
    mutate(cfg) {
      cfg.mounts.push(tmpfsAt('/mnt/order', ['size=1m']), tmpfsAt('/mnt/order/inner', ['size=2m']), tmpfsAt('/mnt/same', ['size=1m']), tmpfsAt('/mnt/same', ['size=3m']));
    },
    expect(r, ctx) {
      const ms = parseMountinfo(r.mountinfo);
      const outer = ms.find((m) => m.mountPoint === '/mnt/order');
      const inner = ms.find((m) => m.mountPoint === '/mnt/order/inner');
      ctx.check(outer && inner && inner.parent === outer.id, '/mnt/order/inner must be mounted on top of /mnt/order', { actual: ms.filter((m) => m.mountPoint.startsWith('/mnt')).map((m) => `${m.id}<-${m.parent} ${m.mountPoint}`) });
      const same = ms.filter((m) => m.mountPoint === '/mnt/same');
      ctx.equal(same.map((m) => m.superOptions.find((o) => o.startsWith('size='))), ['size=1024k', 'size=3072k'], 'the two /mnt/same mounts must be stacked in config order (1m below 3m)');
    },
  }),
  probeCase({
    id: 'config.mounts.type.tmpfs',
    section: S_MOUNTS,
    requirement: 'A tmpfs mount is made with its filesystem-specific options passed as data (mode, size).',
    mutate: (cfg) => cfg.mounts.push(tmpfsAt('/mnt/tmp', ['nosuid', 'mode=1770', 'size=2m'])),
    args: ['--stat', '/mnt/tmp'],
    expect(r, ctx) {
      const m = mountOf(ctx, r, '/mnt/tmp');
      ctx.equal(m.fstype, 'tmpfs', 'type must be tmpfs');
      ctx.check(m.superOptions.includes('size=2048k'), 'size=2m must reach the filesystem', { actual: m.superOptions });
      ctx.equal(checkOf(ctx, r, 'stat', '/mnt/tmp').mode, 0o1770, 'mode=1770 must reach the filesystem');
    },
  }),
  ...(
    [
      ['proc', '/proc', 'proc'],
      ['sysfs', '/sys', 'sysfs'],
      ['devpts', '/dev/pts', 'devpts'],
      ['mqueue', '/dev/mqueue', 'mqueue'],
      ['shm', '/dev/shm', 'tmpfs'],
    ] as const
  ).map(([name, mp, fstype]) =>
    probeCase({
      id: `config.mounts.type.${name}`,
      section: S_MOUNTS,
      requirement: `The ${mp} entry of the config becomes a ${fstype} mount at ${mp}.`,
      expect(r, ctx) {
        ctx.equal(mountOf(ctx, r, mp).fstype, fstype, `${mp} must be ${fstype}`);
      },
    }),
  ),
  probeCase({
    id: 'config.mounts.type.cgroup',
    section: S_MOUNTS,
    requirement: 'A mount of type cgroup at /sys/fs/cgroup gives the container a cgroup filesystem there, read-only as configured.',
    expect(r, ctx) {
      const ms = parseMountinfo(r.mountinfo).filter((m) => m.mountPoint === '/sys/fs/cgroup' || m.mountPoint.startsWith('/sys/fs/cgroup/'));
      ctx.check(ms.some((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2'), 'a cgroup filesystem must be mounted under /sys/fs/cgroup', { actual: ms.map((m) => `${m.mountPoint} ${m.fstype}`) });
      const cg = ms.filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
      ctx.check(cg.length > 0 && cg.every((m) => m.options.includes('ro')), 'the cgroup mounts must be read-only ("ro" was configured)', { actual: cg.map((m) => `${m.mountPoint} ${m.options.join(',')}`) });
    },
  }),
  probeCase({
    id: 'config.mounts.bind',
    section: S_MOUNTS,
    requirement: 'A bind mount shows the host directory at the destination.',
    mutate(cfg, ctx) {
      cfg.mounts.push({ destination: '/mnt/bind', type: 'bind', source: plainSource(ctx, 'bindsrc'), options: ['bind'] });
    },
    args: ['--read', '/mnt/bind/file'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/bind/file').content, 'content of bindsrc\n', 'the bind-mounted file must be readable with its content');
    },
  }),
  probeCase({
    id: 'config.mounts.bind-file',
    section: S_MOUNTS,
    requirement: 'A bind mount of a single file shows that file at the destination.',
    mutate(cfg, ctx) {
      const f = ctx.path('single-file');
      fs.writeFileSync(f, 'single\n');
      cfg.mounts.push({ destination: '/etc/single', type: 'none', source: f, options: ['bind', 'ro'] });
    },
    args: ['--read', '/etc/single'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/etc/single').content, 'single\n', 'the bind-mounted file must be readable');
    },
  }),
  probeCase({
    id: 'config.mounts.bind-relative-source',
    section: S_MOUNTS,
    requirement: 'A relative bind source is taken relative to the bundle directory.',
    mutate(cfg, ctx) {
      const d = path.join(ctx.dir, 'relbundle', 'relsrc');
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'file'), 'relative\n');
      cfg.mounts.push({ destination: '/mnt/rel', type: 'bind', source: 'relsrc', options: ['bind'] });
    },
    opts: { bundleName: 'relbundle' },
    args: ['--read', '/mnt/rel/file'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/rel/file').content, 'relative\n', 'the file from <bundle>/relsrc must be visible');
    },
  }),
  probeCase({
    id: 'config.mounts.rbind-recursive',
    section: S_MOPTS,
    requirement: '"rbind" makes a recursive bind mount: mounts below the source are visible too.',
    mutate(cfg, ctx) {
      cfg.mounts.push({ destination: '/mnt/rbind', type: 'bind', source: sharedSource(ctx, 'rbindsrc'), options: ['rbind'] });
    },
    args: ['--read', '/mnt/rbind/sub/file'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/rbind/sub/file').content, 'sub\n', 'the submount content must be visible through rbind');
    },
  }),
  probeCase({
    id: 'config.mounts.bind-not-recursive',
    section: S_MOPTS,
    requirement: '"bind" alone is not recursive: a mount below the source is not carried into the container.',
    mutate(cfg, ctx) {
      cfg.mounts.push({ destination: '/mnt/bind1', type: 'bind', source: sharedSource(ctx, 'bind1src'), options: ['bind'] });
    },
    args: ['--read', '/mnt/bind1/sub/file', '--read', '/mnt/bind1/file'],
    expect(r, ctx) {
      ctx.check(checkOf(ctx, r, 'read', '/mnt/bind1/file').ok, 'the top-level file must be visible');
      ctx.equal(checkOf(ctx, r, 'read', '/mnt/bind1/sub/file').errno, 'ENOENT', 'the submount must not be visible through a plain bind');
    },
  }),
  probeCase({
    id: 'config.mounts.destination-relative',
    section: S_MOUNTS,
    requirement: 'A relative destination (deprecated) is taken relative to "/".',
    mutate: (cfg) => cfg.mounts.push(tmpfsAt('mnt/reldest', ['size=1m'])),
    expect(r, ctx) {
      ctx.equal(mountOf(ctx, r, '/mnt/reldest').fstype, 'tmpfs', 'the mount must be at /mnt/reldest');
    },
  }),
  probeCase({
    id: 'config.mounts.options.accepted',
    section: S_MOPTS,
    requirement: 'Options whose effect a fresh tmpfs cannot show (loud, silent, iversion, noiversion, relatime, norelatime) are implemented, so a mount using them is made.',
    mutate: (cfg) => cfg.mounts.push(tmpfsAt('/mnt/acc', ['loud', 'silent', 'iversion', 'noiversion', 'relatime', 'norelatime', 'size=1m'])),
    expect(r, ctx) {
      ctx.equal(mountOf(ctx, r, '/mnt/acc').fstype, 'tmpfs', 'the mount must exist');
    },
  }),
  createFailsCase({
    id: 'config.mounts.bind-missing-source',
    section: S_MOUNTS,
    requirement: 'A bind mount whose source does not exist cannot be applied, so create fails and nothing is created.',
    mutate(cfg, ctx) {
      cfg.mounts.push({ destination: '/mnt/missing', type: 'bind', source: ctx.path('nope'), options: ['bind'] });
    },
  }),
  createFailsCase({
    id: 'config.mounts.unknown-type',
    section: S_MOUNTS,
    requirement: 'A mount of a filesystem type the kernel does not know cannot be applied, so create fails.',
    mutate(cfg) {
      cfg.mounts.push({ destination: '/mnt/x', type: 'conformancefs', source: 'none', options: [] });
    },
  }),
  ...optionCases,
  ...optionEffectCases,
  ...propagationCases,
  ...recursiveCases,
];

const rootCases: CaseDef[] = [
  probeCase({
    id: 'config.root.path-relative',
    section: S_ROOT,
    requirement: 'A relative root.path is taken relative to the bundle: the container sees that directory as /.',
    args: ['--read', '/etc/hostname'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/etc/hostname').content, 'template\n', 'the rootfs content must be visible at /');
    },
  }),
  probeCase({
    id: 'config.root.path-absolute',
    section: S_ROOT,
    requirement: 'An absolute root.path is used as is.',
    mutate(cfg, ctx) {
      cfg.root.path = path.join(ctx.dir, 'absbundle', 'rootfs');
    },
    opts: { bundleName: 'absbundle' },
    args: ['--read', '/etc/hostname'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'read', '/etc/hostname').content, 'template\n', 'the rootfs content must be visible at /');
    },
  }),
  createFailsCase({
    id: 'config.root.path-missing',
    section: S_ROOT,
    requirement: 'root.path must name an existing directory; when it does not, create fails.',
    mutate(cfg) {
      cfg.root.path = 'no-such-rootfs';
    },
  }),
  probeCase({
    id: 'config.root.readonly',
    section: S_ROOT,
    requirement: 'With root.readonly true the root filesystem is read-only inside the container.',
    mutate(cfg) {
      cfg.root.readonly = true;
    },
    args: ['--write', '/newfile', '--write', '/dev/shm/ok'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'write', '/newfile').errno, 'EROFS', 'writing to / must fail with EROFS');
      ctx.check(mountOf(ctx, r, '/').options.includes('ro'), '/ must be mounted ro');
      ctx.check(checkOf(ctx, r, 'write', '/dev/shm/ok').ok, 'other mounts stay writable');
    },
  }),
  probeCase({
    id: 'config.root.writable',
    section: S_ROOT,
    requirement: 'With root.readonly false (the default) the root filesystem is writable.',
    args: ['--write', '/newfile'],
    expect(r, ctx) {
      ctx.check(checkOf(ctx, r, 'write', '/newfile').ok, 'writing to / must work');
      ctx.check(!mountOf(ctx, r, '/').options.includes('ro'), '/ must not be ro');
    },
  }),
];

const versionCases: CaseDef[] = [
  createFailsCase({
    id: 'config.ociVersion.not-semver',
    section: S_VER,
    requirement: 'ociVersion must be SemVer; a config whose ociVersion is not is invalid and create fails.',
    mutate(cfg) {
      cfg.ociVersion = 'not-a-version';
    },
  }),
  createFailsCase({
    id: 'config.ociVersion.other-major',
    section: S_VER,
    requirement: 'A config for another major version of the spec is not compatible; it is unsupported and create fails.',
    mutate(cfg) {
      cfg.ociVersion = '2.0.0';
    },
  }),
  probeCase({
    id: 'config.extensibility.unknown-properties',
    section: 'config.md#configExtensibility',
    requirement: 'Unknown properties anywhere in the config are ignored, not an error.',
    mutate(cfg) {
      cfg['org.example.unknown'] = { nested: [1, 2, 3] };
      cfg.process['org.example.unknown'] = true;
      cfg.linux['org.example.unknown'] = 'x';
      cfg.root['org.example.unknown'] = 1;
    },
    expect(r, ctx) {
      ctx.equal(r.argv[0], '/probe', 'the container must run');
    },
  }),
  probeCase({
    id: 'config.annotations.unknown-keys',
    section: 'config.md#configAnnotations',
    requirement: 'Unknown annotation keys are handled like unknown properties: no error.',
    mutate(cfg) {
      cfg.annotations = { 'com.example.anything': 'value', 'org.example.other': '' };
    },
    expect(r, ctx) {
      ctx.equal(r.argv[0], '/probe', 'the container must run');
    },
  }),
  createFailsCase({
    id: 'config.annotations.empty-key',
    section: 'config.md#configAnnotations',
    requirement: 'An annotation key must not be empty; a config with one is invalid and create fails.',
    mutate(cfg) {
      cfg.annotations = { '': 'value' };
    },
  }),
];

const CAPSET = {
  bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SYS_CHROOT'],
  permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETUID'],
  effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETUID'],
  inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  ambient: ['CAP_NET_BIND_SERVICE'],
};

/*
 * The sets are observed after execve, so the kernel's exec rules apply
 * (capabilities(7)): bounding, inheritable and ambient pass through; for
 * uid 0 (with no_new_privs, as configured) permitted is kept and effective
 * becomes permitted, so the case configures effective equal to permitted;
 * for a non-root user both permitted and effective become the ambient set.
 */
function capsCase(set: keyof typeof CAPSET): CaseDef {
  return probeCase({
    id: `config.process.capabilities.${set}`,
    section: S_LPROC,
    requirement: `The process's ${set} capability set is the configured list (observed after exec, as uid 0).`,
    mutate(cfg) {
      cfg.process.capabilities = JSON.parse(JSON.stringify(CAPSET));
      cfg.process.noNewPrivileges = true;
    },
    expect(r, ctx) {
      ctx.equal(capsFromHex(r.caps[set]), [...CAPSET[set]].sort(), `${set} capabilities`);
    },
  });
}

const nonRootCaps: CaseDef = probeCase({
  id: 'config.process.capabilities.nonroot',
  section: S_LPROC,
  requirement: 'For a non-root user the configured capabilities survive the switch of user: bounding and inheritable as listed, and the ambient capabilities end up permitted and effective after exec.',
  mutate(cfg) {
    cfg.process.capabilities = JSON.parse(JSON.stringify(CAPSET));
    cfg.process.user = { uid: 1000, gid: 1000 };
  },
  expect(r, ctx) {
    ctx.equal(capsFromHex(r.caps.bounding), [...CAPSET.bounding].sort(), 'bounding');
    ctx.equal(capsFromHex(r.caps.inheritable), [...CAPSET.inheritable].sort(), 'inheritable');
    ctx.equal(capsFromHex(r.caps.ambient), [...CAPSET.ambient].sort(), 'ambient');
    ctx.equal(capsFromHex(r.caps.permitted), [...CAPSET.ambient].sort(), 'permitted (= ambient after exec)');
    ctx.equal(capsFromHex(r.caps.effective), [...CAPSET.ambient].sort(), 'effective (= ambient after exec)');
  },
});

const processCases: CaseDef[] = [
  probeCase({
    id: 'config.process.args',
    section: S_PROC,
    requirement: 'args is the argv of the program, passed exactly (including empty strings and spaces).',
    mutate(cfg) {
      cfg.process.env = ['PATH=/bin'];
    },
    args: ['--read', '/ with space', '--read', ''],
    expect(r, ctx) {
      ctx.equal(r.argv, ['/probe', '--read', '/ with space', '--read', ''], 'argv must equal process.args');
    },
  }),
  {
    id: 'config.process.args-path-lookup',
    section: S_PROC,
    requirement: 'args[0] without a slash is looked up like execvp does, in the PATH of the process environment.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.process.env = ['PATH=/usr/bin:/', 'X=1'];
      cfg.process.args = ['probe', '--marker', '/ran'];
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
      const s = await ctx.start(id);
      if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
      await ctx.waitStopped(id);
      ctx.check(fs.existsSync(path.join(b.rootfs, 'ran')), 'the program found through PATH must run');
    },
  },
  {
    id: 'config.process.args-missing-program',
    section: S_PROC,
    requirement: 'A program that does not exist cannot be run: an error is generated (by create or by start) and the container never runs.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig();
      cfg.process.args = ['/no/such/program'];
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      ctx.observe('create.ok', ok(c));
      if (!ok(c)) return;
      const s = await ctx.start(id);
      ctx.observe('start.ok', ok(s));
      ctx.check(!ok(s), 'start must report an error when the program cannot be executed');
      const st = await ctx.stateOf(id);
      ctx.check(st?.status !== 'running', 'the container must not be running');
    },
  },
  probeCase({
    id: 'config.process.env',
    section: S_PROC,
    requirement: 'The environment of the process is exactly process.env, in order.',
    mutate(cfg) {
      cfg.process.env = ['PATH=/bin:/usr/bin', 'HOME=/home/x', 'A=1', 'EMPTY=', 'WITH_EQ=a=b', 'SPACE=a b'];
    },
    expect(r, ctx) {
      ctx.equal(r.env, ['PATH=/bin:/usr/bin', 'HOME=/home/x', 'A=1', 'EMPTY=', 'WITH_EQ=a=b', 'SPACE=a b'], 'environ must equal process.env');
    },
  }),
  probeCase({
    id: 'config.process.env-no-additions',
    section: S_PROC,
    requirement: 'process.env has environ semantics: with no HOME configured, the process environment is still exactly what was configured.',
    mutate(cfg) {
      cfg.process.env = ['PATH=/bin', 'ONLY=this'];
    },
    expect(r, ctx) {
      ctx.equal(r.env, ['PATH=/bin', 'ONLY=this'], 'environ must equal process.env');
    },
  }),
  probeCase({
    id: 'config.process.cwd',
    section: S_PROC,
    requirement: 'The process starts in process.cwd.',
    mutate(cfg) {
      cfg.process.cwd = '/tmp';
    },
    expect(r, ctx) {
      ctx.equal(r.cwd, '/tmp', 'getcwd must be process.cwd');
    },
  }),
  createFailsCase({
    id: 'config.process.cwd-relative',
    section: S_PROC,
    requirement: 'process.cwd must be absolute; a relative one is invalid and create fails.',
    mutate(cfg) {
      cfg.process.cwd = 'tmp';
    },
  }),
  probeCase({
    id: 'config.process.user.uid-gid',
    section: S_USER,
    requirement: 'The process runs with user.uid and user.gid (real, effective and saved).',
    mutate(cfg) {
      cfg.process.user = { uid: 1000, gid: 1001 };
    },
    expect(r, ctx) {
      ctx.equal([r.uid, r.euid, r.suid], [1000, 1000, 1000], 'uids');
      ctx.equal([r.gid, r.egid, r.sgid], [1001, 1001, 1001], 'gids');
    },
  }),
  probeCase({
    id: 'config.process.user.additionalGids',
    section: S_USER,
    requirement: 'The supplementary groups are the additionalGids (the primary gid may also appear).',
    mutate(cfg) {
      cfg.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27, 4242] };
    },
    expect(r, ctx) {
      const extra = r.groups.filter((g) => g !== 1000).sort((a, b) => a - b);
      ctx.equal(extra, [5, 27, 4242], 'supplementary groups must be the additionalGids');
    },
  }),
  probeCase({
    id: 'config.process.user.no-inherited-groups',
    section: S_USER,
    requirement: 'Without additionalGids the process has no supplementary group other than its own gid (nothing inherited from the runtime).',
    mutate(cfg) {
      cfg.process.user = { uid: 1000, gid: 1000 };
    },
    expect(r, ctx) {
      ctx.equal(r.groups.filter((g) => g !== 1000), [], 'no inherited supplementary groups');
    },
  }),
  probeCase({
    id: 'config.process.user.umask',
    section: S_USER,
    requirement: 'user.umask sets the umask of the process.',
    mutate(cfg) {
      cfg.process.user = { uid: 0, gid: 0, umask: 0o027 };
    },
    expect(r, ctx) {
      ctx.equal(r.umask, '0027', 'umask');
    },
  }),
  probeCase({
    id: 'config.process.rlimits',
    section: S_PPROC,
    requirement: 'Each rlimit is set: getrlimit returns the configured soft and hard values.',
    mutate(cfg) {
      cfg.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
        { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
        { type: 'RLIMIT_MSGQUEUE', soft: 8192, hard: 16384 },
      ];
    },
    expect(r, ctx) {
      const want: Record<string, [number, number]> = { RLIMIT_NOFILE: [512, 1000], RLIMIT_CORE: [0, 4096], RLIMIT_NPROC: [300, 400], RLIMIT_MSGQUEUE: [8192, 16384] };
      for (const [k, [s, h]] of Object.entries(want)) {
        ctx.equal(r.rlimits[k], { soft: String(s), hard: String(h) }, `${k}`);
      }
    },
  }),
  probeCase({
    id: 'config.process.rlimits-raise-hard',
    section: S_PPROC,
    requirement: 'A hard limit above the runtime\'s own is set as configured (raising needs CAP_SYS_RESOURCE, which the runtime holds as root).',
    requires: requireCap('CAP_SYS_RESOURCE'),
    mutate(cfg, ctx) {
      const hard = ctx.host.hardNofile === RLIM_INFINITY ? 1048576 : Number(ctx.host.hardNofile) + 100;
      cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard }];
    },
    expect(r, ctx) {
      const want = ctx.host.hardNofile === RLIM_INFINITY ? 1048576n : ctx.host.hardNofile + 100n;
      ctx.equal(rlimitValue(r.rlimits.RLIMIT_NOFILE?.hard ?? '0').toString(), want.toString(), 'RLIMIT_NOFILE hard');
    },
  }),
  createFailsCase({
    id: 'config.process.rlimits-duplicate',
    section: S_PPROC,
    requirement: 'Two rlimits entries of the same type are an error.',
    mutate(cfg) {
      cfg.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
        { type: 'RLIMIT_NOFILE', soft: 256, hard: 1000 },
      ];
    },
  }),
  createFailsCase({
    id: 'config.process.rlimits-unknown-type',
    section: S_PPROC,
    requirement: 'An rlimit type that maps to no kernel resource is an error.',
    mutate(cfg) {
      cfg.process.rlimits = [{ type: 'RLIMIT_CONFORMANCE', soft: 1, hard: 1 }];
    },
  }),
  capsCase('bounding'),
  capsCase('permitted'),
  capsCase('effective'),
  capsCase('inheritable'),
  capsCase('ambient'),
  nonRootCaps,
  probeCase({
    id: 'config.process.capabilities.empty',
    section: S_LPROC,
    requirement: 'Empty capability lists leave the process with no capability in any set.',
    mutate(cfg) {
      cfg.process.capabilities = { bounding: [], permitted: [], effective: [], inheritable: [], ambient: [] };
    },
    expect(r, ctx) {
      for (const [k, v] of Object.entries(r.caps)) ctx.equal(capsFromHex(v), [], `${k} must be empty`);
    },
  }),
  probeCase({
    id: 'config.process.capabilities.enforced',
    section: S_LPROC,
    requirement: 'Capabilities not kept are really gone: without CAP_SYS_ADMIN the process cannot mount, without CAP_MKNOD it cannot make device nodes.',
    mutate(cfg) {
      cfg.process.capabilities = { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'] };
    },
    args: ['--syscall', 'mount-tmpfs', '--syscall', 'mknod-null'],
    expect(r, ctx) {
      ctx.equal(checkOf(ctx, r, 'syscall', 'mount-tmpfs').errno, 'EPERM', 'mount must fail with EPERM');
      ctx.equal(checkOf(ctx, r, 'syscall', 'mknod-null').errno, 'EPERM', 'mknod must fail with EPERM');
    },
  }),
  probeCase({
    id: 'config.process.noNewPrivileges-true',
    section: S_LPROC,
    requirement: 'noNewPrivileges true sets no_new_privs on the process.',
    mutate(cfg) {
      cfg.process.noNewPrivileges = true;
    },
    expect(r, ctx) {
      ctx.equal(r.noNewPrivsPrctl, 1, 'PR_GET_NO_NEW_PRIVS');
    },
  }),
  probeCase({
    id: 'config.process.noNewPrivileges-false',
    section: S_LPROC,
    requirement: 'noNewPrivileges false leaves no_new_privs unset.',
    mutate(cfg) {
      cfg.process.noNewPrivileges = false;
    },
    expect(r, ctx) {
      ctx.equal(r.noNewPrivsPrctl, 0, 'PR_GET_NO_NEW_PRIVS');
    },
  }),
  probeCase({
    id: 'config.process.oomScoreAdj-set',
    section: S_LPROC,
    requirement: 'When oomScoreAdj is set, the process\'s oom_score_adj is that value.',
    mutate(cfg) {
      cfg.process.oomScoreAdj = 577;
    },
    expect(r, ctx) {
      ctx.equal(r.oomScoreAdj, '577', 'oom_score_adj');
    },
  }),
  probeCase({
    id: 'config.process.oomScoreAdj-unset',
    section: S_LPROC,
    requirement: 'When oomScoreAdj is not set, the runtime does not change oom_score_adj: the process keeps the value it inherited from the runtime\'s caller.',
    mutate(cfg) {
      delete cfg.process.oomScoreAdj;
    },
    opts: { create: { oomScoreAdj: 123 } },
    expect(r, ctx) {
      ctx.equal(r.oomScoreAdj, '123', 'oom_score_adj must be the caller\'s (123)');
    },
  }),
  {
    id: 'config.process.apparmorProfile',
    section: S_LPROC,
    requirement: 'An AppArmor profile is applied to the process; on a host without AppArmor the property cannot be applied, so create fails.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      cfg.process.apparmorProfile = 'conformance-profile';
      if (ctx.host.apparmor) ctx.skip('AppArmor is enabled on this host: the suite does not load profiles');
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      ctx.observe('create.ok', ok(c));
      ctx.check(!ok(c), 'create must fail: the AppArmor profile cannot be applied on a host without AppArmor');
    },
  },
  {
    id: 'config.process.selinuxLabel',
    section: S_LPROC,
    requirement: 'An SELinux label is applied to the process; on a host without SELinux the property cannot be applied, so create fails.',
    async run(ctx: CaseContext) {
      const cfg = ctx.baseConfig(['/probe', '--marker', '/ran']);
      cfg.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2';
      if (ctx.host.selinux) ctx.skip('SELinux is enabled on this host: the suite does not manage policies');
      const b = ctx.makeBundle(cfg);
      const id = ctx.newId();
      const c = await ctx.create(id, b);
      ctx.observe('create.ok', ok(c));
      ctx.check(!ok(c), 'create must fail: the SELinux label cannot be applied on a host without SELinux');
    },
  },
  probeCase({
    id: 'config.process.scheduler.batch',
    section: S_LPROC,
    since: '1.2.0',
    requirement: 'scheduler sets the policy and nice value of the process (SCHED_BATCH, nice 7).',
    mutate(cfg) {
      cfg.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    },
    expect(r, ctx) {
      ctx.equal(r.sched.policy, 3, 'policy must be SCHED_BATCH (3)');
      ctx.equal(r.nice, 7, 'nice');
    },
  }),
  probeCase({
    id: 'config.process.scheduler.idle',
    section: S_LPROC,
    since: '1.2.0',
    requirement: 'scheduler with SCHED_IDLE puts the process in the idle policy.',
    mutate(cfg) {
      cfg.process.scheduler = { policy: 'SCHED_IDLE' };
    },
    expect(r, ctx) {
      ctx.equal(r.sched.policy, 5, 'policy must be SCHED_IDLE (5)');
    },
  }),
  probeCase({
    id: 'config.process.ioPriority.be',
    section: S_LPROC,
    since: '1.2.0',
    requirement: 'ioPriority sets the I/O scheduling class and level (best effort, 6).',
    mutate(cfg) {
      cfg.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    },
    expect(r, ctx) {
      ctx.equal(r.ioprio, { class: 2, level: 6 }, 'ioprio');
    },
  }),
  probeCase({
    id: 'config.process.ioPriority.idle',
    section: S_LPROC,
    since: '1.2.0',
    requirement: 'ioPriority with IOPRIO_CLASS_IDLE puts the process in the idle I/O class.',
    mutate(cfg) {
      cfg.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
    },
    expect(r, ctx) {
      ctx.equal(r.ioprio.class, 3, 'ioprio class must be IDLE (3)');
    },
  }),
  probeCase({
    id: 'config.process.terminal-false',
    section: S_PROC,
    requirement: 'With terminal false (the default) the standard streams are not a terminal, and consoleSize is ignored.',
    mutate(cfg) {
      cfg.process.terminal = false;
      cfg.process.consoleSize = { height: 10, width: 20 };
    },
    expect(r, ctx) {
      ctx.equal([r.tty.isatty0, r.tty.isatty1, r.tty.isatty2], [false, false, false], 'no stream may be a terminal');
    },
  }),
  ...[false, true].map(
    (withSize): CaseDef => ({
      id: withSize ? 'config.process.consoleSize' : 'config.process.terminal',
      section: S_PROC,
      requirement: withSize
        ? 'With a terminal, consoleSize sets the terminal window to the configured height and width.'
        : 'With terminal true the process gets a pseudoterminal on stdin, stdout and stderr, sent to the caller over the console socket, and it is /dev/console.',
      async run(ctx: CaseContext) {
        const cfg = ctx.baseConfig();
        cfg.process.terminal = true;
        if (withSize) cfg.process.consoleSize = { height: 33, width: 111 };
        cfg.process.args = ['/probe', '--stat', '/dev/console'];
        const sock = ctx.socketPath();
        const ttyOut = ctx.path('tty.out');
        const recv = ctx.spawnHelper([ctx.env.art.recvtty, sock], { stdoutFile: ttyOut, stderrFile: ctx.path('tty.err') });
        const ready = await (async () => {
          for (let i = 0; i < 200; i++) {
            if (fs.existsSync(sock)) return true;
            if (recv.exitCode !== null) return false;
            await sleep(10);
          }
          return false;
        })();
        if (!ready) ctx.fatal('console receiver did not start');
        const b = ctx.makeBundle(cfg);
        const id = ctx.newId();
        const c = await ctx.create(id, b, { consoleSocket: sock });
        if (!ok(c)) ctx.fatal(`create failed: ${describe(c)}`);
        const s = await ctx.start(id);
        if (!ok(s)) ctx.fatal(`start failed: ${describe(s)}`);
        await ctx.waitStopped(id);
        for (let i = 0; i < 100 && recv.exitCode === null; i++) await sleep(20);
        const text = fs.readFileSync(ttyOut, 'utf8').replace(/\r\n/g, '\n');
        const rep = extractProbeReport(text);
        const r = rep.report;
        if (!r) return ctx.fatal(`no probe report through the terminal: ${rep.error}`, { actual: text.slice(0, 300) });
        ctx.observe('probe', r);
        if (withSize) {
          ctx.equal([r.tty.rows, r.tty.cols], [33, 111], 'window size must be height x width');
        } else {
          ctx.equal([r.tty.isatty0, r.tty.isatty1, r.tty.isatty2], [true, true, true], 'stdin, stdout and stderr must be a terminal');
          const con = r.checks.find((x) => x.op === 'stat' && x.path === '/dev/console');
          ctx.check(con?.ok, '/dev/console must exist when terminal is true', { actual: con });
          ctx.equal(con?.type, 'c', '/dev/console must be a character device');
          ctx.equal(con?.major, 136, '/dev/console must be the pseudoterminal (major 136)');
        }
      },
    }),
  ),
  probeCase({
    id: 'config.hostname',
    section: 'config.md#configHostname',
    requirement: 'hostname is the hostname the container sees.',
    mutate(cfg) {
      cfg.hostname = 'conformance-host';
    },
    expect(r, ctx) {
      ctx.equal(r.hostname, 'conformance-host', 'uname nodename');
    },
  }),
  probeCase({
    id: 'config.domainname',
    section: 'config.md#configDomainname',
    requirement: 'domainname is the NIS domain name the container sees.',
    mutate(cfg) {
      cfg.domainname = 'conformance.test';
    },
    expect(r, ctx) {
      ctx.equal(r.domainname, 'conformance.test', 'uname domainname');
    },
  }),
];

export const configCases: CaseDef[] = [...versionCases, ...rootCases, ...mountCases, ...processCases];

