// create (runtime.md "Create"): validate, plan, then start tsrun-init and
// drive it through the handshake until the container waits for start.
// Whatever fails on the way is undone before the error is reported: no
// state directory, cgroup, mount or process is left behind.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { cgroupHost } from '../cgroups/host';
import { type CgroupRecord, cgroupManager, planCgroups } from '../cgroups/manager';
import { applyIntelRdt } from '../cgroups/resctrl';
import { isRootless } from '../rootless';
import { TsrunError, messageOf } from '../errors';
import type { Channel } from '../init/channel';
import { handshake, launchInit } from '../init/launcher';
import { Msg } from '../init/protocol';
import { debug, warn } from '../log';
import { native } from '../native/addon';
import { type ContainerPlan, planContainer } from '../plan/plan';
import { loadBundle } from '../spec/load';
import { type Spec, startWaitsForProgram } from '../spec/types';
import { startTimeOf } from '../state/proc';
import { nowMs } from '../util/sleep';
import { isoNow } from '../util/time';
import type { StateRecord } from '../state/record';
import { ContainerDir, writeFileAtomic } from '../state/store';
import { HookError, containerNamespaces, hookState, pidInContainer, runHooks, runPoststop } from './hooks';
import { writeIdMaps } from './idmaps';
import { moveNetDevices } from './net-devices';
import { sendSeccompListener } from './seccomp-listener';
import { killAndWait, teardown } from './teardown';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** --rootless: true, false or auto. */
  rootless?: string;
  /** An already connected console socket (run with a terminal of its own). */
  consoleSocketFd?: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export interface Created {
  pid: number;
  record: StateRecord;
  /** Whether the container has a terminal (its master went to the console socket). */
  terminal: boolean;
}

// The fds to pass on are the caller's word, as with runc: Node marks the
// fds it inherits from 3 up close-on-exec at startup, as its own fds are,
// so nothing tells them apart. They must at least be open.
function checkOpen(fd: number): void {
  try {
    fstatSync(fd);
  } catch {
    throw new TsrunError(`fd ${fd} is not open`, '--preserve-fds');
  }
}

/** socket-activation fds handed to us (LISTEN_FDS with our LISTEN_PID). */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return n > 0 && Number(process.env.LISTEN_PID) === process.pid ? n : 0;
}

/** Reads, validates and plans: nothing is created yet. */
export function prepare(opts: CreateOptions): { spec: Spec; bundleDir: string; plan: ContainerPlan; listen: number } {
  const { dir: bundleDir, spec } = loadBundle(opts.bundle);
  const terminal = !!spec.process?.terminal;
  const socket = opts.consoleSocket !== undefined || opts.consoleSocketFd !== undefined;
  if (terminal && !socket) throw new TsrunError('cannot allocate a terminal without --console-socket', 'process.terminal');
  if (!terminal && opts.consoleSocket !== undefined) throw new TsrunError('--console-socket needs process.terminal to be true', 'process.terminal');
  const listen = listenFds();
  for (let fd = 3; fd < 3 + listen + opts.preserveFds; fd++) checkOpen(fd);
  const rootless = isRootless(opts.rootless);
  const plan = planContainer(spec, { root: opts.root, id: opts.id, bundle: bundleDir, noPivot: opts.noPivot, noNewKeyring: opts.noNewKeyring, preserveFds: listen + opts.preserveFds, listenFds: listen, rootless }, cgroupHost());
  return { spec, bundleDir, plan, listen };
}

/** The state record of a container being created. */
export function newRecord(opts: CreateOptions, spec: Spec, bundleDir: string, plan: ContainerPlan, cgroup: CgroupRecord): StateRecord {
  return {
    id: opts.id,
    bundle: bundleDir,
    rootfs: plan.rootfs,
    phase: 'creating',
    created: isoNow(),
    owner: '',
    annotations: spec.annotations,
    cgroup,
    ownPidNamespace: plan.ownPidNamespace,
    noNewKeyring: opts.noNewKeyring,
    config: spec as unknown as Record<string, unknown>,
  };
}

export function create(opts: CreateOptions): Created {
  const { spec, bundleDir, plan, listen } = prepare(opts);
  for (const w of plan.warnings) warn(w);

  // The id is claimed first: of two creates of one id, the second fails
  // here ("exists"), before it could find the first one's cgroup busy.
  const dir = ContainerDir.create(opts.root, opts.id);
  let cgroup;
  try {
    cgroup = planCgroups(plan.cgroupDirs, spec.linux?.cgroupsPath === undefined);
    if (plan.unwritableCgroups) {
      cgroup.unwritable = plan.unwritableCgroups;
      cgroup.rootless = true;
    }
  } catch (err) {
    dir.remove();
    dir.unlock();
    throw err;
  }
  const record = newRecord(opts, spec, bundleDir, plan, cgroup);
  const opened: number[] = [];
  let channel: Channel | undefined;
  try {
    // Written before anything exists, so that a tsrun killed at any point
    // leaves enough for `delete --force` to find and undo.
    dir.write(record);
    native().mkfifo(dir.fifoPath, 0o622);
    // Every resource is in place before a process of the container exists:
    // a field that cannot be applied fails here, and the teardown below
    // removes what was made.
    const cgroups = cgroupManager(record.cgroup);
    const resources = spec.linux?.resources;
    cgroups.create(resources);
    cgroups.apply(resources);

    // The init holds the fifo read-write, so its read blocks until start writes.
    const fifo = openSync(dir.fifoPath, 'r+');
    opened.push(fifo);
    // Where the init tells `start` how the startContainer hooks went.
    let startReport: number | undefined;
    if (startWaitsForProgram(spec)) {
      native().mkfifo(dir.startReportPath, 0o600);
      startReport = openSync(dir.startReportPath, 'r+');
      opened.push(startReport);
    }
    let consoleFd = opts.consoleSocketFd;
    if (opts.consoleSocket !== undefined) {
      consoleFd = native().connectUnix(opts.consoleSocket);
      opened.push(consoleFd);
    }
    const keep: number[] = [];
    for (let fd = 3; fd < 3 + listen + opts.preserveFds; fd++) keep.push(fd);
    keep.push(fifo);
    if (startReport !== undefined) keep.push(startReport);
    if (consoleFd !== undefined) keep.push(consoleFd);
    // The container's setup proper, without Node's start and the planning
    // (npm run bench reads this line).
    const setupStart = nowMs();
    const launched = launchInit({
      kind: 'standard',
      records: plan.records,
      fds: { execFifo: fifo, consoleSocket: consoleFd, startReport },
      keep,
      oomScoreAdj: plan.oomScoreAdj,
      // Joined before the helper reads its plan, so that the container never
      // runs outside them.
      cgroups: { ...cgroups.joins(), field: 'linux.cgroupsPath' },
      place: (pid) => {
        record.helper = { pid, startTime: startTimeOf(pid) ?? '' };
        dir.write(record);
        debug(`tsrun-init started as pid ${pid}`);
        // Before the helper reads its plan, as its cgroups: its resctrl
        // group, which its children inherit.
        if (plan.intelRdt) {
          record.intelRdt = applyIntelRdt(plan.intelRdt, pid);
          dir.write(record);
        }
      },
    });
    channel = launched.channel;
    for (const fd of opened.splice(0)) closeSync(fd); // the init has them now
    initHandshake(channel, plan, record, dir, launched.pid);
    debug(`tsrun-init reported ready ${(nowMs() - setupStart).toFixed(2)} ms after its spawn`);

    record.phase = 'created';
    dir.write(record);
    if (opts.pidFile) writeFileAtomic(opts.pidFile, String(record.init!.pid));
    channel.send(Msg.ACK);
    channel.close();
    channel = undefined;
    return { pid: record.init!.pid, record, terminal: plan.terminal };
  } catch (err) {
    channel?.close();
    for (const fd of opened) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    try {
      killAndWait([record.init, record.helper]);
      reap(record.helper?.pid);
      teardown(dir, record);
      // A failed hook stops the container and the lifecycle goes on with
      // its destruction, poststop hooks included (runtime.md "Lifecycle").
      if (err instanceof HookError) runPoststop(spec, hookState(record, 'stopped', 0));
    } catch (cleanup) {
      warn(`cleanup after a failed create: ${messageOf(cleanup)}`);
    }
    throw err;
  } finally {
    dir.unlock();
  }
}

function reap(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    native().waitPid(pid, true);
  } catch {
    // not our child (anymore)
  }
}

// Answers tsrun-init until it reports that the container is ready.
function initHandshake(channel: Channel, plan: ContainerPlan, record: StateRecord, dir: ContainerDir, helperPid: number): void {
  handshake(channel, plan.records, {
    idmap: plan.idMaps ? () => writeIdMaps(helperPid, plan.idMaps!) : undefined,
    pid: (pid) => {
      record.init = { pid, startTime: startTimeOf(pid) ?? '' };
      dir.write(record);
      if (pid !== helperPid) native().waitPid(helperPid, false); // the intermediate process exits now
    },
    hooks: () => {
      // A filter that cannot be compiled, or that refuses tsrun-init's own
      // syscalls, fails create before any hook has run, as it did when the
      // compile came before tsrun-init (tsrun-init asks for the program
      // after the hooks; this waits for it, once).
      plan.seccompProgram?.();
      const init = record.init!;
      const base = { id: record.id, bundle: record.bundle, annotations: record.annotations };
      const spec = record.config as unknown as Spec;
      runHooks(spec, 'prestart', hookState(base, 'creating', init.pid));
      runHooks(spec, 'createRuntime', hookState(base, 'creating', init.pid));
      runHooks(spec, 'createContainer', hookState(base, 'creating', pidInContainer(init.pid)), {
        pid: init.pid,
        namespaces: containerNamespaces(spec),
      });
    },
    seccompProgram: plan.seccompProgram,
    netDevices: () => moveNetDevices((record.config as unknown as Spec).linux!.netDevices!, record.init!.pid, record.init!.startTime),
    seccompFd: plan.seccompListener
      ? (fd) => {
          const pid = record.init!.pid;
          sendSeccompListener(plan.seccompListener!, fd, pid, hookState({ id: record.id, bundle: record.bundle, annotations: record.annotations }, 'creating', pid));
        }
      : undefined,
    ended: () => {
      // The intermediate process is reaped once it reports the init's pid;
      // an init in its own pid namespace is not our child to wait for.
      if (record.init && record.init.pid !== helperPid) return new TsrunError('container init exited before it was ready');
      const status = native().waitPid(helperPid, false);
      const how = status.signal !== undefined ? `was killed by signal ${status.signal}` : `exited with status ${status.code}`;
      return new TsrunError(`container init ${how} before it was ready`);
    },
  });
}
