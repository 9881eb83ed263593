#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "init.h"

int g_sync = -1;
uint32_t g_ref = 0;

bool read_full(int fd, void *buf, size_t n) {
  uint8_t *p = static_cast<uint8_t *>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const void *buf, size_t n) {
  const uint8_t *p = static_cast<const uint8_t *>(buf);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void send_msg(uint32_t type, const void *payload, uint32_t len) {
  uint32_t hdr[2] = {type, len};
  // A bare header goes with write(2): after seccomp is loaded (just before
  // MSG_READY) a profile is more likely to allow write than writev.
  if (len == 0) {
    if (!write_full(g_sync, hdr, sizeof hdr)) _exit(1);
    return;
  }
  struct iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<void *>(payload), len}};
  // Frames are small; one writev keeps them whole. Fall back to a loop.
  ssize_t w = writev(g_sync, iov, len ? 2 : 1);
  if (w == static_cast<ssize_t>(sizeof hdr + len)) return;
  if (w < 0) _exit(1);  // tsrun is gone: nobody to report to
  size_t done = static_cast<size_t>(w);
  if (done < sizeof hdr) {
    if (!write_full(g_sync, reinterpret_cast<uint8_t *>(hdr) + done, sizeof hdr - done)) _exit(1);
    done = 0;
  } else {
    done -= sizeof hdr;
  }
  if (!write_full(g_sync, static_cast<const uint8_t *>(payload) + done, len - done)) _exit(1);
}

int send_fds(int sock, const void *buf, size_t len, const int *fds, int n) {
  struct iovec iov = {const_cast<void *>(buf), len};
  union {
    char b[CMSG_SPACE(sizeof(int) * kMaxSentFds)];
    struct cmsghdr align;
  } ctl;
  if (n < 0 || n > kMaxSentFds) return EINVAL;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (n > 0) {
    m.msg_control = ctl.b;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  }
  ssize_t w;
  do {
    w = sendmsg(sock, &m, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  return w == static_cast<ssize_t>(len) ? 0 : (w < 0 ? errno : EIO);
}

int send_fd(int sock, int fd, const char *data) { return send_fds(sock, data, strlen(data), &fd, 1); }

uint32_t recv_msg(uint8_t **payload, uint32_t *len) {
  uint32_t hdr[2];
  if (!read_full(g_sync, hdr, sizeof hdr)) _exit(1);
  if (hdr[1] > proto::MAX_FRAME) _exit(1);
  uint8_t *buf = static_cast<uint8_t *>(malloc(hdr[1] + 1));
  if (!buf || !read_full(g_sync, buf, hdr[1])) _exit(1);
  *payload = buf;
  *len = hdr[1];
  return hdr[0];
}

void expect_ack() {
  uint8_t *p;
  uint32_t len;
  uint32_t type = recv_msg(&p, &len);
  free(p);
  if (type != proto::MSG_ACK) _exit(1);  // tsrun aborted the creation
}

static void vsend(uint32_t type, int err, const char *fmt, va_list ap) {
  char buf[4096];
  size_t off = 0;
  if (type == proto::MSG_ERROR) {
    uint32_t ref = g_ref;
    int32_t e = err;
    memcpy(buf, &ref, 4);
    memcpy(buf + 4, &e, 4);
    off = 8;
  }
  int n = vsnprintf(buf + off, sizeof buf - off, fmt, ap);
  if (n < 0) n = 0;
  size_t len = off + (static_cast<size_t>(n) < sizeof buf - off ? static_cast<size_t>(n) : sizeof buf - off - 1);
  send_msg(type, buf, static_cast<uint32_t>(len));
}

void fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (g_sync >= 0) {
    vsend(proto::MSG_ERROR, err, fmt, ap);
  } else {
    // After the handshake nobody listens on the channel: say it on stderr,
    // and to `start` if it waits for the program.
    char text[1024];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    if (err && n >= 0 && static_cast<size_t>(n) < sizeof text) snprintf(text + n, sizeof text - static_cast<size_t>(n), ": %s", strerror(err));
    fprintf(stderr, "tsrun-init: %s\n", text);
    report_error(text);
  }
  va_end(ap);
  _exit(1);
}

void warn(const char *fmt, ...) {
  if (g_sync < 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsend(proto::MSG_WARN, 0, fmt, ap);
  va_end(ap);
}
