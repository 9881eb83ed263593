// The one way tsrun starts tsrun-init and talks to it, for create (the
// standard kind) and exec (the join kind); hooks in a container's
// namespaces (the hook kind) take the same executable and arguments, but
// are run with a timeout and their output kept (src/lifecycle/hooks.ts).
// Here: spawn it from the sealed executable with exactly the fds it needs
// and the cgroups it puts itself in first, let the caller note its pid
// before it reads anything, send the plan, then answer its messages until
// it is ready. An error it reports comes back as a TsrunError
// naming the config field of the record it was applying.
import { closeSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { TsrunError } from '../errors';
import { warn } from '../log';
import { initHelperPath, native } from '../native/addon';
import { Channel, type Frame } from './channel';
import { type FdName, Msg, type PlanRecord, encodePlan } from './protocol';

export type InitKind = 'standard' | 'join' | 'hook';

const kindFlag: Record<InitKind, string> = { standard: '--sync-fd', join: '--join', hook: '--hook' };

/**
 * The cgroups tsrun-init puts itself in first thing, before it reads its
 * plan (addon/init/join_cgroups.cc: faster than tsrun writing its pid to
 * cgroup.procs, which waits for the kernel's RCU).
 */
export interface InitCgroups {
  /** v1 hierarchies' directories. */
  v1: string[];
  /** The cgroup v2 directory (on a hybrid host the unified hierarchy's). */
  v2?: string;
  /** The field a cgroup that cannot be joined is reported under. */
  field: string;
}

/** tsrun-init's arguments for a kind, its channel at fd (argv[0] is the caller's), the oom_score_adj it gives itself, and the cgroups it joins. */
export function initArgs(kind: InitKind, fd: number, oomScoreAdj?: number, cgroups?: InitCgroups): string[] {
  const args = [kindFlag[kind], String(fd)];
  if (oomScoreAdj !== undefined) args.push('--oom-score-adj', String(oomScoreAdj));
  for (const dir of cgroups?.v1 ?? []) args.push('--cgroup1', dir);
  if (cgroups?.v2 !== undefined) args.push('--cgroup2', cgroups.v2);
  return args;
}

/** The cgroups in `cgroups`, in the order tsrun-init's report counts them. */
function cgroupAt(cgroups: InitCgroups, index: number): string | undefined {
  return [...cgroups.v1, ...(cgroups.v2 === undefined ? [] : [cgroups.v2])][index];
}

export interface LaunchOptions {
  kind: InitKind;
  records: PlanRecord[];
  /** The fds the records name, as numbers in this process. */
  fds: Partial<Record<FdName, number>>;
  /** Fds passed on besides stdio and the channel (preserved fds, the ones `fds` names). */
  keep: number[];
  /** The cgroups it joins before it reads its plan (none: it stays in tsrun's). */
  cgroups?: InitCgroups;
  /** Called with the helper's pid, in its cgroups, before it reads its plan. */
  place(pid: number): void;
  /** process.oomScoreAdj, which tsrun-init writes for itself first thing (its children inherit it). */
  oomScoreAdj?: number;
}

export interface Launched {
  pid: number;
  channel: Channel;
}

function strerror(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;
}

export function launchInit(opts: LaunchOptions): Launched {
  const [ours, theirs] = native().socketpair();
  const channel = new Channel(ours);
  let pid: number;
  try {
    const exe = native().openHelper(initHelperPath);
    try {
      const joins = !!opts.cgroups && (opts.cgroups.v1.length > 0 || opts.cgroups.v2 !== undefined);
      pid = native().spawnInit(exe, ['tsrun-init', ...initArgs(opts.kind, theirs, opts.oomScoreAdj, opts.cgroups)], [0, 1, 2, ...opts.keep, theirs], joins);
    } catch (err) {
      const index = (err as { cgroupIndex?: number }).cgroupIndex;
      const dir = opts.cgroups && index !== undefined ? cgroupAt(opts.cgroups, index) : undefined;
      if (dir === undefined) throw err;
      throw new TsrunError(`cannot join the cgroup ${dir}: ${strerror((err as { errno: number }).errno)}`, opts.cgroups!.field);
    } finally {
      closeSync(exe);
      closeSync(theirs);
    }
  } catch (err) {
    channel.close();
    throw err;
  }
  try {
    opts.place(pid);
    channel.send(Msg.PLAN, encodePlan(opts.records, opts.fds));
  } catch (err) {
    channel.close();
    try {
      process.kill(pid, 'SIGKILL');
      native().waitPid(pid, false);
    } catch {
      // gone already
    }
    throw err;
  }
  return { pid, channel };
}

/** The error a MSG_ERROR frame carries, naming the field of its record. */
export function initError(frame: Frame, records: PlanRecord[]): TsrunError {
  const ref = frame.payload.readUInt32LE(0);
  const errno = frame.payload.readInt32LE(4);
  const text = frame.payload.subarray(8).toString();
  return new TsrunError(errno ? `${text}: ${strerror(errno)}` : text, records[ref]?.field);
}

export interface HandshakeHandlers {
  /** The init unshared a user namespace: write its id maps. */
  idmap?(): void;
  /** The pid of the process that will exec the program (on the host). */
  pid(pid: number): void;
  /** Run the hooks of a stage now (create's). */
  hooks?(stage: string): void;
  /** Move linux.netDevices into the container's network namespace now. */
  netDevices?(): void;
  /** The seccomp notify listener (tsrun closes the fd after): hand it to the agent. */
  seccompFd?(fd: number): void;
  /** The seccomp program the plan left out (create compiles it meanwhile). */
  seccompProgram?(): Buffer;
  /** The channel ended before READY: say why. */
  ended(): TsrunError;
}

/** Answers tsrun-init until it reports READY (it then waits for an ACK). */
export function handshake(channel: Channel, records: PlanRecord[], on: HandshakeHandlers): void {
  for (;;) {
    const frame = channel.recv();
    if (!frame) throw on.ended();
    switch (frame.type) {
      case Msg.IDMAP:
        if (!on.idmap) throw new TsrunError('tsrun-init asked for id maps without a new user namespace');
        on.idmap();
        channel.send(Msg.ACK);
        break;
      case Msg.PID:
        on.pid(Number(frame.payload.toString()));
        break;
      case Msg.HOOKS:
        if (!on.hooks) throw new TsrunError('tsrun-init asked for hooks where there are none');
        on.hooks(frame.payload.toString());
        channel.send(Msg.ACK);
        break;
      case Msg.NET_DEVICES:
        if (!on.netDevices) throw new TsrunError('tsrun-init asked for network devices where there are none');
        on.netDevices();
        channel.send(Msg.ACK);
        break;
      case Msg.SECCOMP_FD: {
        if (!on.seccompFd) throw new TsrunError('tsrun-init sent a seccomp listener where none was planned');
        // The init is blocked on our ACK: its one byte with the fd is all
        // there is to read.
        const fd = native().recvFd(channel.fd);
        try {
          on.seccompFd(fd);
        } finally {
          closeSync(fd);
        }
        channel.send(Msg.ACK);
        break;
      }
      case Msg.SECCOMP_PROGRAM:
        if (!on.seccompProgram) throw new TsrunError('tsrun-init asked for a seccomp program the plan did not leave out');
        channel.send(Msg.FILTER, on.seccompProgram());
        break;
      case Msg.WARN:
        warn(frame.payload.toString());
        break;
      case Msg.ERROR:
        throw initError(frame, records);
      case Msg.READY:
        return;
      default:
        throw new TsrunError(`unexpected message ${frame.type} from tsrun-init`);
    }
  }
}
