// Idmapped bind mounts (config.md "Mounts": uidMappings, gidMappings, the
// idmap and ridmap options). The source is cloned and given its idmapping
// here, at the start of stage 0, while tsrun-init is still root in the
// host's user and mount namespaces: from the container's user namespace
// the kernel refuses it (the source's superblock is the host's). The
// detached tree waits in an fd (close-on-exec, kept across FORK) until its
// BIND record attaches it inside the container.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "syscalls.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

namespace {

constexpr int kMaxTrees = 64;
int g_trees[kMaxTrees];
int g_ntrees = 0;

void write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open %s", path);
  bool ok = write_full(fd, map, strlen(map));
  int err = errno;
  close(fd);
  if (!ok) fail(err, "write %s for an idmapped mount", file);
}

// A user namespace with these maps, held by a child that never runs
// anything: its namespace fd outlives it.
int userns_with(const char *uid_map, const char *gid_map) {
  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) fail(errno, "create a user namespace for an idmapped mount");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) pause();
  }
  write_map(pid, "uid_map", uid_map);
  write_map(pid, "gid_map", gid_map);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int err = errno;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (fd < 0) fail(err, "open %s", path);
  return fd;
}

void prepare_tree(const proto::IdmapTreeRec &r) {
  if (g_ntrees == kMaxTrees) fail(EINVAL, "too many idmapped mounts");
  const char *source = r.source();
  int userns = *r.userns_path() ? open(r.userns_path(), O_RDONLY | O_CLOEXEC) : userns_with(r.uid_map(), r.gid_map());
  if (userns < 0) fail(errno, "open %s", r.userns_path());
  int tree = sys_open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (r.recursive() ? AT_RECURSIVE : 0));
  if (tree < 0) fail(errno, "bind source %s", source);
  struct mount_attr_v0 attr = {MOUNT_ATTR_IDMAP, 0, 0, static_cast<uint64_t>(userns)};
  if (syscall(__NR_mount_setattr, tree, "", AT_EMPTY_PATH | (r.recursive_idmap() ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    int err = errno;
    if (err == EINVAL) fail(err, "idmap %s (its filesystem may not support idmapped mounts)", source);
    fail(err, "idmap %s", source);
  }
  close(userns);
  // A clone of a shared mount would be its peer: made what the rootfs's
  // copies of the host's mounts are (a slave, unless the config says).
  uint64_t propagation = r.propagation();
  unsigned rec = (propagation & MS_REC) ? AT_RECURSIVE : 0;
  propagation &= ~static_cast<uint64_t>(MS_REC);
  if (propagation && sys_mount_setattr(tree, "", AT_EMPTY_PATH | rec, 0, 0, propagation) < 0) fail(errno, "set the propagation of %s", source);
  g_trees[g_ntrees++] = tree;
}

}  // namespace

void prepare_idmap_trees(const Plan &plan) {
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    if (r.tag != proto::T_IDMAP_TREE) continue;
    g_ref = r.ref;
    prepare_tree(proto::IdmapTreeRec(r));
  }
}

int take_idmap_tree(uint64_t number) {
  if (number == 0 || number > static_cast<uint64_t>(g_ntrees) || g_trees[number - 1] < 0) fail(EINVAL, "no idmapped tree %llu", static_cast<unsigned long long>(number));
  int tree = g_trees[number - 1];
  g_trees[number - 1] = -1;
  return tree;
}
