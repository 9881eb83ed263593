// tsrun-init's first act when tsrun gives it cgroups (--cgroup1, --cgroup2):
// it puts itself in them, before it reads its plan, so that nothing of the
// container ever runs outside them.
//
// Why not tsrun writing our pid to cgroup.procs, as runc and crun do: every
// such write takes the kernel's global threadgroup lock for writing, whose
// first taker waits for an RCU grace period (6 to 30 ms on the CI machine,
// most of a container's setup). Two ways around it, both checked by the
// kernel exactly like that write (kernel/cgroup/cgroup.c):
// - v1: a single-threaded process writing "0" to a hierarchy's `tasks`
//   moves itself without that lock (cgroup_procs_write_start);
// - v2: a thread cannot leave its domain that way, but a process can be
//   born in a cgroup: clone3(CLONE_INTO_CGROUP). We clone ourselves into
//   it with CLONE_PARENT (tsrun's child, as we were), tell tsrun the new
//   pid, and leave; the clone goes on as tsrun-init.
// Either way falls back to writing cgroup.procs where the kernel lacks it.
//
// The result goes to tsrun on the report fd, as two int32: the pid that
// goes on as tsrun-init and 0, or -errno and the index of the cgroup (in
// argument order) that could not be joined.
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

namespace {

int write_file(const char *dir, const char *file, const char *value) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= static_cast<int>(sizeof path)) return ENAMETOOLONG;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write(fd, value, strlen(value)) < 0 ? errno : 0;
  close(fd);
  return err;
}

// The slow way, as runc: our pid to cgroup.procs.
int write_own_pid(const char *dir) {
  char pid[16];
  snprintf(pid, sizeof pid, "%d", getpid());
  return write_file(dir, "cgroup.procs", pid);
}

void report(int fd, int32_t value, int32_t index) {
  int32_t msg[2] = {value, index};
  // A short write leaves tsrun with "ended before it joined its cgroups".
  (void)!write(fd, msg, sizeof msg);
  close(fd);
}

}  // namespace

void join_cgroups(const CgroupArgs &args) {
  int32_t index = 0;
  for (size_t i = 0; i < args.n_v1; i++, index++) {
    // "0" to tasks moves this thread, which is the whole of this process.
    int err = write_file(args.v1[i], "tasks", "0");
    if (err) err = write_own_pid(args.v1[i]);
    if (err) {
      report(args.report_fd, -err, index);
      _exit(1);
    }
  }
  if (!args.v2) {
    report(args.report_fd, getpid(), 0);
    return;
  }
  int dir = open(args.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    report(args.report_fd, -errno, index);
    _exit(1);
  }
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_PARENT | CLONE_INTO_CGROUP;  // exit_signal 0: CLONE_PARENT takes ours
  ca.cgroup = static_cast<uint64_t>(dir);
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) {
    close(dir);
    close(args.report_fd);
    return;
  }
  int err = pid < 0 ? errno : 0;
  close(dir);
  if (pid > 0) {
    report(args.report_fd, static_cast<int32_t>(pid), 0);
    _exit(0);
  }
  // A kernel without clone3 or CLONE_INTO_CGROUP (before 5.7).
  if (err == ENOSYS || err == E2BIG || err == EINVAL) err = write_own_pid(args.v2);
  report(args.report_fd, err ? -err : getpid(), index);
  if (err) _exit(1);
}
