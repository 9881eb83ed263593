// tsrun-init: the small single-threaded executable that becomes the
// container's init, or a process joined to a running container (exec), or
// a hook in a container's namespaces (the three kinds of protocol.h). tsrun
// (Node) spawns it; it receives a plan, enters the namespaces, builds the
// root filesystem (the init) or enters the init's root (exec), sets up the
// process, waits for `start` (the init) and then execs the user's program.
//
// Everything here runs in a fresh process image, so allocation and libc are
// fine; what must not happen is anything that leaks the host into the
// container: every fd is O_CLOEXEC, paths in the rootfs are resolved with
// openat2(RESOLVE_IN_ROOT), and the process is non-dumpable from its first
// instruction.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

struct Plan {
  const Record *recs;
  size_t n;
};

// sync.cc: the channel to tsrun
extern int g_sync;
extern uint32_t g_ref;  // the record being applied, named in errors
[[noreturn]] void fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void send_msg(uint32_t type, const void *payload, uint32_t len);
// Blocks for the next message; exits quietly if tsrun went away.
uint32_t recv_msg(uint8_t **payload, uint32_t *len);
void expect_ack();
// Sends buf (not empty) with n fds (at most kMaxSentFds) as SCM_RIGHTS, in
// one sendmsg: 0, or the errno. send_fd: one fd with a text.
constexpr int kMaxSentFds = 64;
int send_fds(int sock, const void *buf, size_t len, const int *fds, int n);
int send_fd(int sock, int fd, const char *data);

// join_cgroups.cc: tsrun-init's first act, given --cgroup1/--cgroup2: it
// puts itself in those cgroups and tells tsrun on report_fd which pid goes
// on as tsrun-init. Returns in that process; exits in any other.
struct CgroupArgs {
  const char *v1[64];
  size_t n_v1;
  const char *v2;
  int report_fd;
};
void join_cgroups(const CgroupArgs &args);

// plan.cc
Plan parse_plan(const uint8_t *buf, uint32_t len);
// Every record is checked against its shape (check_record) as it is parsed.

// namespaces.cc: stage 0. Returns only in the process that becomes the init
// or the joined process (or, for a hook, the process that execs it: there
// the intermediate process waits for it and exits with its status).
void enter_namespaces(const Plan &plan, bool hook);
// Idmapped mounts (idmap.cc): a helper forked in stage 0 (still host root)
// clones and idmaps each IDMAP_TREE in the container's mount namespace when
// the first is needed; the n-th (from 1) is handed to its BIND, once.
void start_idmap_mounter(const Plan &plan);
int take_idmap_tree(uint64_t number);

// hook.cc: hook mode; never returns.
[[noreturn]] void run_hook(const Plan &plan);

// rootfs.cc: hostname, mounts, devices, pivot_root, console, masked/readonly paths.
// Returns the console slave fd, or -1 without a terminal.
int setup_container(const Plan &plan);
// The join kind's counterpart, in a running container (its root already
// entered): a session keyring and the terminal. Returns the console slave or -1.
int join_container(const Plan &plan);
// The container's root directory (valid after setup_container or join_container).
int root_fd();
// Opens `path` (absolute, in the container) without leaving the root.
int open_in_root(const char *path, int flags, uint64_t extra_resolve);
// Fails unless fd is on the filesystem with this magic (linux/magic.h).
void check_fs(int fd, unsigned long magic, const char *what);
// Writes an LSM attribute file under /proc (checked to be procfs): 0, or
// the errno of the open or write, which the caller judges.
int write_proc_attr(const char *path, const char *value);
// tmpcopyup: copies the directory `lower` (what the tmpfs covers) into
// `upper` (the new tmpfs's root); `dest` names it in errors (copyup.cc).
void copy_up(int lower, int upper, const char *dest);

// console.cc: the pseudo-terminal (returns the slave fd, or -1 without one).
int setup_console(const proto::ConsoleRec &r);

// process.cc: user, capabilities, rlimits...; execs. The container's
// init waits for start (and runs startContainer hooks) before its execve;
// a joined process (exec) goes straight on, its channel open until execve.
enum class ProcessKind { Init, Joined };
[[noreturn]] void finalize_process(const Plan &plan, int console_slave, ProcessKind kind);

// start_hooks.cc: the startContainer hooks, after start and before execve;
// on a failure it reports to `start` and exits. The report fifo (-1 when
// `start` does not wait for the program) also carries "ok" once the
// hooks are done, and errors on the way to the program's execve.
extern int g_start_report;
bool has_start_hooks(const Plan &plan);
void run_start_hooks(const Plan &plan);
void report_ok();
void report_error(const char *text);

// A change of credentials resets the dumpable flag to fs.suid_dumpable,
// which may be 1: after each one, the process is made non-dumpable again
// (CVE-2016-9962: no container process may ptrace or open our /proc entries
// before execve). main.cc.
void stay_undumpable();

// Shared small helpers
bool read_full(int fd, void *buf, size_t n);
bool write_full(int fd, const void *buf, size_t n);
