// exec: a new process in a running container, as runc's. tsrun-init's join
// kind enters the namespaces and root of the container's init, after it has
// put itself in the container's cgroups, and then goes through the same
// process stage as the init (user, capabilities, rlimits, NNP, seccomp).
// Attached, tsrun waits and exits with the process's status; detached, it
// returns once the program has been exec'd, with --pid-file written.
import { closeSync, constants, fstatSync, openSync, readlinkSync } from 'node:fs';
import { TsrunError, errnoCode } from '../errors';
import type { Channel } from '../init/channel';
import { handshake, initError, launchInit } from '../init/launcher';
import { Msg } from '../init/protocol';
import { attach } from '../lifecycle/attach';
import { warn } from '../log';
import { native } from '../native/addon';
import { NS_FILE } from '../plan/clone';
import { type InitHandles, planExec } from '../plan/exec';
import { containerNamespaces, hookState } from '../lifecycle/hooks';
import { sendSeccompListener } from '../lifecycle/seccomp-listener';
import { processState } from '../state/proc';
import { writeFileAtomic } from '../state/store';
import { Container } from './container';
import { enterExecCgroups, execCgroupDirs } from './exec-cgroup';
import { type ProcessFlags, execProcess } from './exec-process';

export interface ExecOptions extends ProcessFlags {
  root: string;
  id: string;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
  cgroup: string[];
}

// runc's words for a stopped or paused container. A created one is refused
// too: its init has not run the program yet (runc lets it through).
/** Whether the container is paused (exec'd with --ignore-paused), or an error. */
function checkStatus(c: Container, ignorePaused: boolean): boolean {
  const status = c.status();
  if (status === 'running') return false;
  if (status === 'paused') {
    if (ignorePaused) return true;
    throw new TsrunError('cannot exec in a paused container (use --ignore-paused to override)');
  }
  if (status === 'created') throw new TsrunError(`cannot exec in a created container: start ${c.id} first`);
  throw new TsrunError(`cannot exec in a ${status} container`);
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}

interface Started {
  pid: number;
  /** Our end of the terminal socket, when tsrun proxies the terminal itself. */
  terminalSocket?: number;
}

// Everything up to the program's execve. The container's lock is held until
// the process is in the container's cgroups: a delete waits until then.
function startProcess(c: Container, opts: ExecOptions): Started {
  const paused = checkStatus(c, opts.ignorePaused);
  const proc = execProcess(opts, c.spec);
  const ownTerminal = proc.terminal && opts.consoleSocket === undefined;
  if (ownTerminal && opts.detach) throw new TsrunError('cannot allocate a terminal for a detached process without --console-socket', '--tty');
  if (!proc.terminal && opts.consoleSocket !== undefined) throw new TsrunError('--console-socket needs a terminal (--tty or process.terminal)', '--console-socket');
  const handles = openInit(c);
  const plan = planExec(c.id, c.spec, proc, handles.paths, { preserveFds: opts.preserveFds, newKeyring: !c.rec.noNewKeyring, root: opts.root });
  for (const w of plan.warnings) warn(w);
  const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
  const cgroupDirs = execCgroupDirs(c.rec.cgroup.dirs, opts.cgroup);
  // Attached, the process is ours to wait for even after the fork into the
  // container's pid namespace makes it a grandchild.
  if (!opts.detach) native().setChildSubreaper();

  let pair: [number, number] | undefined;
  let consoleFd: number | undefined;
  let channel: Channel | undefined;
  let helper: number | undefined;
  let pid: number | undefined;
  try {
    if (ownTerminal) {
      pair = native().socketpair();
      consoleFd = pair[1];
    } else if (opts.consoleSocket !== undefined) {
      consoleFd = native().connectUnix(opts.consoleSocket);
    }
    const launched = launchInit({
      kind: 'join',
      records: plan.records,
      fds: { consoleSocket: consoleFd },
      keep: [...preserved, ...handles.fds, ...(consoleFd === undefined ? [] : [consoleFd])],
      oomScoreAdj: plan.oomScoreAdj,
      cgroups: paused ? undefined : { ...cgroupDirs, field: opts.cgroup.length ? '--cgroup' : 'linux.cgroupsPath' },
      place: (p) => {
        helper = p;
        if (paused) enterExecCgroups(cgroupDirs, p);
        if (c.rec.intelRdt) (require('../cgroups/resctrl') as typeof import('../cgroups/resctrl')).joinIntelRdt(c.rec.intelRdt, p);
      },
    });
    channel = launched.channel;
    // In the cgroups now, where delete --force and kill --all find it: the
    // lock can go. (Held on, a resume would wait for an exec --ignore-paused
    // that waits for the resume.)
    c.unlock();
    closeQuietly(consoleFd);
    consoleFd = undefined;
    handshake(channel, plan.records, {
      pid: (p) => {
        pid = p;
        if (p !== helper) {
          native().waitPid(helper!, false); // the intermediate process exits now
          helper = undefined;
        }
      },
      // As runc: the state is the container's (running, its init's pid);
      // the message's pid is the exec'd process's.
      seccompFd: plan.seccompListener
        ? (fd) => sendSeccompListener(plan.seccompListener!, fd, pid!, hookState({ id: c.id, bundle: c.rec.bundle, annotations: c.rec.annotations }, 'running', c.rec.init!.pid))
        : undefined,
      ended: () => new TsrunError(`tsrun-init exited before the process was ready in container ${c.id}`),
    });
    channel.send(Msg.ACK);
    // The channel ends when the program's execve closes it; a message
    // instead is the error that stopped it.
    const frame = channel.recv();
    if (frame?.type === Msg.ERROR) throw initError(frame, plan.records);
    if (frame) throw new TsrunError(`unexpected message ${frame.type} from tsrun-init`);
    if (opts.pidFile) writeFileAtomic(opts.pidFile, String(pid));
    return { pid: pid!, terminalSocket: pair?.[0] };
  } catch (err) {
    // The process that reported its pid exits by itself: after an error, or
    // when it finds the channel closed while it waits for the ACK. Only the
    // helper, ours until reaped, is killed: no pid that may be reused is.
    channel?.close();
    channel = undefined;
    if (helper !== undefined) {
      try {
        process.kill(helper, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const p of [helper, pid]) {
      if (p === undefined) continue;
      try {
        native().waitPid(p, false);
      } catch (e) {
        if (errnoCode(e) !== 'ECHILD') warn(`cleanup after a failed exec: ${String(e)}`);
      }
    }
    closeQuietly(pair?.[0]);
    throw err;
  } finally {
    channel?.close();
    closeQuietly(consoleFd);
    closeQuietly(pair?.[1]);
    for (const fd of handles.fds) closeQuietly(fd);
  }
}

// The init's namespaces and root, opened here under a pidfd: they are the
// init's only if it is still alive once they are open (a pid checked and
// then opened by path later could have been reused by a host process).
function openInit(c: Container): { paths: InitHandles; fds: number[] } {
  const init = c.rec.init!;
  const gone = () => new TsrunError(`cannot exec in a stopped container`);
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(init.pid);
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') throw gone();
    throw err;
  }
  const fds: number[] = [];
  try {
    if (processState(init.pid, init.startTime) !== 'alive') throw gone();
    const paths: InitHandles = { ns: {} };
    const O_PATH = 0o10000000;
    for (const type of containerNamespaces(c.spec)) {
      const fd = openSync(`/proc/${init.pid}/ns/${NS_FILE[type]}`, constants.O_RDONLY);
      fds.push(fd);
      paths.ns[type] = `/proc/self/fd/${fd}`;
    }
    const root = openSync(`/proc/${init.pid}/root`, O_PATH | constants.O_DIRECTORY);
    fds.push(root);
    paths.root = `/proc/self/fd/${root}`;
    try {
      native().pidfdSendSignal(pidfd, 0); // still alive: what was opened is its
    } catch {
      throw gone();
    }
    return { paths, fds };
  } catch (err) {
    for (const fd of fds) closeQuietly(fd);
    throw err;
  } finally {
    closeSync(pidfd);
  }
}

// Checked before tsrun opens anything of its own: a number the caller did
// not pass could otherwise be one of tsrun's fds (the container's lock, a
// directory of the host). Node's own (epoll, eventfd...) are refused too.
function checkPreservedFds(n: number): void {
  for (let fd = 3; fd < 3 + n; fd++) {
    let target: string;
    try {
      fstatSync(fd);
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new TsrunError(`fd ${fd} is not open`, '--preserve-fds');
    }
    if (target.startsWith('anon_inode:')) throw new TsrunError(`fd ${fd} is tsrun's own (${target}), not one passed to it`, '--preserve-fds');
  }
}

export async function exec(opts: ExecOptions): Promise<number> {
  checkPreservedFds(opts.preserveFds);
  const c = Container.open(opts.root, opts.id, 'shared');
  let started: Started;
  try {
    started = startProcess(c, opts);
  } finally {
    c.unlock();
  }
  if (opts.detach) return 0;
  let master: number | undefined;
  if (started.terminalSocket !== undefined) {
    master = native().recvFd(started.terminalSocket);
    closeSync(started.terminalSocket);
  }
  return attach(started.pid, master);
}
