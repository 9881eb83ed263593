// A seccomp agent for the tests (config-linux.md "Seccomp", listenerPath):
//   seccomp-agent SOCKET ERRNO LOG
// Listens on SOCKET. Each connection brings one container process state
// (JSON) with the listener fd (SCM_RIGHTS): the number of fds it came with
// (all messages, truncation counted as -1) and the JSON are appended to LOG
// as one line, then every notification of the listener is answered: the
// syscall fails with ERRNO, a value the test chooses so that only the
// agent could have returned it.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 32

// One state: the JSON until the runtime closes; the first fd is the
// listener, any other is counted (and closed).
static int receive_state(int conn, FILE *log) {
  static char buf[1 << 16];
  union {
    char b[CMSG_SPACE(sizeof(int) * 8)];
    struct cmsghdr align;
  } ctl;
  size_t got = 0;
  int fd = -1, nfds = 0;
  for (;;) {
    struct iovec iov = {buf + got, sizeof buf - 1 - got};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    ssize_t r = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
    if (r <= 0) break;
    if (m.msg_flags & MSG_CTRUNC) nfds = -1;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      int n = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      for (int i = 0; i < n; i++) {
        int one;
        memcpy(&one, CMSG_DATA(h) + i * sizeof(int), sizeof one);
        if (fd < 0) fd = one;
        else close(one);
        if (nfds >= 0) nfds++;
      }
    }
    got += (size_t)r;
    if (got == sizeof buf - 1) break;
  }
  buf[got] = 0;
  fprintf(log, "%d %s\n", nfds, buf);
  fflush(log);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s SOCKET ERRNO LOG\n", argv[0]);
    return 2;
  }
  int answer = atoi(argv[2]);
  FILE *log = fopen(argv[3], "a");
  if (!log) return perror("open log"), 1;
  // The kernel's structs may be larger than this header's.
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return perror("SECCOMP_GET_NOTIF_SIZES"), 1;
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif + sizeof *req);
  struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp + sizeof *resp);

  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(sock, 8) < 0) return perror("listen"), 1;

  struct pollfd fds[MAX_FDS] = {{.fd = sock, .events = POLLIN}};
  int n = 1;
  for (;;) {
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return perror("poll"), 1;
    }
    if (fds[0].revents & POLLIN) {
      int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) {
        int fd = receive_state(conn, log);
        close(conn);
        if (fd >= 0 && n < MAX_FDS) fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        else if (fd >= 0) close(fd);
      }
    }
    for (int i = 1; i < n; i++) {
      if (fds[i].revents & POLLIN) {
        memset(req, 0, sizes.seccomp_notif);  // RECV wants it zeroed
        if (ioctl(fds[i].fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) continue;  // the caller is gone
        memset(resp, 0, sizes.seccomp_notif_resp);
        resp->id = req->id;
        resp->error = -answer;
        ioctl(fds[i].fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
      } else if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        // No process uses that filter any more.
        close(fds[i].fd);
        fds[i--] = fds[--n];
      }
    }
  }
}
