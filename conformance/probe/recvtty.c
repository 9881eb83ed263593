/*
 * tsrun conformance console receiver.
 *
 * Listens on a unix socket (the --console-socket given to the runtime),
 * accepts one connection, receives the pseudoterminal master sent with
 * SCM_RIGHTS, and copies everything read from it to stdout until the
 * terminal is closed. With --winsize ROWSxCOLS it reports on stderr the
 * window size the master had when received.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: recvtty SOCKET\n");
    return 2;
  }
  const char *path = argv[1];
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) { perror("socket"); return 1; }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) { fprintf(stderr, "socket path too long\n"); return 1; }
  strcpy(addr.sun_path, path);
  unlink(path);
  /* bind to a temporary name and rename, so the path appears only when listening */
  char tmp[sizeof addr.sun_path];
  snprintf(tmp, sizeof tmp, "%s.t", path);
  if (strlen(tmp) >= sizeof addr.sun_path) { fprintf(stderr, "socket path too long\n"); return 1; }
  strcpy(addr.sun_path, tmp);
  unlink(tmp);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
  if (listen(s, 4) != 0) { perror("listen"); return 1; }
  if (rename(tmp, path) != 0) { perror("rename"); return 1; }

  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) { perror("accept"); return 1; }
  char data[4096];
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) { perror("recvmsg"); return 1; }
  int master = -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      memcpy(&master, CMSG_DATA(cm), sizeof(int));
      break;
    }
  }
  if (master < 0) { fprintf(stderr, "no fd received\n"); return 1; }
  struct winsize ws;
  if (ioctl(master, TIOCGWINSZ, &ws) == 0)
    fprintf(stderr, "recvtty: received terminal %ux%u name=%.*s\n", ws.ws_row, ws.ws_col, (int)n, data);
  else
    fprintf(stderr, "recvtty: received fd (not a terminal: %s) name=%.*s\n", strerror(errno), (int)n, data);
  close(c);
  close(s);
  unlink(path);
  char buf[4096];
  for (;;) {
    ssize_t r = read(master, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t off = 0;
    while (off < r) {
      ssize_t w = write(1, buf + off, (size_t)(r - off));
      if (w < 0) { if (errno == EINTR) continue; return 1; }
      off += w;
    }
  }
  return 0;
}
