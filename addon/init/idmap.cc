// Idmapped bind mounts (config.md "Mounts": uidMappings, gidMappings, the
// idmap and ridmap options).
//
// Idmapping a host filesystem needs the host's root: from the container's
// user namespace the kernel refuses it (the superblock is the host's). The
// tree must still be cloned inside the container's mount namespace: its
// mounts were copied there from a less privileged user namespace, so the
// kernel locked them (read-only, nosuid, ... and the submounts of an
// rbind), and a clone keeps those locks; a clone made in the host's mount
// namespace would have none for the container's root to keep.
//
// So at the start of stage 0, while tsrun-init is still root in the host's
// namespaces, it forks a mounter. When the first idmapped BIND comes, the
// init sends it an fd of the container's mount namespace; the mounter
// enters it, clones and idmaps every tree of the plan, sends them back
// (SCM_RIGHTS, close-on-exec) and exits. It serves no one else: it exits
// as soon as the init's end of the socket closes.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "syscalls.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

namespace {

constexpr int kMaxTrees = kMaxSentFds;  // all sent back in one message
int g_mounter = -1;      // the init's end of the socket to the mounter
pid_t g_mounter_pid = -1;
int g_trees[kMaxTrees];  // the trees, once fetched (-1: taken)
int g_ntrees = -1;       // -1: not fetched yet

// The mounter's answer: an errno and a message, or 0 and the trees as fds.
struct Reply {
  int32_t err;
  uint32_t ref;  // the record at fault
  char message[248];
};

int g_mounter_sock = -1;  // the mounter's end

[[noreturn]] void mounter_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void mounter_fail(int err, const char *fmt, ...) {
  Reply reply{};
  reply.err = err ? err : EINVAL;
  reply.ref = g_ref;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reply.message, sizeof reply.message, fmt, ap);
  va_end(ap);
  write_full(g_mounter_sock, &reply, sizeof reply);
  _exit(1);
}

int write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write_full(fd, map, strlen(map)) ? 0 : errno;
  close(fd);
  return err;
}

// A user namespace with these maps, held by a child that never runs
// anything: its namespace fd outlives it.
int userns_with(const char *uid_map, const char *gid_map) {
  pid_t parent = getpid();
  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) mounter_fail(errno, "create a user namespace for an idmapped mount");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    for (;;) pause();
  }
  int err = write_map(pid, "uid_map", uid_map);
  const char *what = "uid_map";
  if (!err) {
    err = write_map(pid, "gid_map", gid_map);
    what = "gid_map";
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int fd = err ? -1 : open(path, O_RDONLY | O_CLOEXEC);
  if (!err && fd < 0) {
    err = errno;
    what = "ns/user";
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (err) mounter_fail(err, "write %s of the user namespace for an idmapped mount", what);
  return fd;
}

int make_tree(const proto::IdmapTreeRec &r) {
  const char *source = r.source();
  int userns = *r.userns_path() ? open(r.userns_path(), O_RDONLY | O_CLOEXEC) : userns_with(r.uid_map(), r.gid_map());
  if (userns < 0) mounter_fail(errno, "open %s", r.userns_path());
  int tree = sys_open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (r.recursive() ? AT_RECURSIVE : 0));
  if (tree < 0) mounter_fail(errno, "bind source %s", source);
  struct mount_attr_v0 attr = {MOUNT_ATTR_IDMAP, 0, 0, static_cast<uint64_t>(userns)};
  if (syscall(__NR_mount_setattr, tree, "", AT_EMPTY_PATH | (r.recursive_idmap() ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    int err = errno;
    if (err == EINVAL) mounter_fail(err, "idmap %s (its filesystem may not support idmapped mounts)", source);
    mounter_fail(err, "idmap %s", source);
  }
  close(userns);
  // As the rootfs's copies of the host's mounts: never a peer of them.
  uint64_t propagation = r.propagation();
  unsigned rec = (propagation & MS_REC) ? AT_RECURSIVE : 0;
  propagation &= ~static_cast<uint64_t>(MS_REC);
  if (propagation && sys_mount_setattr(tree, "", AT_EMPTY_PATH | rec, 0, 0, propagation) < 0) mounter_fail(errno, "set the propagation of %s", source);
  return tree;
}

int recv_one_fd(int sock, void *buf, size_t len, int *fds, int max) {
  struct iovec iov = {buf, len};
  union {
    char b[CMSG_SPACE(sizeof(int) * kMaxTrees)];
    struct cmsghdr align;
  } ctl;
  struct msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.b;
  m.msg_controllen = sizeof ctl.b;
  ssize_t n;
  do {
    n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(len)) return -1;
  int got = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (got < max) fds[got++] = fd;
      else close(fd);
    }
  }
  return got;
}

[[noreturn]] void mounter_main(const Plan &plan) {
  // Nothing of the init's but the plan in memory: its channel to tsrun is
  // the init's alone.
  int keep = g_mounter_sock;
  close_range(3, static_cast<unsigned>(keep - 1), 0);
  close_range(static_cast<unsigned>(keep + 1), ~0U, 0);
  g_sync = -1;
  if (chdir("/") < 0) _exit(1);
  char c;
  int ns = -1;
  if (recv_one_fd(keep, &c, 1, &ns, 1) != 1) _exit(0);  // the init went away (or needs no trees)
  if (setns(ns, CLONE_NEWNS) < 0) mounter_fail(errno, "enter the container's mount namespace");
  close(ns);
  int trees[kMaxTrees];
  int n = 0;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    if (r.tag != proto::T_IDMAP_TREE) continue;
    g_ref = r.ref;
    if (n == kMaxTrees) mounter_fail(EINVAL, "too many idmapped mounts");
    trees[n++] = make_tree(proto::IdmapTreeRec(r));
  }
  Reply ok{};
  int err = send_fds(keep, &ok, sizeof ok, trees, n);
  _exit(err ? 1 : 0);
}

}  // namespace

void start_idmap_mounter(const Plan &plan) {
  bool any = false;
  for (size_t i = 0; i < plan.n && !any; i++) any = plan.recs[i].tag == proto::T_IDMAP_TREE;
  if (!any) return;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) fail(errno, "socketpair for idmapped mounts");
  pid_t pid = fork();
  if (pid < 0) fail(errno, "fork the idmapped mounts' helper");
  if (pid == 0) {
    close(sv[0]);
    g_mounter_sock = sv[1];
    mounter_main(plan);
  }
  close(sv[1]);
  g_mounter = sv[0];
  g_mounter_pid = pid;
}

int take_idmap_tree(uint64_t number) {
  if (g_ntrees < 0) {
    // The container's mount namespace, for the mounter to clone in.
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0) fail(errno, "open /proc/self/ns/mnt");
    int err = g_mounter < 0 ? ENOTCONN : send_fds(g_mounter, "T", 1, &ns, 1);
    close(ns);
    if (err) fail(err, "ask for the idmapped mounts");
    Reply reply{};
    int n = recv_one_fd(g_mounter, &reply, sizeof reply, g_trees, kMaxTrees);
    close(g_mounter);
    g_mounter = -1;
    // Reaped here when it is still our child (no fork into a pid namespace
    // since): else a zombie of the container's init.
    waitpid(g_mounter_pid, nullptr, 0);
    if (n < 0) fail(EIO, "the idmapped mounts' helper ended without an answer");
    if (reply.err) {
      reply.message[sizeof reply.message - 1] = 0;
      g_ref = reply.ref;
      fail(reply.err, "%s", reply.message);
    }
    g_ntrees = n;
  }
  if (number == 0 || number > static_cast<uint64_t>(g_ntrees) || g_trees[number - 1] < 0) fail(EINVAL, "no idmapped tree %llu", static_cast<unsigned long long>(number));
  int tree = g_trees[number - 1];
  g_trees[number - 1] = -1;
  return tree;
}
