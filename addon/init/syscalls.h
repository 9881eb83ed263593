// Thin wrappers for the syscalls glibc 2.36 does not wrap (or wraps behind
// headers that clash with <sys/mount.h>), with the constants they need.
#pragma once
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040

#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070

struct mount_attr_v0 {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static inline int sys_open_tree(int dfd, const char *path, unsigned flags) {
  return static_cast<int>(syscall(__NR_open_tree, dfd, path, flags));
}
static inline int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags) {
  return static_cast<int>(syscall(__NR_move_mount, from_dfd, from, to_dfd, to, flags));
}
static inline int sys_mount_setattr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr,
                                    uint64_t propagation) {
  struct mount_attr_v0 a = {set, clr, propagation, 0};
  return static_cast<int>(syscall(__NR_mount_setattr, dfd, path, flags, &a, sizeof a));
}
static inline int sys_openat2(int dfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {flags, mode, resolve};
  return static_cast<int>(syscall(__NR_openat2, dfd, path, &how, sizeof how));
}
static inline int sys_pivot_root(const char *new_root, const char *put_old) {
  return static_cast<int>(syscall(__NR_pivot_root, new_root, put_old));
}
