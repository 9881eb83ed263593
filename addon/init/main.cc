// Entry point of tsrun-init. See init.h for what it is and protocol.h for
// how tsrun talks to it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

mode_t g_saved_umask;

void stay_undumpable() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(errno, "make the process non-dumpable");
}

// process.oomScoreAdj (tsrun's --oom-score-adj N): written to our own
// /proc file while it is still ours. Once we are undumpable it is root's,
// and an unprivileged tsrun (rootless) could not write it at all (as
// runc's nsexec, which writes it first too). 0, or the errno.
int write_oom_score_adj(const char *value) {
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write(fd, value, strlen(value)) < 0 ? errno : 0;
  close(fd);
  return err;
}

int main(int argc, char **argv) {
  // tsrun-init --sync-fd|--join|--hook FD [--oom-score-adj N]
  //   [--cgroup1 DIR]... [--cgroup2 DIR] [--report-fd FD]   (launcher.ts)
  const char *oom = nullptr;
  CgroupArgs cgroups{};
  cgroups.report_fd = -1;
  bool usage = argc < 3 || argc % 2 == 0;
  for (int i = 3; !usage && i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--oom-score-adj") == 0 && !oom) oom = argv[i + 1];
    else if (strcmp(argv[i], "--cgroup1") == 0 && cgroups.n_v1 < sizeof cgroups.v1 / sizeof *cgroups.v1) cgroups.v1[cgroups.n_v1++] = argv[i + 1];
    else if (strcmp(argv[i], "--cgroup2") == 0 && !cgroups.v2) cgroups.v2 = argv[i + 1];
    else if (strcmp(argv[i], "--report-fd") == 0 && cgroups.report_fd < 0) cgroups.report_fd = atoi(argv[i + 1]);
    else usage = true;
  }
  int oom_err = oom && !usage ? write_oom_score_adj(oom) : 0;
  // Non-dumpable before anything else: no other process of the container
  // may ptrace us or open our /proc entries (fds, exe, mem).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Only tsrun starts us, with the channel fd. Anything else (for instance a
  // container program exec'ing "/proc/self/exe") gets nothing.
  struct stat st;
  enum { STANDARD, JOIN, HOOK, NONE } kind = NONE;
  if (!usage) {
    if (strcmp(argv[1], "--sync-fd") == 0) kind = STANDARD;
    else if (strcmp(argv[1], "--join") == 0) kind = JOIN;
    else if (strcmp(argv[1], "--hook") == 0) kind = HOOK;
  }
  bool placed = cgroups.n_v1 || cgroups.v2;
  if (kind == NONE || fstat(atoi(argv[2]), &st) < 0 || !S_ISSOCK(st.st_mode) || placed != (cgroups.report_fd >= 0) ||
      (placed && (fstat(cgroups.report_fd, &st) < 0 || !S_ISFIFO(st.st_mode)))) {
    fputs("tsrun-init is started by tsrun; it is not a command\n", stderr);
    return 2;
  }
  // In the container's cgroups before anything else; this may go on in a
  // clone of this process (join_cgroups.cc).
  if (placed) join_cgroups(cgroups);
  g_sync = atoi(argv[2]);
  fcntl(g_sync, F_SETFD, FD_CLOEXEC);  // posix_spawn's dup2 cleared it
  if (chdir("/") < 0) fail(0, "chdir /");  // keep no reference to tsrun's cwd
  g_saved_umask = umask(0);

  uint8_t *buf;
  uint32_t len;
  if (recv_msg(&buf, &len) != proto::MSG_PLAN) _exit(1);
  Plan plan = parse_plan(buf, len);
  // Told once tsrun has sent the plan and reads our answer; the message
  // names the field itself (no record is at fault).
  if (oom_err) {
    g_ref = UINT32_MAX;
    fail(oom_err, "process.oomScoreAdj: cannot set it to %s: write /proc/self/oom_score_adj", oom);
  }

  switch (kind) {
    case HOOK:
      enter_namespaces(plan, true);
      run_hook(plan);
    case JOIN:
      enter_namespaces(plan, false);
      finalize_process(plan, join_container(plan), ProcessKind::Joined);
    default:
      enter_namespaces(plan, false);
      finalize_process(plan, setup_container(plan), ProcessKind::Init);
  }
}
