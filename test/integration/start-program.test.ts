// The way from `start` to the container's program: poststart hooks run
// once the program has been executed, however soon it exits (runtime.md
// "Lifecycle" step 7); a seccomp filter loaded with noNewPrivileges needs
// to allow nothing of tsrun-init's own work but the final execve; and a
// filter that blocks what the init needs is an error naming linux.seccomp.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { env, requireRoot, scratch, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;
const corpus = join(__dirname, '..', '..', 'conformance', 'corpus');
const profileOf = (file: string) => JSON.parse(readFileSync(join(corpus, file), 'utf8')).linux.seccomp;

// What busybox's `sh -c 'echo ok'` itself makes on this kernel (the issue's
// list, with getcwd and mmap, which an ERRNO profile makes fail quietly
// but a KILL_PROCESS one kills for). Nothing of tsrun-init's own work is in
// it but execve.
const minimal = ['arch_prctl', 'brk', 'execve', 'exit_group', 'getpid', 'getppid', 'getrandom', 'getuid', 'mprotect', 'newfstatat', 'prctl', 'prlimit64', 'readlink', 'rseq', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'set_robust_list', 'set_tid_address', 'uname', 'write', 'fstat', 'exit', 'futex', 'close', 'getcwd', 'mmap'];

if (requireRoot(t)) {
  t.test('poststart hooks run when the program exits at once (50 times)', async (t) => {
    const e = env(t);
    const out = join(scratch(t, 'poststart'), 'hook.log');
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['true'];
      c.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran >> ${out}`] }] };
    });
    let failures = 0;
    const messages = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const id = uniqueId('fast');
      t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
      const s = e.tsrun(['start', id]);
      if (s.status !== 0) {
        failures++;
        messages.add(s.stderr.trim());
      }
      e.tsrun(['delete', '--force', id]);
    }
    t.equal(failures, 0, `start never fails for a program that exits at once (${[...messages].join('; ')})`);
    t.equal(readFileSync(out, 'utf8'), 'ran\n'.repeat(50), 'and the hook ran every time');
  });

  t.test('a program that cannot be executed is named with the reason (a symlink loop is not "not found")', async (t) => {
    const e = env(t);
    const loop = (c: Config, args: string[]) => {
      c.process.args = args;
      c.root.readonly = false;
    };
    const bundle = e.bundle((c: Config) => loop(c, ['loop1']));
    symlinkSync('loop2', join(bundle, 'rootfs', 'bin', 'loop1'));
    symlinkSync('loop1', join(bundle, 'rootfs', 'bin', 'loop2'));
    const r = e.tsrun(['run', '--bundle', bundle, uniqueId('loop')]);
    t.equal(r.status, 1);
    t.match(r.stderr, /process\.args: exec: "loop1": \/bin\/loop1 cannot be executed: too many symbolic links encountered/, 'found on $PATH, and why it cannot run');
    const missing = e.sh('true', (c: Config) => loop(c, ['nothere']));
    t.match(missing.stderr, /process\.args: exec: "nothere": executable file not found in \$PATH/, 'really missing: runc\'s words, which podman matches');
  });

  t.test('seccomp with noNewPrivileges: strict profiles need only execve of the init', async (t) => {
    const e = env(t);
    const run = (seccomp: Config, nnp = true) =>
      e.sh('echo ok', (c: Config) => {
        c.process.noNewPrivileges = nnp;
        c.linux.seccomp = seccomp;
      });
    for (const action of ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS']) {
      const r = run({ defaultAction: action, architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: minimal, action: 'SCMP_ACT_ALLOW' }] });
      t.equal(r.status, 0, `${action}: ${r.stderr}`);
      t.equal(r.stdout, 'ok\n', `${action} with the program's own syscalls only: it runs`);
    }
    // Without execve the program cannot start, whatever the default.
    const noExec = minimal.filter((s) => s !== 'execve');
    const killed = run({ defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: noExec, action: 'SCMP_ACT_ALLOW' }] });
    t.equal(killed.status, 1);
    t.match(killed.stderr, /linux\.seccomp: the filter refuses execve, so the program could never start/, 'refused at create, naming the syscall');

    const denied = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve'], action: 'SCMP_ACT_ERRNO' }] });
    t.equal(denied.status, 1);
    t.match(denied.stderr, /linux\.seccomp: the filter refuses execve, so the program could never start/);
    t.notMatch(denied.stderr, /EPIPE|broken pipe/);

    for (const [name, file] of [['containerd', 'containerd-seccomp.json'], ['podman', 'podman-plain.json']] as const) {
      const r = run(profileOf(file), false);
      t.equal(r.status, 0, `${name}'s default profile: ${r.stderr}`);
      t.equal(r.stdout, 'ok\n', `${name}'s default profile runs the program`);
    }
  });

  t.test('seccomp without noNewPrivileges: a filter that refuses what the init needs is named', async (t) => {
    const e = env(t);
    const r = e.sh('echo ok', (c: Config) => {
      c.process.noNewPrivileges = false;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: minimal, action: 'SCMP_ACT_ALLOW' }] };
    });
    t.equal(r.status, 1);
    t.match(r.stderr, /linux\.seccomp: the filter refuses (capset|chdir|setgroups|setresgid|setresuid), which tsrun-init needs after loading it/, 'the first syscall it refuses, by name');
    t.match(r.stderr, /noNewPrivileges/, 'and the way out');
    t.notOk(existsSync(join(e.root, 'x')), 'nothing left behind');
  });
}
