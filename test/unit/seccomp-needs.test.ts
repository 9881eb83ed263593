// What tsrun-init needs of a seccomp filter once it is loaded: only execve
// with noNewPrivileges; the user/capability/cwd work and the handshake
// without. A filter that refuses one is named at create.
import t from 'tap';
import { compileSeccomp } from '../../src/plan/seccomp';
import { checkInitNeeds } from '../../src/plan/seccomp-needs';
import { nativeSyscalls } from '../../src/plan/seccomp-evaluate';

const denying = (names: string[], action = 'SCMP_ACT_ERRNO') => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names, action }] }).bpf;

t.test('noNewPrivileges: execve alone', { skip: !nativeSyscalls && 'no syscall table for this architecture' }, async (t) => {
  t.doesNotThrow(() => checkInitNeeds(denying(['setresuid', 'capset', 'write', 'read', 'chdir', 'getcwd']), true), 'none of the setup work is needed after the filter');
  t.throws(() => checkInitNeeds(denying(['execve']), true), /^linux\.seccomp: the filter refuses execve, so the program could never start$/);
  t.throws(() => checkInitNeeds(denying(['execve'], 'SCMP_ACT_KILL_PROCESS'), true), /refuses execve/, 'whatever the action');
});

t.test('without noNewPrivileges: the first syscall the init needs that the filter refuses', async (t) => {
  if (!nativeSyscalls) return t.skip('no syscall table for this architecture');
  t.doesNotThrow(() => checkInitNeeds(denying(['mount', 'kexec_load']), false), 'a filter that leaves the init alone');
  t.throws(() => checkInitNeeds(denying(['capset', 'chdir']), false), /^linux\.seccomp: the filter refuses capset, which tsrun-init needs after loading it: .*allow capset, or set noNewPrivileges/);
  t.throws(() => checkInitNeeds(denying(['write']), false), /the filter refuses write,/);
  // Refused quietly, these would change the process: the old umask, the
  // program's preserved fds closed at execve.
  t.throws(() => checkInitNeeds(denying(['umask']), false), /the filter refuses umask,/);
  t.throws(() => checkInitNeeds(denying(['fcntl']), false), /the filter refuses fcntl,/);
  const ambient = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['prctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 47, op: 'SCMP_CMP_EQ' }] }] }).bpf;
  t.throws(() => checkInitNeeds(ambient, false), /the filter refuses prctl,/, 'PR_CAP_AMBIENT refused');
  // prctl is checked with the operations the init makes with it.
  const prctl = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['prctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 24, op: 'SCMP_CMP_EQ' }] }] }).bpf;
  t.throws(() => checkInitNeeds(prctl, false), /the filter refuses prctl,/, 'PR_CAPBSET_DROP refused');
  const other = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['prctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 22, op: 'SCMP_CMP_EQ' }] }] }).bpf;
  t.doesNotThrow(() => checkInitNeeds(other, false), 'a prctl operation the init does not make');
});

// With a notify listener the filter goes in before the user and
// capabilities are set, noNewPrivileges or not; write and sendmsg hand the
// listener over, before any agent holds it (runc: "SCMP_ACT_NOTIFY cannot
// be used for the write syscall"); after that, the agent answers.
t.test('with a notify listener: write and sendmsg outright, the rest allowed or notified', async (t) => {
  if (!nativeSyscalls) return t.skip('no syscall table for this architecture');
  for (const name of ['write', 'sendmsg']) {
    t.throws(() => checkInitNeeds(denying([name], 'SCMP_ACT_NOTIFY'), true, true), new RegExp(`^linux\\.seccomp: the filter does not allow ${name}, with which tsrun-init sends the notify listener \\(SCMP_ACT_NOTIFY cannot be used for ${name}\\)$`));
  }
  t.doesNotThrow(() => checkInitNeeds(denying(['read', 'close', 'capset', 'chdir', 'execve'], 'SCMP_ACT_NOTIFY'), true, true), "the init's later syscalls may go to the agent");
  t.doesNotThrow(() => checkInitNeeds(denying(['write'], 'SCMP_ACT_NOTIFY'), true, false), 'without a listener (noNewPrivileges) write is not needed');
  t.throws(() => checkInitNeeds(denying(['capset']), true, true), /the filter refuses capset, which tsrun-init needs after loading it: with a notify listener .*; allow capset$/, 'noNewPrivileges does not move the filter after the setup when there is a listener');
});
