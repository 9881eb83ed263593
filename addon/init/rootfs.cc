// The container's filesystem: root bind, mounts in config order, devices,
// symlinks, pivot_root, then sysctls, readonly and masked paths.
//
// Every path inside the container is resolved by the kernel with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) against the root fd, and
// mounts are attached to the resolved fd (move_mount, or fchdir + "."), so a
// symlink in the rootfs can never send a mount outside it (CVE-2021-30465).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "init.h"
#include "syscalls.h"

namespace {

int g_root = -1;
const uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// "/a/b/c" -> "/a/b" and "c". Trailing slashes are ignored.
void split(const char *path, char *parent, char *name) {
  char tmp[PATH_MAX];
  size_t n = strnlen(path, PATH_MAX);
  if (n >= PATH_MAX) fail(ENAMETOOLONG, "%.64s...", path);
  memcpy(tmp, path, n + 1);
  while (n > 1 && tmp[n - 1] == '/') tmp[--n] = 0;
  char *slash = strrchr(tmp, '/');
  if (!slash) {
    strcpy(parent, "/");
    strcpy(name, tmp);
    return;
  }
  if (strlen(slash + 1) > NAME_MAX) fail(ENAMETOOLONG, "%s", path);
  strcpy(name, slash + 1);
  if (slash == tmp) {
    strcpy(parent, "/");
  } else {
    *slash = 0;
    strcpy(parent, tmp);
  }
}

// Makes `path` exist inside the root, creating missing parents as
// directories and the last component as a directory ('d') or an empty file
// ('f'). A dangling symlink is followed, still inside the root.
int ensure(const char *path, char kind, int depth) {
  if (depth > 40) {
    errno = ELOOP;
    return -1;
  }
  int fd = open_in_root(path, O_PATH, 0);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  if (errno != ENOENT) return -1;
  char parent[PATH_MAX], name[NAME_MAX + 1];
  split(path, parent, name);
  if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    errno = EINVAL;
    return -1;
  }
  if (ensure(parent, 'd', depth + 1) < 0) return -1;
  int pfd = open_in_root(parent, O_PATH | O_DIRECTORY, 0);
  if (pfd < 0) return -1;
  int r;
  if (kind == 'd') {
    r = mkdirat(pfd, name, 0755);
  } else {
    r = openat(pfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
    if (r >= 0) r = close(r);
  }
  if (r < 0 && errno == EEXIST) {
    char target[PATH_MAX], next[PATH_MAX];
    ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
    close(pfd);
    if (n < 0) return -1;  // exists, but resolving it failed: keep ENOENT-ish error
    target[n] = 0;
    if (target[0] == '/') {
      snprintf(next, sizeof next, "%s", target);
    } else if (snprintf(next, sizeof next, "%s/%s", parent, target) >= static_cast<int>(sizeof next)) {
      errno = ENAMETOOLONG;
      return -1;
    }
    return ensure(next, kind, depth + 1);
  }
  close(pfd);
  return r;
}

// The fd of a mount destination, created as `kind` if missing.
int target_fd(const char *dest, char kind) {
  if (ensure(dest, kind, 0) < 0) fail(errno, "create mount point %s", dest);
  int fd = open_in_root(dest, O_PATH, 0);
  if (fd < 0) fail(errno, "open mount point %s", dest);
  return fd;
}

// Propagation and recursive attributes, applied to the mount now at dest.
void after_mount(const char *dest, uint64_t rset, uint64_t rclr, uint64_t propagation) {
  if (!rset && !rclr && !propagation) return;
  int fd = open_in_root(dest, O_PATH, 0);
  if (fd < 0) fail(errno, "reopen %s", dest);
  if ((rset || rclr) && sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, rset, rclr, 0) < 0)
    fail(errno, "set recursive mount attributes on %s", dest);
  if (propagation) {
    unsigned flags = AT_EMPTY_PATH | ((propagation & MS_REC) ? AT_RECURSIVE : 0);
    if (sys_mount_setattr(fd, "", flags, 0, 0, propagation & ~static_cast<uint64_t>(MS_REC)) < 0)
      fail(errno, "set propagation of %s", dest);
  }
  close(fd);
}

void attach(int tree, int target, const char *dest) {
  if (sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail(errno, "attach mount on %s", dest);
}

bool dest_is_symlink(const char *dest) {
  int fd = open_in_root(dest, O_PATH, RESOLVE_NO_SYMLINKS);
  if (fd >= 0) {
    close(fd);
    return false;
  }
  return errno == ELOOP;
}

// pivot_root refuses a shared parent mount; making the mount that holds
// the rootfs private keeps the bind below from propagating anywhere.
void make_parent_private(const char *rootfs) {
  char path[PATH_MAX];
  if (!realpath(rootfs, path)) fail(errno, "resolve rootfs %s", rootfs);
  for (;;) {
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) < 0) fail(errno, "statx %s", path);
    // Without it the rootfs bind could propagate (tsrun needs mount_setattr, a newer kernel anyway).
    if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) fail(EOPNOTSUPP, "find the mount of %s (statx has no STATX_ATTR_MOUNT_ROOT)", path);
    if ((stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) || strcmp(path, "/") == 0) break;
    char *slash = strrchr(path, '/');
    if (slash == path) slash[1] = 0;
    else *slash = 0;
  }
  if (mount(nullptr, path, nullptr, MS_PRIVATE, nullptr) < 0) fail(errno, "make %s private", path);
}

void do_root(const proto::RootRec &r) {
  const char *rootfs = r.rootfs();
  unsigned long propagation = r.propagation();
  if (mount(nullptr, "/", nullptr, propagation, nullptr) < 0) fail(errno, "set propagation of /");
  make_parent_private(rootfs);
  if (mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) fail(errno, "bind rootfs %s", rootfs);
  g_root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) fail(errno, "open rootfs %s", rootfs);
}

void do_mount(const proto::MountRec &r) {
  const char *source = r.source(), *dest = r.dest(), *fstype = r.fstype();
  unsigned long flags = r.flags();
  const char *data = r.data();
  // CVE-2019-16884 / CVE-2023-27561: procfs and sysfs only on a real directory.
  bool kernel_fs = strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0;
  if (kernel_fs && dest_is_symlink(dest)) fail(ELOOP, "%s mount destination %s is a symlink", fstype, dest);
  int fd = target_fd(dest, 'd');
  struct stat st;
  if (fstat(fd, &st) < 0) fail(errno, "stat %s", dest);
  if (!S_ISDIR(st.st_mode)) fail(ENOTDIR, "mount point %s", dest);
  // tmpcopyup: the directory the tmpfs will cover, held open to copy from.
  int lower = -1;
  if (r.copy_up()) {
    lower = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lower < 0) fail(errno, "open %s", dest);
  }
  if (fchdir(fd) < 0) fail(errno, "enter %s", dest);
  if (flags & MS_REMOUNT) {
    if (mount(nullptr, ".", nullptr, flags, *data ? data : nullptr) < 0) fail(errno, "remount %s", dest);
  } else if (mount(*source ? source : fstype, ".", fstype, flags, *data ? data : nullptr) < 0) {
    fail(errno, "mount %s on %s", fstype, dest);
  }
  close(fd);
  if (lower >= 0) {
    // The same path now leads into the new tmpfs.
    int upper = open_in_root(dest, O_RDONLY | O_DIRECTORY, 0);
    if (upper < 0) fail(errno, "open the tmpfs on %s", dest);
    copy_up(lower, upper, dest);
    close(upper);
    close(lower);
  }
  // mqueue takes no context= option: its root is labelled instead.
  const char *label = r.xattr_label();
  if (*label) {
    int root = open_in_root(dest, O_RDONLY | O_DIRECTORY, 0);
    if (root < 0) fail(errno, "open the %s on %s", fstype, dest);
    if (fsetxattr(root, "security.selinux", label, strlen(label), 0) < 0) fail(errno, "label %s", dest);
    close(root);
  }
  after_mount(dest, r.rattr_set(), r.rattr_clear(), r.propagation());
  // Attributes of the new mount itself (a read-only tmpfs).
  uint64_t attrs = r.attr_set();
  if (attrs) {
    int m = open_in_root(dest, O_PATH, 0);
    if (m < 0) fail(errno, "reopen %s", dest);
    if (sys_mount_setattr(m, "", AT_EMPTY_PATH, attrs, 0, 0) < 0) fail(errno, "set mount attributes of %s", dest);
    close(m);
  }
}

void do_bind(const proto::BindRec &r) {
  const char *source = r.source(), *dest = r.dest();
  bool recursive = r.recursive();
  uint64_t set = r.attr_set(), clr = r.attr_clear(), rset = r.rattr_set(), rclr = r.rattr_clear();
  int tree = r.idmap_tree() ? take_idmap_tree(r.idmap_tree())
                            : sys_open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail(errno, "bind source %s", source);
  struct stat st;
  if (fstat(tree, &st) < 0) fail(errno, "stat %s", source);
  if ((set || clr) && sys_mount_setattr(tree, "", AT_EMPTY_PATH, set, clr, 0) < 0)
    fail(errno, "set mount attributes of %s", dest);
  if ((rset || rclr) && sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, rset, rclr, 0) < 0)
    fail(errno, "set recursive mount attributes of %s", dest);
  int fd = target_fd(dest, S_ISDIR(st.st_mode) ? 'd' : 'f');
  attach(tree, fd, dest);
  close(tree);
  close(fd);
  after_mount(dest, 0, 0, r.propagation());
}

void do_mkdev(const proto::MkdevRec &r) {
  const char *path = r.path(), *type = r.type(), *host = r.host_path();
  if (*host) {
    // In a user namespace mknod is not allowed: bind the host's node.
    int tree = sys_open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) fail(errno, "open host device %s", host);
    int fd = target_fd(path, 'f');
    attach(tree, fd, path);
    close(tree);
    close(fd);
    return;
  }
  mode_t ftype = type[0] == 'b' ? S_IFBLK : type[0] == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = ftype == S_IFIFO ? 0 : makedev(r.major(), r.minor());
  mode_t mode = static_cast<mode_t>(r.mode()) & 07777;
  char parent[PATH_MAX], name[NAME_MAX + 1];
  split(path, parent, name);
  if (ensure(parent, 'd', 0) < 0) fail(errno, "create directory for %s", path);
  int pfd = open_in_root(parent, O_PATH | O_DIRECTORY, 0);
  if (pfd < 0) fail(errno, "open %s", parent);
  // The umask is 0 here, so the node gets exactly `mode`.
  if (mknodat(pfd, name, ftype | mode, dev) < 0) {
    if (errno != EEXIST) fail(errno, "mknod %s", path);
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "stat %s", path);
    if ((st.st_mode & S_IFMT) != ftype || (ftype != S_IFIFO && st.st_rdev != dev))
      fail(EEXIST, "%s exists and is not the requested device", path);
  }
  if (fchownat(pfd, name, static_cast<uid_t>(r.uid()), static_cast<gid_t>(r.gid()), AT_SYMLINK_NOFOLLOW) < 0)
    fail(errno, "chown %s", path);
  close(pfd);
}

void do_symlink(const proto::SymlinkRec &r) {
  const char *target = r.target(), *path = r.path();
  uint64_t when = r.when();
  if (when == proto::SYMLINK_WHEN_IF_PROBE_EXISTS) {
    int t = open_in_root(r.probe(), O_PATH, 0);
    if (t < 0) return;
    close(t);
  }
  char parent[PATH_MAX], name[NAME_MAX + 1];
  split(path, parent, name);
  if (ensure(parent, 'd', 0) < 0) fail(errno, "create directory for %s", path);
  int pfd = open_in_root(parent, O_PATH | O_DIRECTORY, 0);
  if (pfd < 0) fail(errno, "open %s", parent);
  if (when == proto::SYMLINK_WHEN_REPLACE && unlinkat(pfd, name, 0) < 0 && errno != ENOENT) fail(errno, "remove %s", path);
  if (symlinkat(target, pfd, name) < 0 && errno != EEXIST) fail(errno, "symlink %s", path);
  close(pfd);
}

void do_pivot(const proto::PivotRec &r) {
  bool no_pivot = r.no_pivot();
  if (fchdir(g_root) < 0) fail(errno, "enter rootfs");
  if (no_pivot) {
    // With a shared rootfsPropagation the mount at / is still a peer of the
    // host's: moving the rootfs onto it would propagate the container's
    // whole tree to the host. As a slave it only receives.
    if (mount(nullptr, "/", nullptr, MS_SLAVE, nullptr) < 0) fail(errno, "make / a slave");
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) fail(errno, "move rootfs to /");
    if (chroot(".") < 0) fail(errno, "chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one. The
    // kernel moves our cwd to the new root, so go back to the old one by fd
    // before making it a slave (detaching it must not propagate to the
    // host) and detaching it; done on "." the new tree would lose its
    // propagation settings.
    int old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (old_root < 0) fail(errno, "open old root");
    if (sys_pivot_root(".", ".") < 0) fail(errno, "pivot_root");
    if (fchdir(old_root) < 0) fail(errno, "enter old root");
    close(old_root);
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail(errno, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0) fail(errno, "detach old root");
  }
  if (chdir("/") < 0) fail(errno, "chdir /");
  // rootfsPropagation, now that the rootfs is the root mount.
  unsigned long propagation = r.propagation();
  if (propagation && mount(nullptr, "/", nullptr, propagation, nullptr) < 0) fail(errno, "set root propagation");
  close(g_root);
  g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) fail(errno, "open new root");
}

void do_sysctl(const proto::SysctlRec &r) {
  static int procsys = -1;
  if (procsys < 0) {
    procsys = open_in_root("/proc/sys", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
    if (procsys < 0) fail(errno, "open /proc/sys");
    check_fs(procsys, PROC_SUPER_MAGIC, "/proc/sys");
  }
  const char *rel = r.path(), *value = r.value();
  int fd = sys_openat2(procsys, rel, O_WRONLY | O_CLOEXEC, 0,
                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (fd < 0) fail(errno, "open /proc/sys/%s", rel);
  check_fs(fd, PROC_SUPER_MAGIC, rel);
  size_t len = strlen(value);
  if (write(fd, value, len) != static_cast<ssize_t>(len)) fail(errno, "write /proc/sys/%s", rel);
  close(fd);
}

// The verified null device, opened once. `reopen` drops the one held: a
// rename over /dev/null during create leaves that one unlinked, and the
// kernel refuses to mount an unlinked file (ENOENT), so the new /dev/null
// is opened and verified like the first.
int null_device(bool reopen) {
  static int fd = -1;
  if (reopen && fd >= 0) {
    close(fd);
    fd = -1;
  }
  if (fd >= 0) return fd;
  // CVE-2025-31133: the /dev/null used to mask must really be 1:3.
  fd = open_in_root("/dev/null", O_PATH, RESOLVE_NO_SYMLINKS);
  if (fd < 0) fail(errno, "open /dev/null for masking");
  struct stat st;
  if (fstat(fd, &st) < 0) fail(errno, "stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) fail(EPERM, "/dev/null is not the null device");
  return fd;
}

void mask_with_null(int target, const char *path) {
  for (int attempt = 0; attempt < 5; attempt++) {
    int tree = sys_open_tree(null_device(attempt > 0), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) fail(errno, "clone /dev/null");
    int r = sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int err = errno;
    close(tree);
    if (r == 0) return;
    // ENOENT with a /dev/null still linked: the target is what is missing.
    struct stat st;
    if (err != ENOENT || (fstat(null_device(false), &st) == 0 && st.st_nlink > 0)) fail(err, "attach mount on %s", path);
  }
  fail(ENOENT, "/dev/null kept being replaced while masking %s", path);
}

void do_mask(const proto::MaskRec &r) {
  const char *path = r.path();
  int fd = open_in_root(path, O_PATH, 0);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    fail(errno, "open masked path %s", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) fail(errno, "stat %s", path);
  if (S_ISDIR(st.st_mode)) {
    if (fchdir(fd) < 0) fail(errno, "enter %s", path);
    const char *data = r.data();
    if (mount("tmpfs", ".", "tmpfs", MS_RDONLY, *data ? data : nullptr) < 0) fail(errno, "mask %s", path);
    if (chdir("/") < 0) fail(errno, "chdir /");
  } else {
    mask_with_null(fd, path);
  }
  close(fd);
}

void do_readonly(const proto::ReadonlyRec &r) {
  const char *path = r.path();
  int fd = open_in_root(path, O_PATH, 0);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    fail(errno, "open readonly path %s", path);
  }
  int tree = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) fail(errno, "bind %s", path);
  if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    fail(errno, "make %s read-only", path);
  attach(tree, fd, path);
  close(tree);
  close(fd);
}

void do_loopback() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(errno, "socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(errno, "get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(errno, "bring lo up");
  close(s);
}

// A session keyring of the container's own, so that it does not share the
// host's keys, created with the process's SELinux label when it has one
// (keycreate holds for this thread's next keys only, so it is reset after).
// Kernels or seccomp profiles without keyctl are fine.
void do_keyring(const proto::KeyringRec &r) {
  const char *label = r.label();
  const char *keycreate = "/proc/thread-self/attr/keycreate";
  if (*label) {
    int err = write_proc_attr(keycreate, label);
    if (err && err != ENOENT) fail(err, "write %s", keycreate);
  }
  long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, r.name());
  int err = errno;
  if (*label) write_proc_attr(keycreate, "");
  if (id < 0) {
    if (err == ENOSYS || err == EPERM || err == EACCES) return;
    fail(err, "join a new session keyring");
  }
  // The kernel's default (possessor: all; user: view, read) plus user search.
  const unsigned long perm = 0x3f0b0000;
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm) < 0 && errno != ENOSYS) fail(errno, "set keyring permissions");
}

}  // namespace

void check_fs(int fd, unsigned long magic, const char *what) {
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) fail(errno, "statfs %s", what);
  if (static_cast<unsigned long>(sfs.f_type) != magic) fail(EXDEV, "%s is not on the expected filesystem", what);
}

int write_proc_attr(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno;
  // The container's /proc may be anything its image or mounts put there
  // (CVE-2019-16884): a label written to a file of its own would be lost
  // and the program run unconfined.
  check_fs(fd, PROC_SUPER_MAGIC, path);
  ssize_t n = write(fd, value, strlen(value));
  int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

int join_container(const Plan &plan) {
  // enter_namespaces chrooted into the init's root: that is the container's.
  g_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) fail(errno, "open the container's root");
  int console = -1;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    g_ref = r.ref;
    switch (r.tag) {
      case proto::T_KEYRING: do_keyring(proto::KeyringRec(r)); break;
      case proto::T_CONSOLE: console = setup_console(proto::ConsoleRec(r)); break;
      default: break;
    }
  }
  return console;
}

int root_fd() { return g_root; }

int open_in_root(const char *path, int flags, uint64_t extra_resolve) {
  return sys_openat2(g_root, path, static_cast<uint64_t>(flags | O_CLOEXEC), 0, kInRoot | extra_resolve);
}

int setup_container(const Plan &plan) {
  int console = -1;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    g_ref = r.ref;
    switch (r.tag) {
      case proto::T_HOSTNAME: {
        const char *h = proto::HostnameRec(r).name();
        if (sethostname(h, strlen(h)) < 0) fail(errno, "sethostname");
        break;
      }
      case proto::T_DOMAINNAME: {
        const char *d = proto::DomainnameRec(r).name();
        if (setdomainname(d, strlen(d)) < 0) fail(errno, "setdomainname");
        break;
      }
      case proto::T_LOOPBACK: do_loopback(); break;
      case proto::T_KEYRING: do_keyring(proto::KeyringRec(r)); break;
      case proto::T_ROOT: do_root(proto::RootRec(r)); break;
      case proto::T_MOUNT: do_mount(proto::MountRec(r)); break;
      case proto::T_BIND: do_bind(proto::BindRec(r)); break;
      case proto::T_MKDEV: do_mkdev(proto::MkdevRec(r)); break;
      case proto::T_SYMLINK: do_symlink(proto::SymlinkRec(r)); break;
      case proto::T_MKDIR:
        // Only what is missing is made. A path through a magic link
        // (/proc/self/fd/N, /proc/self/cwd) exists but is not resolved here
        // (ELOOP from RESOLVE_NO_MAGICLINKS), and nothing is made through
        // it: the chdir to the cwd, and the check that it is inside the
        // container (process.cc, CVE-2024-21626), decide about it.
      {
        const char *path = proto::MkdirRec(r).path();
        if (ensure(path, 'd', 0) < 0 && errno != ELOOP) fail(errno, "create directory %s", path);
        break;
      }
      case proto::T_NET_DEVICES:
        send_msg(proto::MSG_NET_DEVICES, nullptr, 0);
        expect_ack();
        break;
      case proto::T_HOOKS:
      {
        const char *stage = proto::HooksRec(r).stage();
        send_msg(proto::MSG_HOOKS, stage, static_cast<uint32_t>(strlen(stage)));
        expect_ack();
        break;
      }
      case proto::T_PIVOT: do_pivot(proto::PivotRec(r)); break;
      case proto::T_CONSOLE: console = setup_console(proto::ConsoleRec(r)); break;
      case proto::T_ROOT_RO:
        if (sys_mount_setattr(g_root, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0, 0) < 0)
          fail(errno, "make the root read-only");
        break;
      case proto::T_SYSCTL: do_sysctl(proto::SysctlRec(r)); break;
      case proto::T_READONLY: do_readonly(proto::ReadonlyRec(r)); break;
      case proto::T_MASK: do_mask(proto::MaskRec(r)); break;
      default: break;
    }
  }
  return console;
}
