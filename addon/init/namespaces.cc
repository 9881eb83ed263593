// Stage 0: join namespaces given by path, create the new ones, and fork
// once more when a pid or time namespace only applies to children.
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace {

struct Join {
  int flag;
  int fd;
  uint32_t ref;
};

// setns order after the user namespace: mount last, since it changes what
// paths mean (the namespace files were all opened before any setns).
const int kJoinOrder[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
                          CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};

// runc's rule: the container starts as root of its user namespace, so that
// it may set up mounts and devices; the process user is applied at the end.
void become_root() {
  if (setresgid(0, 0, 0) < 0) fail(errno, "setresgid(0) in the user namespace (is gid 0 mapped?)");
  if (setresuid(0, 0, 0) < 0) fail(errno, "setresuid(0) in the user namespace (is uid 0 mapped?)");
  stay_undumpable();
}

void write_time_offsets(const Record *const *offsets, int n) {
  char buf[1024];
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    proto::TimeOffsetRec o(*offsets[i]);
    g_ref = o.ref();
    int w = snprintf(buf + len, sizeof buf - len, "%s %lld %llu\n", o.clock(),
                     static_cast<long long>(o.secs()), static_cast<unsigned long long>(o.nanosecs()));
    if (w < 0 || static_cast<size_t>(w) >= sizeof buf - len) fail(E2BIG, "time offsets");
    len += static_cast<size_t>(w);
  }
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open /proc/self/timens_offsets");
  if (write(fd, buf, len) != static_cast<ssize_t>(len)) fail(errno, "write time namespace offsets");
  close(fd);
}

void send_pid(pid_t pid) {
  char b[24];
  int n = snprintf(b, sizeof b, "%d", pid);
  send_msg(proto::MSG_PID, b, static_cast<uint32_t>(n));
}

}  // namespace

void enter_namespaces(const Plan &plan, bool hook) {
  Join joins[8];
  int njoins = 0;
  int new_flags = 0;
  uint32_t new_ref = 0;
  const Record *offsets[16];
  int noffsets = 0;
  bool need_fork = false;
  uint32_t fork_ref = 0;
  int join_root = -1;
  uint32_t join_root_ref = 0;

  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    g_ref = r.ref;
    switch (r.tag) {
      case proto::T_NS_JOIN: {
        proto::NsJoinRec j(r);
        int flag = static_cast<int>(j.flag());
        const char *path = j.path();
        if (njoins == 8) fail(EINVAL, "too many namespaces to join");
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail(errno, "open namespace %s", path);
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0) fail(errno, "%s is not a namespace file", path);
        if (type != flag) fail(EINVAL, "%s is a namespace of another type", path);
        joins[njoins++] = Join{flag, fd, r.ref};
        break;
      }
      case proto::T_NS_NEW:
        new_flags |= static_cast<int>(proto::NsNewRec(r).flags());
        new_ref = r.ref;
        break;
      case proto::T_TIME_OFFSET:
        if (noffsets == 16) fail(EINVAL, "too many time offsets");
        offsets[noffsets++] = &r;
        break;
      case proto::T_FORK:
        need_fork = true;
        fork_ref = r.ref;
        break;
      case proto::T_JOIN_ROOT:
        // Opened, like the namespace files, before any setns changes what
        // paths mean. The init's root is the container's, pivoted or not.
      {
        const char *path = proto::JoinRootRec(r).path();
        join_root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (join_root < 0) fail(errno, "open %s", path);
      }
        join_root_ref = r.ref;
        break;
      default:
        break;
    }
  }

  // Before any namespace changes: from the container's user namespace an
  // idmapping of a host filesystem is refused (see idmap.cc).
  if (!hook) start_idmap_mounter(plan);

  // The user namespace comes first: it owns whatever is created after it,
  // and joining the others needs the capabilities it gives.
  for (int i = 0; i < njoins; i++) {
    if (joins[i].flag != CLONE_NEWUSER) continue;
    g_ref = joins[i].ref;
    if (setns(joins[i].fd, CLONE_NEWUSER) < 0) fail(errno, "join user namespace");
    become_root();
  }
  if (new_flags & CLONE_NEWUSER) {
    g_ref = new_ref;
    // An unprivileged tsrun can write our maps only while our /proc files
    // are its user's, which they are while we are dumpable (as runc's
    // nsexec); root can anyway, so root's init never is. become_root makes
    // us undumpable again. (Asked before the unshare: after it, our uid is
    // unmapped until the maps are written.)
    bool rootless = geteuid() != 0;
    if (unshare(CLONE_NEWUSER) < 0) fail(errno, "create user namespace");
    if (rootless && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) fail(errno, "make the process dumpable for its id maps");
    send_msg(proto::MSG_IDMAP, nullptr, 0);  // tsrun writes our uid_map and gid_map
    expect_ack();
    become_root();
  }
  for (int flag : kJoinOrder) {
    for (int i = 0; i < njoins; i++) {
      if (joins[i].flag != flag) continue;
      g_ref = joins[i].ref;
      if (setns(joins[i].fd, flag) < 0) fail(errno, "join namespace");
    }
  }
  for (int i = 0; i < njoins; i++) close(joins[i].fd);
  if (join_root >= 0) {
    // setns into a mount namespace leaves us at its root mount, which is
    // not the container's root when it was made with --no-pivot (chroot).
    g_ref = join_root_ref;
    if (fchdir(join_root) < 0 || chroot(".") < 0 || chdir("/") < 0) fail(errno, "enter the container's root");
    close(join_root);
  }

  int rest = new_flags & ~CLONE_NEWUSER;
  if (rest) {
    g_ref = new_ref;
    if (unshare(rest) < 0) fail(errno, "create namespaces");
  }
  if (noffsets) write_time_offsets(offsets, noffsets);

  if (!need_fork) {
    if (!hook) send_pid(getpid());
    return;
  }
  g_ref = fork_ref;
  // The child waits on `gate` until its pid has been reported, so that
  // messages on the shared channel stay in order.
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) fail(errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) fail(errno, "fork into the new namespaces");
  if (pid > 0 && hook) {
    // The hook's status is ours: tsrun waits for this process.
    if (write(gate[1], "g", 1) != 1) _exit(1);
    int status;
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) _exit(1);
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    signal(WTERMSIG(status), SIG_DFL);
    kill(getpid(), WTERMSIG(status));
    _exit(128 + WTERMSIG(status));
  }
  if (pid > 0) {
    send_pid(pid);
    if (write(gate[1], "g", 1) != 1) _exit(1);
    _exit(0);
  }
  // A hook dies with the process tsrun waits for (on a timeout, say).
  if (hook) prctl(PR_SET_PDEATHSIG, SIGKILL);
  close(gate[1]);
  char c;
  if (read(gate[0], &c, 1) != 1) _exit(1);
  close(gate[0]);
}
