// What tsrun-init itself must still be allowed to do once the container's
// seccomp filter is loaded. The compiled filter is run on each of those
// syscalls at plan time, so that a profile that would stop the init is
// refused at create, naming the syscall, rather than failing later with
// whatever the init happened to be doing (a broken pipe, a cwd "outside
// the container").
import { TsrunError } from '../errors';
import { allows, nativeSyscalls, SECCOMP_RET, seccompEvaluator } from './seccomp-evaluate';

const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;

// In the order the init makes them; each is fatal when refused, or (umask,
// fcntl on the preserved fds, close) would quietly change the process.
// - With noNewPrivileges the filter goes in after the wait for start: only
//   the program's execve follows (startContainer hooks run under the filter
//   as the container's own processes, and report their own failures).
// - Without, loading it needs CAP_SYS_ADMIN, so it goes in before the user
//   and capabilities are set (as runc does), and all of this follows.
// - With a notify listener the filter goes in before the wait for start
//   (the listener reaches tsrun over the channel, closed after it): without
//   noNewPrivileges where it does anyway; with it, after the user and
//   capabilities are set (as runc), and the channel work follows. The
//   listener is sent with write and sendmsg (a failure reported with
//   writev): startSeccompCompile refuses NOTIFY on them by name.
// A notified syscall never counts as allowed here: the agent may answer
// success without making it, and the init would go on believing it had
// dropped its privileges, or was in its working directory.
const withNoNewPrivileges: [string, bigint?][] = [['execve']];
const withNoNewPrivilegesAndListener: [string, bigint?][] = [['write'], ['sendmsg'], ['read'], ['close'], ['fcntl'], ['execve']];
const withoutNoNewPrivileges: [string, bigint?][] = [
  ['prctl', BigInt(PR_CAPBSET_DROP)],
  ['setgroups'],
  ['setresgid'],
  ['setresuid'],
  ['prctl', BigInt(PR_SET_KEEPCAPS)],
  ['capset'],
  ['prctl', BigInt(PR_CAP_AMBIENT)],
  ['chdir'],
  ['getcwd'],
  ['umask'],
  ['newfstatat'],
  ['write'],
  ['read'],
  ['close'],
  ['fcntl'],
  ['execve'],
];

/** Throws a TsrunError naming linux.seccomp and the first syscall of the init's that `bpf` refuses. */
export function checkInitNeeds(bpf: Buffer, noNewPrivileges: boolean, listener = false): void {
  const native = nativeSyscalls;
  if (!native) return; // an architecture whose numbers we do not carry: the init reports at run time
  const needs = noNewPrivileges ? (listener ? withNoNewPrivilegesAndListener : withNoNewPrivileges) : withoutNoNewPrivileges;
  const evaluate = seccompEvaluator(bpf);
  for (const [name, arg0] of needs) {
    const nr = native.nr[name];
    if (nr === undefined) continue;
    const verdict = evaluate({ nr, arch: native.arch, args: arg0 === undefined ? [] : [arg0] });
    if (allows(verdict)) continue;
    if (name === 'execve') throw new TsrunError('the filter refuses execve, so the program could never start', 'linux.seccomp');
    const when = noNewPrivileges ? 'with a notify listener the filter is loaded before the wait for start, and the channel to tsrun is used after it' : "without process.noNewPrivileges the filter is loaded before the process's user and capabilities are set (as runc does)";
    const remedy = noNewPrivileges ? `allow ${name}` : `allow ${name}, or set noNewPrivileges so that only execve is needed`;
    const how = verdict.action === SECCOMP_RET.USER_NOTIF ? 'notifies (an agent could answer without making it)' : 'refuses';
    throw new TsrunError(`the filter ${how} ${name}, which tsrun-init needs after loading it: ${when}; ${remedy}`, 'linux.seccomp');
  }
}
