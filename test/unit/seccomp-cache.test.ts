// The cache of compiled seccomp filters (src/plan/seccomp-cache.ts): an
// entry is found only under its whole key, a damaged one is a miss, writes
// leave no partial file, and the directory keeps a bounded number.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CACHE_ENTRIES, compileKey, lookUp, seccompCacheDir, store } from '../../src/plan/seccomp-cache';
import { startSeccompCompile } from '../../src/plan/seccomp';
import { native } from '../../src/native/addon';

const scratchRoot = (t: { teardown(f: () => void): void }) => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-sc-cache-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
};
const program = (n: number) => Buffer.alloc(8 * n, n);

t.test('found under its whole key only; the key names libseccomp and the kernel', async (t) => {
  const dir = seccompCacheDir(scratchRoot(t));
  const key = compileKey('rules A')!;
  t.match(key, /^tsrun seccomp cache 2\nlibseccomp \d+\.\d+\.\d+, native arch \d+, \/\S+ \d+:\d+ \d+ [\d.]+; addon \S+tsrun_native\.node \d+:\d+ \d+ [\d.]+; .*; Linux /, "libseccomp's version, native architecture and file, the addon's file and the kernel are in the key");
  t.equal(lookUp(dir, key), undefined, 'nothing kept yet');
  store(dir, key, { bpf: program(3), unknown: ['no_such_call'] });
  t.same(lookUp(dir, key), { bpf: program(3), unknown: ['no_such_call'] }, 'kept and found');
  t.equal(lookUp(dir, compileKey('rules B')!), undefined, 'other rules: not found');
  t.equal(lookUp(dir, key.replace(/^(tsrun seccomp cache 2\nlibseccomp \d+\.\d+\.)\d+/, '$199')), undefined, 'another libseccomp: not found');
  t.same(readdirSync(dir).length, 1, 'no temporary file left');
  // Another key's entry under this key's name: a miss.
  const [name] = readdirSync(dir);
  const otherKey = compileKey('rules B')!;
  store(dir, otherKey, { bpf: program(2), unknown: [] });
  const [otherName] = readdirSync(dir).filter((n) => n !== name);
  writeFileSync(join(dir, name), readFileSync(join(dir, otherName)));
  t.equal(lookUp(dir, key), undefined, 'an entry whose key differs is not used');
});

t.test('a damaged entry is a miss', async (t) => {
  const dir = seccompCacheDir(scratchRoot(t));
  const key = compileKey('rules')!;
  store(dir, key, { bpf: program(4), unknown: [] });
  const [name] = readdirSync(dir);
  const whole = readFileSync(join(dir, name));
  const damage = (data: Buffer, what: string) => {
    writeFileSync(join(dir, name), data);
    t.equal(lookUp(dir, key), undefined, what);
  };
  const entry = (unknown: string, length: string, bpf: Buffer) => Buffer.concat([Buffer.from(`${key}\n${unknown}\n${length}\n`), bpf]);
  damage(whole.subarray(0, whole.length - 8), 'cut off after whole instructions (shorter than its length says)');
  damage(Buffer.concat([whole, program(1)]), 'longer than its length says');
  damage(entry('[]', '31', program(4).subarray(0, 31)), 'not whole instructions');
  damage(entry('[]', '0', Buffer.alloc(0)), 'no program');
  damage(entry('[1]', '8', program(1)), 'unknown syscalls that are not names');
  damage(entry('[]', String(8 * 4097), program(4097)), 'more than BPF_MAXINSNS instructions');
  damage(Buffer.from(key), 'the key alone');
  damage(Buffer.concat([Buffer.from(`${key}x\n[]\n32\n`), program(4)]), 'a key that only starts like this one');
  writeFileSync(join(dir, name), whole);
  t.same(lookUp(dir, key)?.bpf, program(4), 'control: the whole entry is found');
});

t.test(`at most ${CACHE_ENTRIES} entries: the least recently used go`, async (t) => {
  const dir = seccompCacheDir(scratchRoot(t));
  const keys = Array.from({ length: CACHE_ENTRIES }, (_, i) => compileKey(`rules ${i}`)!);
  keys.forEach((key, i) => {
    store(dir, key, { bpf: program(1), unknown: [] });
    utimesSync(join(dir, native().hash64(key)), 1000 + i, 1000 + i); // used one second apart, oldest first
  });
  t.equal(readdirSync(dir).length, CACHE_ENTRIES, 'all kept up to the bound');
  t.ok(lookUp(dir, keys[0]), 'the oldest is used again: now the newest');
  // A temporary file a killed tsrun left, and one being written now.
  writeFileSync(join(dir, `${native().hash64('x')}.123.tmp`), 'old');
  utimesSync(join(dir, `${native().hash64('x')}.123.tmp`), 1000, 1000);
  writeFileSync(join(dir, `${native().hash64('y')}.124.tmp`), 'new');
  const last = compileKey('one more')!;
  store(dir, last, { bpf: program(1), unknown: [] });
  t.equal(readdirSync(dir).filter((n) => !n.endsWith('.tmp')).length, CACHE_ENTRIES, 'still the bound with one more');
  t.ok(lookUp(dir, keys[0]), 'the one used again is kept');
  t.equal(lookUp(dir, keys[1]), undefined, 'the least recently used is gone');
  t.ok(lookUp(dir, last), 'the new one is kept');
  t.same(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [`${native().hash64('y')}.124.tmp`], "a killed writer's old temporary file is removed, a recent one is not");
});

// The key is no secret: an entry someone else could write would lift a
// container's filter. Each case plants an allow-all program where the
// real one would be found, and checks the real one is compiled instead.
t.test('only entries of this user, in a directory only it may write, not through a symlink, are used', async (t) => {
  const filter = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const real = startSeccompCompile(filter).wait().bpf;
  const allowAll = startSeccompCompile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }).wait().bpf;
  t.notOk(real.equals(allowAll), 'control: the two programs differ');
  const planted = (t: Test, plant: (dir: string, entry: string, data: Buffer) => void) => {
    const root = scratchRoot(t);
    const dir = seccompCacheDir(root);
    t.same(startSeccompCompile(filter, root).wait().bpf, real, 'compiled and kept');
    const [name] = readdirSync(dir);
    const forged = Buffer.from(readFileSync(join(dir, name)).toString('latin1').replace(/\n\d+\n[^]*$/, `\n${allowAll.length}\n`), 'latin1');
    rmSync(join(dir, name));
    plant(dir, join(dir, name), Buffer.concat([forged, allowAll]));
    return { root, dir, name, forged: Buffer.concat([forged, allowAll]) };
  };
  t.test('control: a forged entry of this user is used (what the checks below guard)', async (t) => {
    const { root } = planted(t, (_dir, entry, data) => writeFileSync(entry, data, { mode: 0o600 }));
    t.same(startSeccompCompile(filter, root).wait().bpf, allowAll);
  });
  t.test("another user's entry", async (t) => {
    const { root } = planted(t, (_dir, entry, data) => {
      writeFileSync(entry, data, { mode: 0o600 });
      chownSync(entry, 65534, 65534);
    });
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
  });
  t.test('an entry others may write', async (t) => {
    const { root } = planted(t, (_dir, entry, data) => {
      writeFileSync(entry, data);
      chmodSync(entry, 0o666);
    });
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
  });
  t.test('a directory others may write: not read, and nothing kept in it', async (t) => {
    const { root, dir, name, forged } = planted(t, (dir, entry, data) => {
      writeFileSync(entry, data, { mode: 0o600 });
      chmodSync(dir, 0o777);
    });
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
    t.same(readdirSync(dir), [name], 'nothing written there...');
    t.same(readFileSync(join(dir, name)), forged, '...not even over the forged entry');
  });
  t.test('a symlink to an entry', async (t) => {
    const { root } = planted(t, (dir, entry, data) => {
      writeFileSync(join(dir, '..', 'elsewhere'), data, { mode: 0o600 });
      symlinkSync(join(dir, '..', 'elsewhere'), entry);
    });
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
  });
  t.test('the directory a symlink', async (t) => {
    const { root, dir } = planted(t, (dir, entry, data) => writeFileSync(entry, data, { mode: 0o600 }));
    renameSync(dir, `${dir}.real`);
    symlinkSync(`${dir}.real`, dir);
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
  });
  t.test('a fifo: a miss, without waiting on it', async (t) => {
    const { root } = planted(t, (_dir, entry) => t.equal(spawnSync('mkfifo', ['-m', '600', entry]).status, 0));
    t.same(startSeccompCompile(filter, root).wait().bpf, real);
  });
  t.test("a symlink where the new entry's temporary file goes: not written through", async (t) => {
    const root = scratchRoot(t);
    const dir = seccompCacheDir(root);
    mkdirSync(dir, { mode: 0o700 });
    const key = compileKey('rules')!;
    const victim = join(root, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(dir, `${native().hash64(key)}.${process.pid}.tmp`));
    store(dir, key, { bpf: program(2), unknown: [] });
    t.equal(readFileSync(victim, 'utf8'), 'untouched');
    t.equal(lookUp(dir, key), undefined, 'nothing kept');
  });
});

t.test('an unwritable cache costs the compile only', async (t) => {
  const root = scratchRoot(t);
  writeFileSync(seccompCacheDir(root), 'not a directory');
  const filter = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const compiled = startSeccompCompile(filter, root).wait();
  t.ok(compiled.bpf.length > 0, 'compiled');
  t.equal(readFileSync(seccompCacheDir(root), 'utf8'), 'not a directory', 'nothing kept, nothing broken');
  // Nor does it make a state root that is not there (create makes it, with its own mode).
  const noRoot = join(root, 'absent');
  t.ok(startSeccompCompile(filter, noRoot).wait().bpf.length > 0, 'compiled without a state root');
  t.notOk(existsSync(noRoot), 'no state root made');
});

t.test('startSeccompCompile with a state root: compiled, kept, then read back the same', async (t) => {
  const root = scratchRoot(t);
  const filter = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'no_such_call'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
  const fresh = startSeccompCompile(filter).wait();
  const first = startSeccompCompile(filter, root).wait();
  t.same(first.bpf, fresh.bpf, 'the same program as without a cache');
  t.equal(readdirSync(seccompCacheDir(root)).length, 1, 'kept');
  const second = startSeccompCompile(filter, root).wait();
  t.same(second.bpf, fresh.bpf, 'read back identical');
  const other = startSeccompCompile({ ...filter, syscalls: [{ ...filter.syscalls[0], errnoRet: 38 }] }, root).wait();
  t.notOk(other.bpf.equals(fresh.bpf), 'another errno: another program');
  t.equal(readdirSync(seccompCacheDir(root)).length, 2);
});
