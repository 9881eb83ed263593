// The container's filesystem (config.md "Root", "Mounts"; config-linux.md
// "Devices", "Default Devices", "Masked Paths", "Readonly Paths", "Rootfs
// Mount Propagation"; runtime-linux.md "Dev symbolic links"), including the
// path escapes runc suffered.
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { baseConfig, env, requireRoot, scratch, skipOrFail, tsrunCmd, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

interface MountLine {
  mountpoint: string;
  options: string[];
  optional: string[];
  fstype: string;
  superOptions: string[];
}

function mounts(text: string): MountLine[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.includes(' - '))
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre.split(' ');
      const [fstype, , sopts] = post.split(' ');
      return { mountpoint: f[4], options: f[5].split(','), optional: f.slice(6), fstype, superOptions: (sopts ?? '').split(',') };
    });
}

function mountAt(text: string, path: string): MountLine | undefined {
  return mounts(text).filter((m) => m.mountpoint === path).pop();
}

if (requireRoot(t)) {
  t.test('mount types from the default config', async (t) => {
    const e = env(t);
    const r = e.sh('cat /proc/self/mountinfo');
    t.equal(r.status, 0, r.stderr);
    const expect: [string, string, string[]][] = [
      ['/proc', 'proc', []],
      ['/dev', 'tmpfs', ['nosuid']],
      ['/dev/pts', 'devpts', ['nosuid', 'noexec']],
      ['/dev/shm', 'tmpfs', ['nosuid', 'nodev', 'noexec']],
      ['/dev/mqueue', 'mqueue', ['nosuid', 'nodev', 'noexec']],
      ['/sys', 'sysfs', ['ro', 'nosuid', 'nodev', 'noexec']],
      ['/sys/fs/cgroup', 'tmpfs', ['ro', 'nosuid', 'nodev', 'noexec']],
    ];
    for (const [path, fstype, opts] of expect) {
      const m = mountAt(r.stdout, path);
      t.ok(m, `${path} is mounted`);
      if (!m) continue;
      t.equal(m.fstype, fstype, `${path} is ${fstype}`);
      for (const o of opts) t.ok(m.options.includes(o), `${path} is ${o}`);
    }
    t.ok(mountAt(r.stdout, '/dev')!.superOptions.includes('mode=755'), 'tmpfs data (mode=755) reached the kernel');
    t.ok(mountAt(r.stdout, '/dev/pts')!.superOptions.includes('ptmxmode=666'), 'devpts data reached the kernel');
    t.ok(mountAt(r.stdout, '/')!.options.includes('ro'), 'root.readonly');
  });

  t.test('bind mounts and their options', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-bind');
    writeFileSync(join(host, 'file'), 'from host\n');
    mkdirSync(join(host, 'sub'));
    const r = e.sh(
      'cat /data/file; cat /single; cat /proc/self/mountinfo; echo x > /data/new 2>/dev/null && echo data-rw; touch /rodata/new 2>&1; echo end',
      (c: Config) => {
        c.mounts.push(
          { destination: '/data', type: 'bind', source: host, options: ['rbind', 'rw', 'nosuid', 'noatime'] },
          { destination: '/rodata', source: host, options: ['bind', 'ro', 'nodev', 'noexec'] },
          { destination: '/single', type: 'none', source: join(host, 'file'), options: ['bind', 'ro'] },
        );
      },
    );
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^from host\nfrom host\n/, 'a bound directory and a bound file');
    t.match(r.stdout, /data-rw/, 'rw bind is writable');
    t.match(r.stdout, /touch: \/rodata\/new: Read-only file system\nend\n$/, 'ro bind is not (EROFS, not a missing directory)');
    t.ok(existsSync(join(host, 'new')), 'the write went to the host directory');
    const data = mountAt(r.stdout, '/data')!;
    t.ok(data.options.includes('nosuid') && data.options.includes('noatime'), 'nosuid,noatime on the bind');
    const ro = mountAt(r.stdout, '/rodata')!;
    t.ok(['ro', 'nodev', 'noexec'].every((o) => ro.options.includes(o)), 'ro,nodev,noexec on the bind');
    t.ok(mountAt(r.stdout, '/single')!.options.includes('ro'));
    const tmp = e.sh('cat /proc/self/mountinfo; touch /rot/x 2>&1; echo end', (c: Config) => c.mounts.push({ destination: '/rot', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=1m'] }));
    t.equal(tmp.status, 0, tmp.stderr);
    t.ok(mountAt(tmp.stdout, '/rot')?.options.includes('ro'), 'a read-only tmpfs');
    t.match(tmp.stdout, /touch: \/rot\/x: Read-only file system\nend\n$/, 'cannot be written');
  });

  t.test('rbind takes submounts, bind does not; rro makes them all read-only', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-rbind');
    mkdirSync(join(host, 'inner'));
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/mountinfo; touch /rr/inner/f 2>&1; echo end'];
      c.mounts.push(
        { destination: '/b', type: 'bind', source: host, options: ['bind'] },
        { destination: '/rb', type: 'bind', source: host, options: ['rbind'] },
        { destination: '/rr', type: 'bind', source: host, options: ['rbind', 'rro'] },
      );
    });
    // The source needs a submount: make one in a private mount namespace and
    // run tsrun from inside it, so the host is not touched.
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs "$0/inner" && exec "$@"', host, ...tsrunCmd, '--root', e.root, 'run', '--bundle', bundle, uniqueId('rbind')], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.ok(mountAt(r.stdout, '/b'), 'the bind is there');
    t.notOk(mountAt(r.stdout, '/b/inner'), 'bind does not take the submount');
    t.ok(mountAt(r.stdout, '/rb/inner'), 'rbind takes the submount');
    t.notOk(mountAt(r.stdout, '/rb/inner')?.options.includes('ro'), 'rbind alone leaves it writable');
    t.ok(mountAt(r.stdout, '/rr/inner')?.options.includes('ro'), 'rro makes the submount read-only too');
    t.match(r.stdout, /touch: \/rr\/inner\/f: Read-only file system\nend\n$/, 'the submount refuses writes (EROFS)');
  });

  t.test('mounts are applied in config order', async (t) => {
    const e = env(t);
    const r = e.sh('cat /proc/self/mountinfo | grep " /m " | wc -l; ls /m', (c: Config) => {
      c.mounts.push(
        { destination: '/m', type: 'tmpfs', source: 'first', options: ['size=1m'] },
        { destination: '/m/under', type: 'tmpfs', source: 'tmpfs', options: [] },
        { destination: 'm', type: 'tmpfs', source: 'second', options: ['size=2m'] },
      );
    });
    t.match(r.stderr, /mounts\[9\]\.destination: a relative destination is deprecated/, 'a relative destination is taken from / with a warning');
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.equal(lines[0], '2', 'both mounts on /m');
    t.equal(lines.length, 1, 'the later mount hides what the earlier one held (/m/under)');
  });

  // config.md "Mounts": uidMappings, gidMappings, idmap and ridmap. The
  // kernel shows a file's on-disk owner through the mount's mapping, and
  // stores a new file's owner mapped back.
  t.test('idmapped mounts: the owners seen through the mount, and written back', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-idmap');
    chmodSync(host, 0o777);
    writeFileSync(join(host, 'of-root'), 'x');
    mkdirSync(join(host, 'inner'));
    const stat = 'stat -c "%u:%g %n" /m/of-root /m/inner/of-root 2>&1; touch /m/by-container && echo wrote';
    const userns = (c: Config) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    };
    // Each run: a submount in the source (a private mount namespace keeps
    // it off the host), and the mount points made in the rootfs, which a
    // user namespace's root could not create.
    const run = (options: string[], more: (c: Config) => void) => {
      rmSync(join(host, 'by-container'), { force: true });
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sh', '-c', `${stat}; grep " /m " /proc/self/mountinfo`];
        c.mounts.push({ destination: '/m', type: 'bind', source: host, options });
        more(c);
      });
      mkdirSync(join(bundle, 'rootfs', 'm'));
      const script = 'mount -t tmpfs tmpfs "$0/inner" && echo x > "$0/inner/of-root" && exec "$@"';
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, host, ...tsrunCmd, '--root', e.root, 'run', '--bundle', bundle, uniqueId('idmap')], { encoding: 'utf8' });
      const written = existsSync(join(host, 'by-container')) ? statSync(join(host, 'by-container')) : undefined;
      return { ...r, written: written && `${written.uid}:${written.gid}` };
    };

    // The container's user namespace maps 0 to 100000: without an idmapping
    // the host's root files are nobody's, and its own files land as 100000.
    const plain = run(['rbind'], userns);
    t.equal(plain.status, 0, plain.stderr);
    t.match(plain.stdout, /^65534:65534 \/m\/of-root$/m, 'control: not idmapped, root files are nobody\'s');
    t.equal(plain.written, '100000:100000', 'control: written as the mapped id');

    const idmap = run(['rbind', 'idmap'], userns);
    t.equal(idmap.status, 0, idmap.stderr);
    t.match(idmap.stdout, /^0:0 \/m\/of-root$/m, "idmap with the user namespace's mappings: the container's root owns them");
    t.match(idmap.stdout, /^65534:65534 \/m\/inner\/of-root$/m, 'idmap: the submount is not idmapped');
    t.match(idmap.stdout, /\/m rw,[^ ]*idmapped/, 'mountinfo says idmapped');
    t.equal(idmap.written, '0:0', "the container's root writes as the host's root through the mount");

    const ridmap = run(['rbind', 'ridmap'], userns);
    t.equal(ridmap.status, 0, ridmap.stderr);
    t.match(ridmap.stdout, /^0:0 \/m\/inner\/of-root$/m, 'ridmap: the submount too');

    // No user namespace: the mount's own mappings, one uid and one gid.
    const own = run(['bind'], (c) => {
      c.mounts.at(-1).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      c.mounts.at(-1).gidMappings = [{ containerID: 0, hostID: 2000, size: 1 }];
    });
    t.equal(own.status, 0, own.stderr);
    t.match(own.stdout, /^1000:2000 \/m\/of-root$/m, 'the mount\'s own mappings, without a user namespace');

    // The container's root cannot undo what the host's mounts are: the
    // submount of an rbind stays locked in place (a clone made in the host's
    // mount namespace would not be), so what it covers stays covered.
    writeFileSync(join(host, 'inner', 'covered'), 'x');
    const locked = run(['rbind', 'idmap'], (c) => {
      userns(c);
      c.process.args = ['sh', '-c', 'umount /m/inner 2>&1; ls /m/inner'];
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_ADMIN');
    });
    t.equal(locked.status, 0, locked.stderr);
    t.match(locked.stdout, /umount: can't unmount \/m\/inner: Invalid argument/, 'the locked submount is not unmounted');
    t.notMatch(locked.stdout, /covered/, 'what it covers stays covered');

    // A filesystem without idmapping support: refused, naming the mount, nothing left.
    const proc = e.sh('echo ran', (c: Config) => c.mounts.push({ destination: '/p', type: 'bind', source: '/proc', options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }));
    t.equal(proc.status, 1);
    t.match(proc.stderr, /^tsrun: mounts\[\d+\]: idmap \/proc \(its filesystem may not support idmapped mounts\): invalid argument\n$/);
    t.equal(proc.stdout, '');
    t.same(e.tsrun(['list', '-q']).stdout, '', 'no container left');
  });

  // config.md "Mounts", tmpcopyup (as crun): the tmpfs starts as a copy of
  // what it covers. The copy is made before pivot_root, from the host's
  // side of the rootfs: a symlink followed there would copy the host's files.
  t.test('tmpcopyup: a copy of what the tmpfs covers, with owners, modes, symlinks and nested dirs', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'cd /data && stat -c "%n %F %a %u:%g" f sub sub/g link abs && cat f sub/g && readlink link && readlink abs && (test -e abs || echo dangling) && echo new > new && cat new'];
      c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] });
    });
    const data = join(bundle, 'rootfs', 'data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'f'), 'file\n', { mode: 0o604 });
    chownSync(join(data, 'f'), 1000, 1001);
    writeFileSync(join(data, 'sub', 'g'), 'nested\n', { mode: 0o600 });
    chmodSync(join(data, 'sub'), 0o711);
    chownSync(join(data, 'sub'), 2, 3);
    symlinkSync('f', join(data, 'link'));
    lchownSync(join(data, 'link'), 5, 6);
    // Not in the container's rootfs; on the host, a directory full of files.
    symlinkSync('/var/lib/dpkg', join(data, 'abs'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('copyup')]);
    t.equal(r.status, 0, r.stderr);
    t.same(r.stdout.trim().split('\n'), [
      'f regular file 604 1000:1001',
      'sub directory 711 2:3',
      'sub/g regular file 600 0:0',
      'link symbolic link 777 5:6',
      'abs symbolic link 777 0:0',
      'file',
      'nested',
      'f',
      '/var/lib/dpkg',
      'dangling', // copied as a symlink, not followed to the host's directory
      'new',
    ]);
    t.notOk(existsSync(join(data, 'new')), 'what the container writes stays in the tmpfs');
    t.equal(readFileSync(join(data, 'f'), 'utf8'), 'file\n', 'the rootfs is unchanged');
  });

  t.test('propagation', async (t) => {
    const e = env(t);
    const r = e.sh('cat /proc/self/mountinfo', (c: Config) => {
      c.linux.rootfsPropagation = 'shared';
      c.mounts.push({ destination: '/p', type: 'tmpfs', source: 'tmpfs', options: ['rshared'] });
      c.mounts.push({ destination: '/q', type: 'tmpfs', source: 'tmpfs', options: ['runbindable'] });
    });
    t.equal(r.status, 0, r.stderr);
    t.ok(mountAt(r.stdout, '/p')!.optional.some((o) => o.startsWith('shared:')), 'rshared tmpfs is shared');
    t.ok(mountAt(r.stdout, '/q')!.optional.includes('unbindable'), 'runbindable tmpfs is unbindable');
    t.ok(mountAt(r.stdout, '/')!.optional.some((o) => o.startsWith('shared:')), 'rootfsPropagation shared: the root mount is in a peer group');
    const def = e.sh('cat /proc/self/mountinfo');
    t.equal(def.status, 0, def.stderr);
    t.ok(mountAt(def.stdout, '/'), 'the root mount is listed');
    t.notOk(mountAt(def.stdout, '/')!.optional.some((o) => o.startsWith('shared:')), 'by default the root is not shared');
    for (const [value, tag] of [['unbindable', 'unbindable'], ['rshared', 'shared:'], ['private', '']] as const) {
      const m = e.sh('cat /proc/self/mountinfo', (c: Config) => (c.linux.rootfsPropagation = value));
      t.equal(m.status, 0, m.stderr);
      const optional = mountAt(m.stdout, '/')!.optional;
      if (tag) t.ok(optional.some((o) => o.startsWith(tag)), `rootfsPropagation ${value}: ${tag}`);
      else t.same(optional, [], `rootfsPropagation ${value}: no propagation`);
    }
  });

  // A host whose / is shared (systemd's) and a rootfs that is a mount of its
  // own (containerd's, podman's), played in a private mount namespace: with
  // a shared rootfsPropagation the container's copies stay peers of the
  // host's mounts, and nothing tsrun mounts while it builds the container
  // may reach the host through them, with or without pivot_root.
  // Unbindable too: set on the host's copies it would forbid binding a
  // volume from them.
  t.test('rootfsPropagation with the rootfs a mount of its own: nothing of the container is mounted on the host, volumes bind', async (t) => {
    const e = env(t);
    const volume = scratch(t, 'tsrun-volume');
    const cases = [['shared', []], ['rshared', []], ['shared', ['--no-pivot']], ['rshared', ['--no-pivot']], ['unbindable', []]] as const;
    for (const [value, flags] of cases) {
      const bundle = e.bundle((c: Config) => {
        c.linux.rootfsPropagation = value;
        c.process.args = ['cat', '/proc/self/mountinfo'];
        c.mounts.push({ destination: '/volume', type: 'bind', source: volume, options: ['rbind'] });
      });
      const script = 'mount --make-rshared / && mount --bind "$0/rootfs" "$0/rootfs" && cat /proc/self/mountinfo && echo --- && "$@" && echo --- && cat /proc/self/mountinfo';
      const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, bundle, ...tsrunCmd, '--root', e.root, 'run', ...flags, '--bundle', bundle, uniqueId('leak')], { encoding: 'utf8' });
      const [before, inside, after] = r.stdout.split('---\n');
      const what = `${value}${flags.length ? ` ${flags[0]}` : ''}`;
      t.equal(r.status, 0, `${what}: ran ${r.stderr}`);
      const tag = value === 'unbindable' ? 'unbindable' : 'shared:';
      t.ok(mountAt(inside ?? '', '/')?.optional.some((o) => o.startsWith(tag)), `${what}: the container's root is ${tag}`);
      t.ok(mountAt(inside ?? '', '/volume'), `${what}: the volume is bound`);
      const points = (text = '') => mounts(text).map((m) => m.mountpoint);
      t.same(points(after).filter((p) => !points(before).includes(p)), [], `${what}: no new mount on the host side`);
    }
  });

  // config-linux.md "Rootfs Mount Propagation"; what the CRI's bidirectional
  // volumes are (rshared binds, rootfsPropagation rshared): the container's
  // copy of a shared host mount stays its peer, so a mount made inside
  // reaches the host. By default (rslave) it does not.
  t.test('rootfsPropagation rshared: a mount made in a shared bind reaches the host; by default it does not', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-bidir');
    const seen = (rootfsPropagation?: string) => {
      const bundle = e.bundle((c: Config) => {
        c.process.args = ['sh', '-c', 'mkdir -p /v/inside && mount -t tmpfs inside /v/inside && echo mounted'];
        for (const set of ['bounding', 'permitted', 'effective']) c.process.capabilities[set].push('CAP_SYS_ADMIN');
        c.mounts.push({ destination: '/v', type: 'bind', source: host, options: ['rbind', 'rshared'] });
        if (rootfsPropagation) c.linux.rootfsPropagation = rootfsPropagation;
      });
      // The "host" is a private mount namespace where the volume is a shared
      // mount, as a kubelet's pod volume is; what the container mounted
      // under it is read there after the run.
      const script = 'mount --bind "$0" "$0" && mount --make-shared "$0" && "$@" && grep -c " $0/inside " /proc/self/mountinfo';
      return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, host, ...tsrunCmd, '--root', e.root, 'run', '--bundle', bundle, uniqueId('bidir')], { encoding: 'utf8' });
    };
    const shared = seen('rshared');
    t.equal(shared.stdout, 'mounted\n1\n', `rshared: the container's mount is seen on the host side ${shared.stderr}`);
    const def = seen();
    t.equal(def.stdout, 'mounted\n0\n', `default: it is not ${def.stderr}`);
  });

  t.test('devices (config-linux.md "Devices", "Default Devices")', async (t) => {
    const e = env(t);
    const r = e.sh('ls -ln /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse /opt/fifo /mydev/disk; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; head -c 4 /dev/zero | od -An -tx1', (c: Config) => {
      c.linux.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1000, gid: 1000 },
        { path: '/opt/fifo', type: 'p', fileMode: 0o644 },
        { path: '/mydev/disk', type: 'b', major: 7, minor: 0 },
      ];
    });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const line = (p: string) => lines.find((l) => l.endsWith(p)) ?? '';
    for (const [p, maj, min] of [['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0]] as const) {
      t.match(line(p), new RegExp(`^crw-rw-rw-\\s+1 0\\s+0\\s+${maj},\\s+${min} `), `${p} is c ${maj}:${min} 0666 root`);
    }
    t.match(line('/dev/fuse'), /^crw-------\s+1 1000\s+1000\s+10,\s+229 /, 'a configured device with mode and owner');
    t.match(line('/opt/fifo'), /^prw-r--r--/, 'a fifo outside /dev');
    t.match(line('/mydev/disk'), /^brw-rw-rw-\s+1 0\s+0\s+7,\s+0 /, 'a block device, default mode 0666');
    t.match(r.stdout, /pts\/ptmx\n\/proc\/self\/fd\n\/proc\/self\/fd\/0\n\/proc\/self\/fd\/1\n\/proc\/self\/fd\/2\n/, '/dev symlinks');
    t.match(r.stdout, /00 00 00 00/, '/dev/zero works');

    const bundle = e.bundle((c: Config) => {
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/dev');
      c.linux.devices = [{ path: '/dev/thing', type: 'c', major: 1, minor: 3 }];
    });
    writeFileSync(join(bundle, 'rootfs', 'dev', 'thing'), 'a regular file');
    const clash = e.tsrun(['run', '--bundle', bundle, uniqueId('clash')]);
    t.equal(clash.status, 1, 'an existing file that is not the requested device is an error');
    t.match(clash.stderr, /linux\.devices\[0\]: \/dev\/thing exists and is not the requested device/);
  });

  t.test('masked and readonly paths', async (t) => {
    const e = env(t);
    // The default lists (`tsrun spec`'s, as runc's), each path checked where
    // this host has it: a path the host lacks is not masked (nothing to
    // mask) and would read as empty or refuse writes for the wrong reason.
    const defaults = baseConfig().linux as { maskedPaths: string[]; readonlyPaths: string[] };
    const onHost = (p: string) => existsSync(p);
    const isDir = (p: string) => statSync(p).isDirectory();
    const masked = defaults.maskedPaths.filter(onHost);
    const readonly = defaults.readonlyPaths.filter(onHost);
    const maskedFiles = [...masked.filter((p) => !isDir(p)), '/etc/group'];
    const maskedDirs = masked.filter(isDir);
    t.comment(`masked paths absent on this host, not checked: ${defaults.maskedPaths.filter((p) => !onHost(p)).join(' ') || 'none'}`);
    t.comment(`readonly paths absent on this host, not checked: ${defaults.readonlyPaths.filter((p) => !onHost(p)).join(' ') || 'none'}`);
    if (maskedFiles.length < 2) skipOrFail(t, 'a masked file of /proc or /sys', `none of ${defaults.maskedPaths.join(' ')} is a file here`);
    if (!maskedDirs.some((d) => readdirSync(d).length > 0)) skipOrFail(t, 'a masked directory that is not empty', `no directory of ${defaults.maskedPaths.join(' ')} has entries here`);
    // One section per path: "== path", its type and device numbers, then the
    // size of a file or the entries of a directory; for a readonly path, a
    // write: touch of a directory (utimensat; a file cannot be made in
    // procfs whatever the mount), open for append of a file (no data is
    // written). A sysctl file inside /proc/sys too.
    const section = (name: string, p: string, body: string) => `echo "== ${name}"; stat -c '%F %t:%T' '${p}' 2>&1; ${body}`;
    const script = [
      ...maskedFiles.map((p) => section(p, p, `{ wc -c < '${p}'; } 2>&1`)),
      ...maskedDirs.map((p) => section(p, p, `ls -A '${p}' | wc -l`)),
      ...readonly.map((p) => section(`ro ${p}`, p, isDir(p) ? `touch '${p}' 2>&1` : `{ true >> '${p}'; } 2>&1`)),
      section('ro /proc/sys/kernel/domainname', '/proc/sys/kernel/domainname', '{ true >> /proc/sys/kernel/domainname; } 2>&1'),
      'echo "== /does/not/exist"; test -e /does/not/exist && echo exists || echo absent',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
      'echo "== end"',
    ].join('; ');
    const sections = (out: string) => {
      const map = new Map<string, string[]>();
      let cur = '';
      for (const line of out.split('\n')) {
        const m = /^== (.*)$/.exec(line);
        if (m) map.set((cur = m[1]), []);
        else map.get(cur)?.push(line);
      }
      return map;
    };
    const mutate = (c: Config) => c.linux.maskedPaths.push('/etc/group', '/does/not/exist');
    const r = e.sh(script, mutate);
    t.equal(r.status, 0, r.stderr);
    const out = sections(r.stdout);
    t.ok(out.has('end'), 'the script ran to its end');
    const mountinfo = (out.get('mountinfo') ?? []).join('\n');
    for (const p of maskedFiles) {
      t.same(out.get(p), ['character special file 1:3', '0'], `${p} is masked: the null device, reads empty`);
    }
    for (const p of maskedDirs) {
      const [type, entries] = out.get(p) ?? [];
      t.match(type, /^directory /, `${p} is still a directory`);
      t.equal(entries, '0', `${p} is masked: empty (the host's has ${readdirSync(p).length} entries)`);
      const m = mountAt(mountinfo, p);
      t.ok(m?.fstype === 'tmpfs' && m.options.includes('ro'), `${p}: a read-only tmpfs over it`);
    }
    for (const p of [...readonly, '/proc/sys/kernel/domainname']) {
      const [type, ...write] = out.get(`ro ${p}`) ?? [];
      t.match(type, /^(directory|regular)/, `${p} is there in the container`);
      t.match(write.join('\n'), /Read-only file system/, `${p} refuses writes with EROFS`);
      if (readonly.includes(p)) t.ok(mountAt(mountinfo, p)?.options.includes('ro'), `${p} is a read-only mount`);
    }
    t.same(out.get('/does/not/exist'), ['absent'], 'a missing masked path is ignored (and not made)');

    // The same probes without the lists: nothing is masked or read-only, so
    // each check above would fail if tsrun did not apply them.
    const control = sections(e.sh(script, (c: Config) => {
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
    }).stdout);
    t.ok(control.has('end'), 'control: the script ran to its end');
    for (const p of maskedFiles.filter((f) => f !== '/etc/group')) t.notMatch(control.get(p)?.[0] ?? '', /^character special file 1:3$/, `control: ${p} unmasked`);
    for (const p of maskedDirs) t.notOk(mountAt((control.get('mountinfo') ?? []).join('\n'), p), `control: nothing mounted on ${p}`);
    for (const p of [...readonly, '/proc/sys/kernel/domainname']) t.notMatch((control.get(`ro ${p}`) ?? []).join('\n'), /Read-only file system/, `control: ${p} writable`);
  });

  t.test('CVE-2021-30465: a symlink cannot send a mount outside the rootfs', async (t) => {
    const e = env(t);
    const outside = scratch(t, 'tsrun-outside');
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/mountinfo'];
      c.mounts.push(
        { destination: '/abs/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/rel/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      );
    });
    const rootfs = join(bundle, 'rootfs');
    symlinkSync(outside, join(rootfs, 'abs'));
    symlinkSync('../../../../../../../..' + outside, join(rootfs, 'rel'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('escape')]);
    t.equal(r.status, 0, r.stderr);
    t.ok(existsSync(join(rootfs, outside, 'evil')), 'the destination was created inside the rootfs');
    t.notOk(existsSync(join(outside, 'evil')), 'nothing was created in the host directory');
    t.ok(mountAt(r.stdout, join(outside, 'evil')), 'the mount sits at the in-root path');
  });

  t.test('CVE-2019-16884 / CVE-2023-27561: proc never on a symlink', async (t) => {
    const e = env(t);
    const bundle = e.bundle();
    const rootfs = join(bundle, 'rootfs');
    rmSync(join(rootfs, 'proc'), { recursive: true });
    mkdirSync(join(rootfs, 'fakeproc'));
    symlinkSync('/fakeproc', join(rootfs, 'proc'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('procsym')]);
    t.equal(r.status, 1, 'refused');
    t.match(r.stderr, /mounts\[0\]: proc mount destination \/proc is a symlink/);
  });

  t.test('CVE-2025-31133: masking uses only the real null device', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
    });
    const rootfs = join(bundle, 'rootfs');
    writeFileSync(join(rootfs, 'etc', 'target'), 'keep me\n');
    symlinkSync('/etc/target', join(rootfs, 'dev', 'null'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('nullsym')]);
    t.equal(r.status, 1, 'a /dev/null that is a symlink is refused');
    t.match(r.stderr, /\/dev\/null exists and is not the requested device/);
    t.equal(readFileSync(join(rootfs, 'etc', 'target'), 'utf8'), 'keep me\n');
  });
}
