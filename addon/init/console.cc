// process.terminal: a pty allocated from the container's own devpts, its
// master sent to the caller over the console socket (SCM_RIGHTS), its slave
// bound on /dev/console and made the process's stdio (in process.cc).
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"
#include "syscalls.h"

namespace {

// CVE-2025-52565: /dev/console must be our own plain file, never a symlink
// or an existing node that could point elsewhere.
int console_target() {
  int dev = open_in_root("/dev", O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (dev < 0) fail(errno, "open /dev");
  struct stat st;
  if (fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) fail(EISDIR, "/dev/console is a directory");
    if (unlinkat(dev, "console", 0) < 0) fail(errno, "remove /dev/console");
  }
  int f = openat(dev, "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
  if (f < 0) fail(errno, "create /dev/console");
  close(f);
  int fd = sys_openat2(dev, "console", O_PATH | O_CLOEXEC, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
  if (fd < 0) fail(errno, "open /dev/console");
  close(dev);
  return fd;
}

}  // namespace

int setup_console(const proto::ConsoleRec &r) {
  int sock = r.socket();
  unsigned rows = static_cast<unsigned>(r.rows()), cols = static_cast<unsigned>(r.cols());
  int master = open_in_root("/dev/pts/ptmx", O_RDWR | O_NOCTTY, RESOLVE_NO_SYMLINKS);
  if (master < 0) fail(errno, "open /dev/pts/ptmx (a terminal needs a devpts mount on /dev/pts)");
  struct statfs sfs;
  if (fstatfs(master, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC) fail(EXDEV, "/dev/pts/ptmx is not on devpts");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(errno, "unlock pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(errno, "open pty slave");
  if (rows || cols) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail(errno, "set console size");
  }
  // The init's terminal is the container's console; an exec'd process's is its own.
  if (r.bind_dev_console()) {
    int target = console_target();
    int tree = sys_open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) fail(errno, "clone pty slave");
    if (sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      fail(errno, "bind pty on /dev/console");
    close(tree);
    close(target);
  }
  int err = send_fd(sock, master, "/dev/ptmx");
  if (err) fail(err, "send the terminal over the console socket");
  close(master);
  close(sock);
  return slave;
}
