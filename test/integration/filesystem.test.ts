// The container's filesystem (config.md "Root", "Mounts"; config-linux.md
// "Devices", "Default Devices", "Masked Paths", "Readonly Paths", "Rootfs
// Mount Propagation"; runtime-linux.md "Dev symbolic links"), including the
// path escapes runc suffered.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { env, requireRoot, scratch, tsrunCmd, uniqueId } from '../helpers/tsrun';

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
      'cat /data/file; cat /single; cat /proc/self/mountinfo; echo x > /data/new 2>/dev/null && echo data-rw; echo x > /rodata/new 2>/dev/null || echo rodata-ro',
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
    t.match(r.stdout, /rodata-ro/, 'ro bind is not');
    t.ok(existsSync(join(host, 'new')), 'the write went to the host directory');
    const data = mountAt(r.stdout, '/data')!;
    t.ok(data.options.includes('nosuid') && data.options.includes('noatime'), 'nosuid,noatime on the bind');
    const ro = mountAt(r.stdout, '/rodata')!;
    t.ok(['ro', 'nodev', 'noexec'].every((o) => ro.options.includes(o)), 'ro,nodev,noexec on the bind');
    t.ok(mountAt(r.stdout, '/single')!.options.includes('ro'));
    const tmp = e.sh('cat /proc/self/mountinfo; touch /rot/x 2>&1', (c: Config) => c.mounts.push({ destination: '/rot', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=1m'] }));
    t.ok(mountAt(tmp.stdout, '/rot')!.options.includes('ro'), 'a read-only tmpfs');
    t.match(tmp.stdout, /Read-only file system/, 'cannot be written');
  });

  t.test('rbind takes submounts, bind does not; rro makes them all read-only', async (t) => {
    const e = env(t);
    const host = scratch(t, 'tsrun-rbind');
    mkdirSync(join(host, 'inner'));
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/mountinfo; echo x > /rr/inner/f 2>/dev/null || echo rr-inner-ro'];
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
    t.notOk(mountAt(r.stdout, '/b/inner'), 'bind does not take the submount');
    t.ok(mountAt(r.stdout, '/rb/inner'), 'rbind takes the submount');
    t.notOk(mountAt(r.stdout, '/rb/inner')?.options.includes('ro'), 'rbind alone leaves it writable');
    t.ok(mountAt(r.stdout, '/rr/inner')?.options.includes('ro'), 'rro makes the submount read-only too');
    t.match(r.stdout, /rr-inner-ro/);
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
    t.notOk(mountAt(def.stdout, '/')!.optional.some((o) => o.startsWith('shared:')), 'by default the root is not shared');
    for (const [value, tag] of [['unbindable', 'unbindable'], ['rshared', 'shared:'], ['private', '']] as const) {
      const m = e.sh('cat /proc/self/mountinfo', (c: Config) => (c.linux.rootfsPropagation = value));
      t.equal(m.status, 0, m.stderr);
      const optional = mountAt(m.stdout, '/')!.optional;
      if (tag) t.ok(optional.some((o) => o.startsWith(tag)), `rootfsPropagation ${value}: ${tag}`);
      else t.same(optional, [], `rootfsPropagation ${value}: no propagation`);
    }
    const np = e.bundle((c: Config) => {
      c.linux.rootfsPropagation = 'shared';
      c.process.args = ['cat', '/proc/self/mountinfo'];
    });
    const nopivot = e.tsrun(['run', '--no-pivot', '--bundle', np, uniqueId('np')]);
    t.ok(mountAt(nopivot.stdout, '/')!.optional.some((o) => o.startsWith('shared:')), 'also with --no-pivot');
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
    const r = e.sh('cat /proc/timer_list 2>&1 | wc -c; ls /proc/acpi | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro; cat /proc/self/mountinfo; cat /etc/group | wc -c', (c: Config) => {
      c.linux.maskedPaths.push('/etc/group', '/does/not/exist');
    });
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    t.equal(lines[0], '0', 'a masked file reads empty');
    t.equal(lines[1], '0', 'a masked directory is empty');
    t.equal(lines[2], 'sys-ro', 'a readonly path cannot be written');
    t.ok(mountAt(r.stdout, '/proc/sys')?.options.includes('ro'), '/proc/sys is a read-only mount');
    t.ok(mountAt(r.stdout, '/proc/acpi')?.options.includes('ro'), 'the masking tmpfs is read-only');
    t.equal(lines[lines.length - 2], '0', 'a masked file of the rootfs reads empty; a missing masked path is ignored');
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
