// The cache of compiled seccomp filters (src/plan/seccomp-cache.ts): an
// entry is found only under its whole key, a damaged one is a miss, writes
// leave no partial file, and the directory keeps a bounded number.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
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
  t.match(key, /^tsrun seccomp cache 1\nlibseccomp \d+\.\d+\.\d+; .*; Linux /, 'the compiler and the kernel are in the key');
  t.equal(lookUp(dir, key), undefined, 'nothing kept yet');
  store(dir, key, { bpf: program(3), unknown: ['no_such_call'] });
  t.same(lookUp(dir, key), { bpf: program(3), unknown: ['no_such_call'] }, 'kept and found');
  t.equal(lookUp(dir, compileKey('rules B')!), undefined, 'other rules: not found');
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
  damage(whole.subarray(0, whole.length - 1), 'not whole instructions');
  damage(whole.subarray(0, whole.length - 32), 'no program');
  damage(Buffer.concat([Buffer.from(`${key}\n`), Buffer.from('[1]\n'), program(1)]), 'unknown syscalls that are not names');
  damage(Buffer.concat([Buffer.from(`${key}\n`), Buffer.from('[]\n'), program(4097)]), 'more than BPF_MAXINSNS instructions');
  damage(Buffer.from(key), 'the key alone');
  writeFileSync(join(dir, name), whole);
  t.same(lookUp(dir, key)?.bpf, program(4), 'control: the whole entry is found');
});

t.test(`at most ${CACHE_ENTRIES} entries: the oldest written go`, async (t) => {
  const dir = seccompCacheDir(scratchRoot(t));
  const keys = Array.from({ length: CACHE_ENTRIES }, (_, i) => compileKey(`rules ${i}`)!);
  keys.forEach((key, i) => {
    store(dir, key, { bpf: program(1), unknown: [] });
    utimesSync(join(dir, native().hash64(key)), 1000 + i, 1000 + i); // written one second apart, oldest first
  });
  t.equal(readdirSync(dir).length, CACHE_ENTRIES, 'all kept up to the bound');
  const last = compileKey('one more')!;
  store(dir, last, { bpf: program(1), unknown: [] });
  t.equal(readdirSync(dir).length, CACHE_ENTRIES, 'still the bound with one more');
  t.equal(lookUp(dir, keys[0]), undefined, 'the oldest is gone');
  t.ok(lookUp(dir, keys[1]), 'the next oldest is kept');
  t.ok(lookUp(dir, last), 'the new one is kept');
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
