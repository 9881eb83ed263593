// The wire protocol between tsrun (TypeScript, src/init/protocol.ts) and
// tsrun-init (this executable). Both files must agree; change them together.
//
// tsrun-init is one of three kinds, all reading their plan from fd N:
//   tsrun-init --sync-fd N   standard: the container's init. Namespaces,
//                            the root filesystem, the process, the wait
//                            for `start`, execve.
//   tsrun-init --join N      join (tsrun exec): the namespaces of a running
//                            container (T_NS_JOIN, T_JOIN_ROOT, T_FORK), a
//                            session keyring and terminal, then the same
//                            process stage as the init, without the wait:
//                            the channel stays open (close-on-exec) until
//                            execve, so its end tells tsrun the exec worked.
//   tsrun-init --hook N      a hook in the namespaces of a running container:
//                            reads T_NS_JOIN, T_FORK, T_HOOK_EXEC
//                            records from fd N and execs the hook; exits with
//                            the hook's status. No other message is sent.
//
// Transport: a SOCK_STREAM unix socketpair. Every message is a frame:
//   u32 type | u32 length | length bytes of payload      (little endian)
//
// The plan (payload of MSG_PLAN) is a list of records:
//   u32 tag | u32 ref | u32 count | count x (u32 length | bytes)
// `ref` is an index chosen by TypeScript; tsrun-init echoes it back in
// MSG_ERROR so the error can name the config field (JSON path) it came from.
// Every field is a byte string; numbers are written in decimal.
#pragma once
#include <stdint.h>

namespace proto {

// The largest frame tsrun-init accepts (MAX_FRAME in protocol.ts).
constexpr uint32_t MAX_FRAME = 64u << 20;

enum Msg : uint32_t {
  // tsrun -> init
  MSG_PLAN = 1,   // payload: the plan
  MSG_ACK = 2,    // go on
  // init -> tsrun
  MSG_IDMAP = 10,  // unshared a user namespace: write uid_map/gid_map of the sender
  MSG_PID = 11,    // payload: decimal host pid of the container init
  MSG_HOOKS = 12,  // payload: hook stage name; run them, then MSG_ACK
  MSG_READY = 13,  // set up; about to wait for start. tsrun answers MSG_ACK
  MSG_ERROR = 14,  // payload: u32 ref | i32 errno | message
  MSG_WARN = 15,   // payload: message
};

enum Tag : uint32_t {
  // Namespaces (stage 0, in this order of execution, whatever the plan order)
  T_NS_JOIN = 1,      // [clone flag, path]
  T_NS_NEW = 2,       // [clone flags]  (user namespace is handled first)
  T_TIME_OFFSET = 3,  // [clock name, secs, nanosecs]
  T_FORK = 4,         // []  fork so the new pid/time namespace applies
  T_JOIN_ROOT = 5,    // [path]  a running init's root (/proc/<pid>/root): chroot there after the joins
  // Container setup (the init), in plan order
  T_HOSTNAME = 10,    // [name]
  T_DOMAINNAME = 11,  // [name]
  T_LOOPBACK = 12,    // []  bring lo up in a new network namespace
  T_ROOT = 13,        // [rootfs path, MS_* propagation for / before the root is bound]
  T_MOUNT = 14,       // [source, dest, fstype, MS_* flags, data, rattr_set, rattr_clr, propagation, attr_set]
  T_BIND = 15,        // [source, dest, recursive 0|1, attr_set, attr_clr, rattr_set, rattr_clr, propagation]
  T_MKDEV = 16,       // [path, type c|b|p|u, major, minor, mode, uid, gid, host path to bind or ""]
  T_SYMLINK = 17,     // [target, path, mode, probe]  mode 0: if absent, 1: replace, 2: if probe exists
  T_HOOKS = 18,       // [stage]  ask tsrun to run hooks of that stage now
  T_PIVOT = 19,       // [no_pivot 0|1, MS_* propagation of the new root, or 0]
  T_SYSCTL = 20,      // [path under /proc/sys, value]
  T_MASK = 21,        // [path]
  T_READONLY = 22,    // [path]
  T_ROOT_RO = 23,     // []
  T_CONSOLE = 24,     // [socket fd, rows, cols, bind on /dev/console 0|1]
  T_KEYRING = 25,     // [name]  join a new session keyring (runc does, unless --no-new-keyring)
  T_MKDIR = 26,       // [path]  a directory in the container, created if missing (the cwd)
  // The process (applied in a fixed, security-relevant order by process.cc)
  T_RLIMIT = 30,      // [resource number, soft, hard]
  T_NO_NEW_PRIVS = 32,// []
  T_USER = 33,        // [uid, gid, additional gid...]
  T_UMASK = 34,       // [mask]
  T_CAPS = 35,        // [bounding, effective, permitted, inheritable, ambient] 64-bit masks
  T_CWD = 36,         // [path]
  T_ARGS = 37,        // [arg...]
  T_ENV = 38,         // [NAME=value...]
  T_EXEC_FIFO = 39,   // [fd]   wait for `start` by reading one byte from it
  T_PRESERVE_FDS = 40,// [count]  fds 3..3+count-1 stay open
  T_SECCOMP = 41,     // [bpf program bytes, SECCOMP_FILTER_FLAG_* flags]
  T_PERSONALITY = 42, // [persona]
  T_SCHEDULER = 43,   // [policy, flags, nice, priority, runtime, deadline, period]
  T_IOPRIO = 44,      // [ioprio value: class << 13 | level]
  T_START_REPORT = 45,// [fd]  write fifo telling `start` how the startContainer hooks went
  T_HOOK_STATE = 46,  // [before pid, after pid]  the state JSON for startContainer hooks
  T_START_HOOK = 47,  // [path, timeout s (0: none), argc, argv..., env...]  in config order
  // Hook mode (tsrun-init --hook): run one hook in a container's namespaces
  T_HOOK_EXEC = 51,   // [path, argc, argv..., env...]
};

}  // namespace proto
