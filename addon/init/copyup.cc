// tmpcopyup (config.md "Mounts", as crun does it): what a tmpfs is mounted
// over is copied into it, so the container sees the image's files in a
// writable, private copy. Both trees are walked through fds only, with
// O_NOFOLLOW: the source is the container's own rootfs, whose symlinks are
// copied as symlinks and never followed (they may point anywhere on the
// host), and nothing is ever opened by a path that could leave the tree.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

namespace {

// Deeper than any image needs; a deeper tree is an error, not a stack overflow.
const int kMaxDepth = 128;

void copy_attrs(int dst_dir, const char *name, int fd, const struct stat &st, const char *dest) {
  // Owner first: chown clears set-user-ID and set-group-ID bits.
  if (fd >= 0) {
    if (fchown(fd, st.st_uid, st.st_gid) < 0) fail(errno, "tmpcopyup: chown %s/%s", dest, name);
    if (fchmod(fd, st.st_mode & 07777) < 0) fail(errno, "tmpcopyup: chmod %s/%s", dest, name);
  } else if (fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
    fail(errno, "tmpcopyup: chown %s/%s", dest, name);
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "tmpcopyup: times of %s/%s", dest, name);
}

void copy_file(int src_dir, int dst_dir, const char *name, const struct stat &listed, const char *dest) {
  // Opened without blocking and checked again: what was listed as a file
  // may have been replaced since (by a fifo, which would block the open,
  // or a device node).
  int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (in < 0) fail(errno, "tmpcopyup: open %s/%s", dest, name);
  struct stat st;
  if (fstat(in, &st) < 0) fail(errno, "tmpcopyup: stat %s/%s", dest, name);
  if (!S_ISREG(st.st_mode) || st.st_dev != listed.st_dev || st.st_ino != listed.st_ino) fail(EAGAIN, "tmpcopyup: %s/%s changed during the copy", dest, name);
  int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) fail(errno, "tmpcopyup: create %s/%s", dest, name);
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = sendfile(out, in, nullptr, left > (1 << 30) ? (1 << 30) : static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "tmpcopyup: copy %s/%s", dest, name);
    if (n == 0) break;  // the file shrank meanwhile
    left -= n;
  }
  copy_attrs(dst_dir, name, out, st, dest);
  close(in);
  close(out);
}

void copy_dir(int src, int dst, const char *dest, int depth) {
  if (depth > kMaxDepth) fail(ELOOP, "tmpcopyup: %s is more than %d directories deep", dest, kMaxDepth);
  int list = dup(src);
  if (list < 0) fail(errno, "tmpcopyup: %s", dest);
  DIR *d = fdopendir(list);
  if (!d) fail(errno, "tmpcopyup: list %s", dest);
  for (struct dirent *e; (errno = 0, e = readdir(d));) {
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "tmpcopyup: stat %s/%s", dest, name);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst, name, 0700) < 0) fail(errno, "tmpcopyup: mkdir %s/%s", dest, name);
      int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int t = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s < 0 || t < 0) fail(errno, "tmpcopyup: open %s/%s", dest, name);
      char sub[PATH_MAX];
      snprintf(sub, sizeof sub, "%s/%s", dest, name);
      copy_dir(s, t, sub, depth + 1);
      copy_attrs(dst, name, t, st, dest);
      close(s);
      close(t);
    } else if (S_ISREG(st.st_mode)) {
      copy_file(src, dst, name, st, dest);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(src, name, target, sizeof target - 1);
      if (n < 0) fail(errno, "tmpcopyup: readlink %s/%s", dest, name);
      target[n] = 0;
      if (symlinkat(target, dst, name) < 0) fail(errno, "tmpcopyup: symlink %s/%s", dest, name);
      copy_attrs(dst, name, -1, st, dest);
    } else {
      // fifos, sockets, device nodes: made again (a device node needs CAP_MKNOD).
      if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) fail(errno, "tmpcopyup: mknod %s/%s", dest, name);
      copy_attrs(dst, name, -1, st, dest);
    }
  }
  if (errno) fail(errno, "tmpcopyup: list %s", dest);
  closedir(d);
}

}  // namespace

// The tmpfs's own root keeps what its options gave it (mode=, uid=, gid=).
void copy_up(int lower, int upper, const char *dest) {
  // Into the new tmpfs, never back into what it covers (a destination of
  // "/" reopens the rootfs itself).
  check_fs(upper, TMPFS_MAGIC, dest);
  struct stat lo, up;
  if (fstat(upper, &up) < 0 || fstat(lower, &lo) < 0) fail(errno, "tmpcopyup: stat %s", dest);
  if (up.st_dev == lo.st_dev) fail(EINVAL, "tmpcopyup: %s is not the new tmpfs", dest);
  copy_dir(lower, upper, dest, 0);
}
