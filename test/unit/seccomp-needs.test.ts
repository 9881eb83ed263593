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

// With a notify listener (config-linux.md "Seccomp") the filter goes in
// before the wait for start. A notified syscall of the init's counts as
// refused: an agent could answer success without making it (a privilege
// drop that never happened). NOTIFY on the syscalls the listener is handed
// over with is refused by name, whatever its conditions (runc: write).
t.test('with a notify listener: what the init needs is allowed outright', async (t) => {
  if (!nativeSyscalls) return t.skip('no syscall table for this architecture');
  for (const name of ['write', 'writev', 'sendmsg']) {
    t.throws(() => denying([name], 'SCMP_ACT_NOTIFY'), new RegExp(`^linux\\.seccomp\\.syscalls\\[0\\]\\.names: SCMP_ACT_NOTIFY cannot be used for ${name}: tsrun-init sends the notify listener with it$`));
  }
  t.throws(() => checkInitNeeds(denying(['setresuid'], 'SCMP_ACT_NOTIFY'), false, true), /^linux\.seccomp: the filter notifies \(an agent could answer without making it\) setresuid, which tsrun-init needs after loading it: without process\.noNewPrivileges/, 'a privilege drop the agent could fake');
  t.throws(() => checkInitNeeds(denying(['read'], 'SCMP_ACT_NOTIFY'), true, true), /^linux\.seccomp: the filter notifies \(an agent could answer without making it\) read, .*with a notify listener the filter is loaded before the wait for start.*; allow read$/, 'noNewPrivileges: the channel work after it');
  t.doesNotThrow(() => checkInitNeeds(denying(['setresuid', 'capset', 'chdir', 'mkdir'], 'SCMP_ACT_NOTIFY'), true, true), 'noNewPrivileges: loaded after the user and capabilities are set');
  t.doesNotThrow(() => checkInitNeeds(denying(['mkdir', 'mkdirat'], 'SCMP_ACT_NOTIFY'), false, true), "the program's syscalls are the agent's");
});
