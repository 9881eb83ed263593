// config-linux.md "Seccomp": actions, errno values, argument conditions,
// with and without no_new_privs, for root and another user, and the
// profiles podman and containerd really write.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cgroupLeftovers, env, processesMentioning, repo, requireRoot, scratch, uniqueId } from '../helpers/tsrun';
import { waitFor } from '../helpers/wait';

type Config = Record<string, any>;
const corpus = (f: string) => JSON.parse(readFileSync(join(repo, 'conformance', 'corpus', f), 'utf8'));

const withSeccomp = (seccomp: Config, more?: (c: Config) => void) => (c: Config) => {
  c.linux.seccomp = seccomp;
  c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
  more?.(c);
};

if (requireRoot(t)) {
  t.test('ERRNO with errnoRet, and EPERM by default', async (t) => {
    const e = env(t);
    const r = e.sh('grep "^Seccomp:" /proc/self/status; mkdir /tmp/a 2>&1; rmdir /tmp 2>&1; echo end', withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['rmdir', 'unlinkat'], action: 'SCMP_ACT_ERRNO' },
      ],
    }));
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /^Seccomp:\s+2\n/, 'filter mode');
    t.match(r.stdout, /mkdir: can't create directory '\/tmp\/a': Permission denied/, 'errnoRet 13 (EACCES)');
    t.match(r.stdout, /rmdir: '\/tmp': Operation not permitted/, 'EPERM without errnoRet');
  });

  // The compile runs on a thread from the plan on, and tsrun-init asks for
  // the program when it gets to the filter: a rule libseccomp refuses is
  // found while tsrun-init runs (the debug log shows it started), and the
  // failed create's teardown ends it and removes the state and cgroups.
  // Before the hooks: none of them runs (nor poststop, as for any create
  // that fails before its hooks).
  t.test('a rule libseccomp refuses: exit 1, the rule named, no hook run, nothing left behind', async (t) => {
    const e = env(t);
    const id = uniqueId('sc-refused');
    const marks = scratch(t, 'sc-refused-hooks');
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `touch ${join(marks, name)}`] });
    const hooks = { createRuntime: [hook('createRuntime')], poststop: [hook('poststop')] };
    const refused = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] };
    const log = join(marks, 'debug.log');
    const r = e.tsrun(['--debug', '--log', log, 'create', '--bundle', e.bundle(withSeccomp(refused, (c) => (c.hooks = hooks))), id]);
    t.equal(r.status, 1);
    t.equal(r.stderr, 'tsrun: linux.seccomp.syscalls[1]: cannot add a seccomp rule for read: Invalid argument\n');
    t.match(readFileSync(log, 'utf8'), /tsrun-init started as pid \d+[^]*linux\.seccomp\.syscalls\[1\]: cannot add a seccomp rule for read: Invalid argument/, 'tsrun-init was running when the rule was refused');
    t.notOk(existsSync(join(marks, 'createRuntime')), 'no createRuntime hook ran');
    t.notOk(existsSync(join(marks, 'poststop')), 'nor poststop');
    t.notOk(existsSync(join(e.root, id)), 'no state directory');
    t.same(cgroupLeftovers(e.root, id), [], 'no cgroup');
    t.same(processesMentioning([id]), [], 'no process');
    // Control: without the bad rule the same bundle creates, its hook runs, and it has its cgroups.
    const ok = e.tsrun(['create', '--bundle', e.bundle(withSeccomp({ ...refused, syscalls: [refused.syscalls[0]] }, (c) => (c.hooks = hooks))), id]);
    t.equal(ok.status, 0, ok.stderr);
    t.ok(existsSync(join(marks, 'createRuntime')), 'control: the createRuntime hook runs, where the check above looks');
    t.not(cgroupLeftovers(e.root, id).length, 0, 'control: a created container has its cgroups, where the check above looks');
  });

  // A filter compiled once is kept in the state root (src/plan/seccomp-cache.ts)
  // and used again for the same rules. Its key is held whole in the entry:
  // an entry of other rules under the name, or a damaged one, is a miss
  // (compiled again and rewritten), never a program for the wrong rules.
  t.test('compiled filters are kept in the state root and used again for the same rules only', async (t) => {
    const e = env(t);
    const cache = join(e.root, '@seccomp-cache');
    const filter = (errnoRet: number) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat', 'no_such_call'], action: 'SCMP_ACT_ERRNO', errnoRet }] });
    let runs = 0;
    const run = (errnoRet: number) => {
      const log = join(e.root, `..`, `debug-${++runs}.log`);
      const r = e.tsrun(['--debug', '--log', log, 'run', '--bundle', e.bundle(withSeccomp(filter(errnoRet), (c) => (c.process.args = ['sh', '-c', 'mkdir /tmp/a 2>&1; echo end']))), uniqueId('sc-cache')]);
      const debug = readFileSync(log, 'utf8');
      return { ...r, cached: /the program compiled before from these rules/.test(debug), debug };
    };
    const eacces = /mkdir: can't create directory '\/tmp\/a': Permission denied\nend\n$/;
    const enosys = /mkdir: can't create directory '\/tmp\/a': Function not implemented\nend\n$/;

    const first = run(13);
    t.equal(first.status, 0, first.stderr);
    t.match(first.stdout, eacces, 'errnoRet 13 (EACCES)');
    t.notOk(first.cached, 'the first run compiles');
    const [entry13] = readdirSync(cache);
    t.match(entry13, /^[0-9a-f]{16}$/, 'one entry, named by its key\'s hash');
    const kept13 = readFileSync(join(cache, entry13));
    t.match(kept13.toString('latin1', 0, 200), /^tsrun seccomp cache 2\nlibseccomp \d+\.\d+\.\d+, native arch /, 'the entry starts with its key');

    const again = run(13);
    t.equal(again.status, 0, again.stderr);
    t.ok(again.cached, 'the same rules: the kept program');
    t.match(again.stdout, eacces, 'which filters as the compiled one did');
    t.match(again.debug, /syscalls unknown to libseccomp, skipped: no_such_call/, 'and says which syscalls libseccomp did not know, as the compile did');

    // exec's process gets the container's filter from the cache too.
    const id = uniqueId('sc-cache-exec');
    const bundle = e.bundle(withSeccomp(filter(13), (c) => (c.process.args = ['sleep', '100'])));
    t.equal(e.tsrun(['create', '--bundle', bundle, id]).status, 0);
    t.equal(e.tsrun(['start', id]).status, 0);
    const execLog = join(e.root, '..', 'debug-exec.log');
    const exec = e.tsrun(['--debug', '--log', execLog, 'exec', id, 'sh', '-c', 'mkdir /tmp/a 2>&1; echo end']);
    t.match(exec.stdout, eacces, 'exec: filtered');
    t.match(readFileSync(execLog, 'utf8'), /the program compiled before from these rules/, 'exec: the kept program');
    t.equal(e.tsrun(['delete', '--force', id]).status, 0);

    const other = run(38);
    t.notOk(other.cached, 'another errnoRet is other rules: compiled');
    t.match(other.stdout, enosys, 'errnoRet 38 (ENOSYS), not the kept EACCES');
    t.equal(readdirSync(cache).length, 2, 'kept beside the first');
    const entry38 = readdirSync(cache).find((n) => n !== entry13)!;

    // The other rules' entry put under the first one's name: its key differs.
    writeFileSync(join(cache, entry13), readFileSync(join(cache, entry38)));
    const swapped = run(13);
    t.notOk(swapped.cached, 'an entry of other rules under the name is not used');
    t.match(swapped.stdout, eacces, 'EACCES as configured, not the swapped-in ENOSYS');
    t.same(readFileSync(join(cache, entry13)), kept13, 'the entry is rewritten with the right rules');

    // A damaged program (not whole BPF instructions) is not used either.
    writeFileSync(join(cache, entry13), kept13.subarray(0, kept13.length - 3));
    const damaged = run(13);
    t.notOk(damaged.cached, 'a damaged entry is not used');
    t.match(damaged.stdout, eacces);
    t.same(readFileSync(join(cache, entry13)), kept13, 'and is rewritten');

    t.equal(e.tsrun(['list', '-q']).stdout, '', 'list shows no container for the cache');
  });

  t.test('an errno of choice; a default action that denies', async (t) => {
    const e = env(t);
    const r = e.sh('mkdir /tmp/a 2>&1; echo end', withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
    }));
    t.match(r.stdout, /Function not implemented/, 'ENOSYS from errnoRet 38');
    const deny = e.sh('echo unreachable', withSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, syscalls: [] }));
    t.not(deny.status, 0, 'a filter that denies everything stops the program (execve is denied)');
    t.equal(deny.stdout, '', 'it never ran');
    // Control: the same container under a filter that allows everything runs and prints.
    const allow = e.sh('echo unreachable', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] }));
    t.equal(allow.status, 0, allow.stderr);
    t.equal(allow.stdout, 'unreachable\n', 'control: without the denial it prints');
  });

  t.test('KILL_PROCESS, argument conditions', async (t) => {
    const e = env(t);
    const killed = e.sh('uname; echo survived', withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }],
    }, (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'pid'))));
    t.equal(killed.status, 128 + 31, 'killed by SIGSYS');
    const args = e.sh('kill -0 $$ 2>&1 && echo zero-ok; kill -CONT $$ && echo cont-ok', withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] }],
    }));
    t.match(args.stdout, /Operation not permitted/, 'kill(pid, 0) denied');
    t.notMatch(args.stdout, /zero-ok/);
    t.match(args.stdout, /cont-ok/, 'kill(pid, SIGCONT) allowed');
    const masked = e.sh('kill -0 $$ 2>&1; kill -CONT $$ 2>&1; echo end', withSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }, { index: 1, value: 18, op: 'SCMP_CMP_EQ' }] }],
    }));
    t.equal((masked.stdout.match(/Operation not permitted/g) ?? []).length, 2, 'two conditions on one argument are alternatives');
  });

  t.test('without no_new_privs, and as another user', async (t) => {
    const e = env(t);
    const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const nnp = e.sh('grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/a 2>&1', withSeccomp(seccomp, (c) => (c.process.noNewPrivileges = false)));
    t.match(nnp.stdout, /NoNewPrivs:\s+0\nSeccomp:\s+2\n/, 'the filter is loaded while the init still has CAP_SYS_ADMIN');
    t.match(nnp.stdout, /Operation not permitted/);
    const user = e.sh('id -u; grep "^Seccomp:" /proc/self/status; mkdir /tmp/a 2>&1', withSeccomp(seccomp, (c) => (c.process.user = { uid: 1000, gid: 1000 })));
    t.match(user.stdout, /^1000\nSeccomp:\s+2\n.*Operation not permitted/s);
  });

  t.test('the profiles podman and containerd write', async (t) => {
    const e = env(t);
    for (const f of ['podman-plain.json', 'containerd-seccomp.json']) {
      const profile = corpus(f).linux.seccomp;
      const r = e.sh('grep "^Seccomp:" /proc/self/status; unshare -m true 2>&1; echo end', withSeccomp(profile));
      t.equal(r.status, 0, `${f}: ${r.stderr}`);
      t.match(r.stdout, /^Seccomp:\s+2\n/, `${f}: filtered`);
      t.match(r.stdout, /unshare: unshare\(0x20000\): Operation not permitted\nend\n$/, `${f}: unshare is denied as the profile says`);
    }
  });

  t.test('a profile that kills a syscall the init needs: harmless with noNewPrivileges, refused by name without', async (t) => {
    const e = env(t);
    // write(2) is the init's last word to tsrun; with noNewPrivileges the
    // filter goes in after it (after the wait for start), so only the
    // program's own writes meet the filter.
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_KILL_PROCESS' }] };
    const r = e.sh('true', withSeccomp(profile));
    t.equal(r.status, 0, `noNewPrivileges: the init never writes under the filter (${r.stderr})`);
    // Without it the filter must go in before the init is done: refused at
    // create, naming the syscall, and nothing is left.
    const early = e.sh('true', withSeccomp(profile, (c) => (c.process.noNewPrivileges = false)));
    t.equal(early.status, 1);
    t.match(early.stderr, /linux\.seccomp: the filter refuses write, which tsrun-init needs after loading it/);
    t.same(e.tsrun(['list', '-q']).stdout, '', 'no container left');
  });

  t.test('refusals name the field', async (t) => {
    const e = env(t);
    const notify = e.sh('true', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }));
    t.equal(notify.status, 1);
    t.match(notify.stderr, /linux\.seccomp\.listenerPath: is required with an SCMP_ACT_NOTIFY rule/);
    const arch = e.sh('true', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_NOPE'] }));
    t.equal(arch.status, 1);
    t.match(arch.stderr, /linux\.seccomp\.architectures\[1\]/);
    const unknownCall = e.sh('echo fine', withSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
    t.equal(unknownCall.status, 0, 'a syscall name unknown here is skipped (as runc)');
    t.equal(unknownCall.stdout, 'fine\n');
  });

  // config-linux.md "Seccomp" (listenerPath, listenerMetadata) and "The
  // Container Process State": the agent gets one connection with the state
  // and the listener fd, and answers the container's notified syscalls.
  t.test('SCMP_ACT_NOTIFY: the listener goes to the agent, which answers mkdir', async (t) => {
    const e = env(t);
    const dir = scratch(t, 'tsrun-seccomp-agent');
    const agent = join(dir, 'agent');
    const built = spawnSync('gcc', ['-O2', '-Wall', '-o', agent, join(repo, 'conformance', 'probe', 'seccomp-agent.c')], { encoding: 'utf8' });
    t.equal(built.status, 0, built.stderr);
    const sock = join(dir, 'agent.sock');
    const log = join(dir, 'states');
    // ENOMEDIUM (123): mkdir never fails so by itself.
    const child = spawn(agent, [sock, '123', log], { stdio: 'ignore' });
    t.teardown(() => child.kill('SIGKILL'));
    t.ok(waitFor(() => existsSync(sock)), 'the agent listens');
    // Each line: the number of fds the state came with, and the state.
    const states = () =>
      (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []).map((l) => {
        const space = l.indexOf(' ');
        return { ...JSON.parse(l.slice(space + 1)), nfds: Number(l.slice(0, space)) };
      });
    const profile = (extra: Config = {}) => ({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'from-the-config',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      ...extra,
    });

    for (const noNewPrivileges of [false, true]) {
      const before = states().length;
      const r = e.sh('mkdir /tmp/a 2>&1; echo "mkdir: $?"; grep "^Seccomp:" /proc/self/status; ls -l /proc/self/fd 2>/dev/null | grep -c seccomp; true', withSeccomp(profile(), (c) => (c.process.noNewPrivileges = noNewPrivileges)));
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, /mkdir: can't create directory '\/tmp\/a': No medium found\nmkdir: 1\n/, `noNewPrivileges ${noNewPrivileges}: the agent's answer`);
      t.match(r.stdout, /Seccomp:\s+2\n0\n$/, 'the program holds no listener');
      const got = states().slice(before);
      t.equal(got.length, 1, 'one state per connection');
      const [m] = got;
      t.equal(m.nfds, 1, 'the listener, and no other fd');
      delete m.nfds;
      t.same(Object.keys(m).sort(), ['fds', 'metadata', 'ociVersion', 'pid', 'state']);
      t.same(m.fds, ['seccompFd']);
      t.equal(m.metadata, 'from-the-config');
      t.equal(m.state.status, 'creating');
      t.equal(m.pid, m.state.pid, "the init's pid, as tsrun sees it");
      t.ok(m.pid > 1);
    }

    // exec: a listener of its own; the state is the running container's
    // (its init's pid), the message's pid the exec'd process's (as runc).
    const id = uniqueId('notify');
    const b = e.bundle((c) => {
      c.process.args = ['sleep', '60'];
      withSeccomp(profile({ flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }))(c);
    });
    t.equal(e.tsrun(['run', '-d', '--bundle', b, id]).status, 0);
    const init = JSON.parse(e.tsrun(['state', id]).stdout).pid;
    const before = states().length;
    const x = e.tsrun(['exec', id, 'sh', '-c', 'mkdir /tmp/b 2>&1; echo "$$"']);
    t.match(x.stdout, /No medium found\n\d+\n$/, x.stderr);
    const [m] = states().slice(before);
    t.equal(m.state.status, 'running');
    t.equal(m.state.pid, init);
    t.not(m.pid, init, "the exec'd process's pid");
    t.equal(e.tsrun(['delete', '-f', id]).status, 0);

    // An agent that listens but never reads: the state (made large by an
    // annotation) cannot all be sent; after tsrun's timeout the create
    // fails, naming the field, instead of waiting for ever.
    const mute = join(dir, 'mute.sock');
    const listener = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(8)\ntime.sleep(120)', mute], { stdio: 'ignore' });
    t.teardown(() => listener.kill('SIGKILL'));
    t.ok(waitFor(() => existsSync(mute)), 'the mute agent listens');
    const started = Date.now();
    const stuck = e.sh('true', withSeccomp(profile({ listenerPath: mute }), (c) => (c.annotations = { big: 'x'.repeat(4 << 20) })));
    t.equal(stuck.status, 1);
    t.match(stuck.stderr, /^tsrun: linux\.seccomp\.listenerPath: cannot send the seccomp listener to \S+mute\.sock: .*resource temporarily unavailable/i);
    t.ok(Date.now() - started < 30_000, 'within the timeout, not the test\'s');

    // Without an agent the create fails, naming the field, and leaves nothing.
    child.kill('SIGKILL');
    const dead = () => {
      try {
        return readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
      } catch {
        return true;
      }
    };
    t.ok(waitFor(dead), 'the agent is gone');
    const gone = e.sh('true', withSeccomp(profile()));
    t.equal(gone.status, 1);
    t.match(gone.stderr, /^tsrun: linux\.seccomp\.listenerPath: cannot send the seccomp listener to \S+agent\.sock: connect \S+: (Connection refused|No such file or directory)\n$/);
    t.same(e.tsrun(['list', '-q']).stdout, '', 'no container left');
  });
}
