// The messages tsrun prints where runc's clients decide what happened by
// reading runc's message. They do not parse it: they look for a few of
// runc's words in the error text (the runtime's stderr, which go-runc folds
// into the error, or the last "error" line of the --log json file), and
// treat the failure differently when they find them. A kill that fails with
// "container not running" is, to containerd, a process that has already
// finished; with other words it is an unknown error, and the CRI then never
// sees the container stop. So each message below keeps tsrun's own wording
// but contains runc's words verbatim, and exits with runc's status.
//
// runc 1.1.5 (Debian 12) was run on an ordinary busybox bundle for each case;
// the clients' code was read at the versions installed here (containerd
// 1.6.20 and its go-runc v1.0.0, podman 4.3.1, conmon 2.1.6) and at cri-o
// 1.26. The words a client matches, and where:
//
//   "container not running"  containerd runc shim, pkg/process/utils.go checkKillError:
//                            a failed kill is "process already finished" (NotFound),
//                            which the CRI's StopContainer/StopPodSandbox and
//                            WithProcessKill accept as stopped.
//   "no such process"        same place, lower-cased: the race where the init exits
//                            between the status check and the signal (runc: "unable
//                            to signal init: no such process"); tsrun says "container
//                            not running" then too.
//   "process already finished"  same place; Go's os.ErrProcessDone, never runc's text.
//   "does not exist"         containerd: checkKillError (a kill of a container that is
//                            gone is NotFound) and pkg/process/init.go delete (a delete
//                            of a container that is gone succeeds); podman 4.3
//                            libpod/oci_conmon_common.go UpdateContainerStatus, on the
//                            stderr of `state` ("does not exist" or "No such file": the
//                            container exited; 4.3.1 only looks when the command could
//                            not be started at all).
//
// podman (beyond the line above), conmon and cri-o go by the exit status
// only: conmon hands the runtime's stderr of a failed create to podman,
// which sorts it by getOCIRuntimeError's patterns ("permission denied",
// "operation not permitted", "executable file not found in", "no such file
// or directory"); those are errors of create (the container's program) and
// are not in this table. containerd reads the last {"level":"error"} line
// of --log for create, start, delete and kill --all failures
// (runtimeError), which is why every error goes to --log (src/log.ts).
//
// Case by case (ID the container's id; exit status in parentheses):
//
// | case                             | runc 1.1.5                                                | tsrun                                                      | matched by |
// |----------------------------------|-----------------------------------------------------------|------------------------------------------------------------|------------|
// | kill of a stopped container      | container not running (1)                                 | cannot kill container ID: container not running (it has stopped) (1) | containerd shim: "container not running" |
// | kill, the init exits meanwhile   | unable to signal init: no such process (1)                | as for a stopped container (1)                             | containerd shim: "container not running" |
// | kill --all of a stopped one      | signals what is left in its cgroups, maybe nothing (0)    | the same (0)                                               | containerd shim KillAll once the init exits (no own pid namespace); podman (status) |
// | kill of an unknown id            | container does not exist (1)                              | container does not exist: ID (1)                           | containerd shim: "does not exist" |
// | delete of an unknown id          | container does not exist (1)                              | container does not exist: ID (1)                           | containerd shim delete: "does not exist" |
// | delete --force of an unknown id  | (0)                                                       | (0)                                                        | podman, cri-o, containerd shim cleanup (status) |
// | state of an unknown id           | container does not exist (1)                              | container does not exist: ID (1)                           | podman: "does not exist"; cri-o (status) |
// | start of an unknown id           | container does not exist (1)                              | container does not exist: ID (1)                           | none |
// | delete of a running one          | cannot delete container ID that is not stopped: running (1) | the same (1)                                             | none |
// | start of a running one           | cannot start an already running container (1)             | cannot start container ID: it is running, not created (1)  | none |
// | start of a stopped one           | cannot start a container that has stopped (1)             | cannot start container ID: it is stopped, not created (1)  | none |
// | start of a paused one            | cannot start a container in the paused state (1)          | cannot start a container in the paused state: ID (1)       | none |
// | delete of a paused one           | cannot delete container ID that is not stopped: paused (1) | the same (1)                                              | none |
// | pause of a stopped or paused one | container not running (1)                                 | cannot pause container ID: container not running (it is S) (1) | none |
// | resume of one not paused         | container not paused (1)                                  | cannot resume container ID: container not paused (it is S) (1) | none |
// | pause, the cgroup stays FREEZING | unable to freeze (1), thawed again                        | cannot pause container ID: unable to freeze ... (1), thawed again | none |
// | ps of a stopped container        | the header alone; json: null (0)                          | the header alone; json: [] (0)                             | containerd shim Pids (json, status) |
// | ps, no PID column in ps's output | couldn't find PID field in ps output (1)                  | the same, with ps's arguments (1)                          | none |
// | create with an id in use         | runc create failed: container with given ID already exists (1) | container with given ID already exists: ID (1)        | none |
// | an invalid id                    | invalid container ID format (1)                           | invalid container id "ID": only letters, ... (1)           | none |
// | an empty id                      | container id cannot be empty (1)                          | the same (1)                                               | none |
// | an unknown signal                | unknown signal "FOO" (1)                                  | the same (1), from src/signals.ts                          | none |
//
// Known difference: runc deletes a *created* container without --force
// (it kills the init; delete.go treats Created like Stopped), and
// containerd's shim deletes a created task that way. tsrun refuses, as
// runtime.md requires; conformance/known-failures/runc.json records it.
//
// Known differences around pause: runc 1.1's `kill --all` thaws a paused
// container whatever the signal (its freeze-signal-thaw bracket does not
// remember that it was frozen); tsrun thaws only for SIGKILL, as runc does
// for a kill of the init, so that a paused container stays paused and the
// signal waits for resume. `ps --format json` of a stopped container prints
// [] where runc prints null (Go's nil slice); go-runc decodes both alike.
//
// Where no client matches, runc's words are kept anyway when they cost
// nothing, never at the expense of saying which container and why.
// test/unit/messages.test.ts holds the client words independently of this
// file: a message reworded without them fails it.

/** The words of runc's messages that clients look for. */
export const runcWords = {
  notRunning: 'container not running',
  doesNotExist: 'does not exist',
  alreadyExists: 'container with given ID already exists',
  notStopped: 'that is not stopped',
  emptyId: 'container id cannot be empty',
  unknownSignal: 'unknown signal',
  notPaused: 'container not paused',
  startPaused: 'cannot start a container in the paused state',
  unableToFreeze: 'unable to freeze',
  noPidField: "couldn't find PID field in ps output",
} as const;

export const messages = {
  /** Any command on an id with no container (runc: "container does not exist"). */
  doesNotExist: (id: string) => `container does not exist: ${id}`,
  /** kill (without --all) of a container whose init has exited (runc: "container not running"). */
  killNotRunning: (id: string) => `cannot kill container ${id}: container not running (it has stopped)`,
  /** delete without --force of a container that runs (runc's words exactly). */
  deleteNotStopped: (id: string, status: string) => `cannot delete container ${id} that is not stopped: ${status}`,
  /** start of a container that is not waiting in created. */
  startNotCreated: (id: string, status: string) => `cannot start container ${id}: it is ${status}, not created`,
  /** start of a paused container, created or running before (runc's words exactly). */
  startPaused: (id: string) => `${runcWords.startPaused}: ${id}`,
  /** pause of a container that is neither created nor running (runc: "container not running", for a paused one too). */
  pauseNotRunning: (id: string, status: string) => `cannot pause container ${id}: ${runcWords.notRunning} (it is ${status})`,
  /** resume of a container that is not paused (runc: "container not paused"). */
  resumeNotPaused: (id: string, status: string) => `cannot resume container ${id}: ${runcWords.notPaused} (it is ${status})`,
  /** Rootless, with no cgroup the user could write (or no freezer one): what cannot be done. */
  noCgroup: (id: string, what: string) => `cannot ${what}: container ${id} has no cgroup of its own (rootless, and no cgroup this user can write)`,
  /** pause on a host whose cgroups have no freezer (v1: no freezer hierarchy; v2: no cgroup.freeze). */
  noFreezer: (id: string) => `cannot pause container ${id}: this host's cgroups have no freezer (v1: the freezer controller is not mounted; v2: no cgroup.freeze)`,
  /** pause, when the freezer never reached FROZEN (runc: "unable to freeze"); the container was thawed again. */
  unableToFreeze: (id: string, state: string) => `cannot pause container ${id}: ${runcWords.unableToFreeze} (the freezer stayed ${state}; thawed again)`,
  /** ps, when the output of ps(1) has no PID column (runc: "couldn't find PID field in ps output"). */
  noPidField: (args: string[]) => `${runcWords.noPidField} (ps ${args.join(' ')}: a -o list must include pid)`,
  /** start, when the waiting init died just before it was released. */
  startInitGone: (id: string) => `cannot start container ${id}: container not running (its init is gone)`,
  /** create with an id that is taken (runc: "container with given ID already exists"). */
  alreadyExists: (id: string) => `container with given ID already exists: ${id}`,
  emptyId: () => 'container id cannot be empty',
  invalidId: (id: string) => `invalid container id ${JSON.stringify(id)}: only letters, digits, "_", "+", "-" and "." are allowed`,
} as const;

/** What runc does in a case, and what tsrun does instead: the table above, as data. */
export interface Contract {
  case: string;
  runc: { message: string; exit: number };
  tsrun: { message: string; exit: number };
  /** runc's words the tsrun message must contain (those some client matches). */
  mustContain: string[];
  /** Who matches them (or relies on the exit status). */
  clients: string;
}

const ID = 'c1';

/** The cases, made when asked for (tests): not on every command's path. */
export function contracts(): Contract[] {
  return [
    {
      case: 'kill of a stopped container',
      runc: { message: 'container not running', exit: 1 },
      tsrun: { message: messages.killNotRunning(ID), exit: 1 },
      mustContain: [runcWords.notRunning],
      clients: 'containerd runc shim (checkKillError)',
    },
    {
      case: 'kill --all of a stopped container',
      runc: { message: '', exit: 0 },
      tsrun: { message: '', exit: 0 },
      mustContain: [],
      clients: 'containerd runc shim (KillAll when the init exits without its own pid namespace), podman (exit status)',
    },
    {
      case: 'kill of an unknown id',
      runc: { message: 'container does not exist', exit: 1 },
      tsrun: { message: messages.doesNotExist(ID), exit: 1 },
      mustContain: [runcWords.doesNotExist],
      clients: 'containerd runc shim (checkKillError)',
    },
    {
      case: 'delete of an unknown id',
      runc: { message: 'container does not exist', exit: 1 },
      tsrun: { message: messages.doesNotExist(ID), exit: 1 },
      mustContain: [runcWords.doesNotExist],
      clients: 'containerd runc shim (Init.delete)',
    },
    {
      case: 'delete --force of an unknown id',
      runc: { message: '', exit: 0 },
      tsrun: { message: '', exit: 0 },
      mustContain: [],
      clients: 'podman, cri-o, containerd shim cleanup (exit status)',
    },
    {
      case: 'state of an unknown id',
      runc: { message: 'container does not exist', exit: 1 },
      tsrun: { message: messages.doesNotExist(ID), exit: 1 },
      mustContain: [runcWords.doesNotExist],
      clients: 'podman (UpdateContainerStatus), cri-o (exit status)',
    },
    {
      case: 'start of an unknown id',
      runc: { message: 'container does not exist', exit: 1 },
      tsrun: { message: messages.doesNotExist(ID), exit: 1 },
      mustContain: [runcWords.doesNotExist],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'delete of a running container',
      runc: { message: `cannot delete container ${ID} that is not stopped: running`, exit: 1 },
      tsrun: { message: messages.deleteNotStopped(ID, 'running'), exit: 1 },
      mustContain: [runcWords.notStopped],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'start of a running container',
      runc: { message: 'cannot start an already running container', exit: 1 },
      tsrun: { message: messages.startNotCreated(ID, 'running'), exit: 1 },
      mustContain: [],
      clients: 'none',
    },
    {
      case: 'start of a stopped container',
      runc: { message: 'cannot start a container that has stopped', exit: 1 },
      tsrun: { message: messages.startNotCreated(ID, 'stopped'), exit: 1 },
      mustContain: [],
      clients: 'none',
    },
    {
      case: 'start of a paused container',
      runc: { message: 'cannot start a container in the paused state', exit: 1 },
      tsrun: { message: messages.startPaused(ID), exit: 1 },
      mustContain: [runcWords.startPaused],
      clients: 'none',
    },
    {
      case: 'delete of a paused container',
      runc: { message: `cannot delete container ${ID} that is not stopped: paused`, exit: 1 },
      tsrun: { message: messages.deleteNotStopped(ID, 'paused'), exit: 1 },
      mustContain: [runcWords.notStopped],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'pause of a stopped container',
      runc: { message: 'container not running', exit: 1 },
      tsrun: { message: messages.pauseNotRunning(ID, 'stopped'), exit: 1 },
      mustContain: [runcWords.notRunning],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'resume of a running container',
      runc: { message: 'container not paused', exit: 1 },
      tsrun: { message: messages.resumeNotPaused(ID, 'running'), exit: 1 },
      mustContain: [runcWords.notPaused],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'ps of a stopped container',
      runc: { message: '', exit: 0 },
      tsrun: { message: '', exit: 0 },
      mustContain: [],
      clients: 'containerd runc shim Pids (runc ps --format json; exit status, then the array)',
    },
    {
      case: 'ps with no PID column',
      runc: { message: "couldn't find PID field in ps output", exit: 1 },
      tsrun: { message: messages.noPidField(['-o', 'comm']), exit: 1 },
      mustContain: [runcWords.noPidField],
      clients: 'none',
    },
    {
      case: 'create with an id in use',
      runc: { message: 'runc create failed: container with given ID already exists', exit: 1 },
      tsrun: { message: messages.alreadyExists(ID), exit: 1 },
      mustContain: [runcWords.alreadyExists],
      clients: 'none (containerd passes it on from --log)',
    },
    {
      case: 'an empty id',
      runc: { message: 'container id cannot be empty', exit: 1 },
      tsrun: { message: messages.emptyId(), exit: 1 },
      mustContain: [runcWords.emptyId],
      clients: 'none',
    },
    {
      case: 'an unknown signal',
      runc: { message: 'unknown signal "FOO"', exit: 1 },
      // said by src/signals.ts, in runc's words
      tsrun: { message: 'unknown signal "FOO"', exit: 1 },
      mustContain: [runcWords.unknownSignal],
      clients: 'none',
    },
  ];
}
