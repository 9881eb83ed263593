// What tsrun-init itself must still be allowed to do once the container's
// seccomp filter is loaded. The compiled filter is run on each of those
// syscalls at plan time, so that a profile that would stop the init is
// refused at create, naming the syscall, rather than failing later with
// whatever the init happened to be doing (a broken pipe, a cwd "outside
// the container").
import { TsrunError } from '../errors';
import { allows, evaluateSeccomp, nativeSyscalls, SECCOMP_RET } from './seccomp-evaluate';

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
// - With a notify listener, at that same point with or without
//   noNewPrivileges (the listener must reach tsrun before the wait for
//   start), and first the listener is sent: write (the frame) and sendmsg
//   (the fd) reach no agent yet, so they must be allowed outright; after
//   that, a notified syscall is the agent's to answer.
const withNoNewPrivileges: [string, bigint?][] = [['execve']];
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

const listenerHandover = ['write', 'sendmsg'];

/** Throws a TsrunError naming linux.seccomp and the first syscall of the init's that `bpf` refuses. */
export function checkInitNeeds(bpf: Buffer, noNewPrivileges: boolean, listener = false): void {
  const native = nativeSyscalls;
  if (!native) return; // an architecture whose numbers we do not carry: the init reports at run time
  const verdict = (name: string, arg0?: bigint) => evaluateSeccomp(bpf, { nr: native.nr[name], arch: native.arch, args: arg0 === undefined ? [] : [arg0] });
  if (listener) {
    for (const name of listenerHandover) {
      if (native.nr[name] === undefined || allows(verdict(name))) continue;
      throw new TsrunError(`the filter does not allow ${name}, with which tsrun-init sends the notify listener (SCMP_ACT_NOTIFY cannot be used for ${name})`, 'linux.seccomp');
    }
  }
  for (const [name, arg0] of noNewPrivileges && !listener ? withNoNewPrivileges : withoutNoNewPrivileges) {
    if (native.nr[name] === undefined) continue;
    const v = verdict(name, arg0);
    if (allows(v) || (listener && v.action === SECCOMP_RET.USER_NOTIF)) continue;
    if (name === 'execve') throw new TsrunError('the filter refuses execve, so the program could never start', 'linux.seccomp');
    const when = listener ? 'with a notify listener' : 'without process.noNewPrivileges';
    const remedy = listener ? `allow ${name}` : `allow ${name}, or set noNewPrivileges so that only execve is needed`;
    throw new TsrunError(
      `the filter refuses ${name}, which tsrun-init needs after loading it: ${when} the filter is loaded before the process's user and capabilities are set (as runc does); ${remedy}`,
      'linux.seccomp',
    );
  }
}
