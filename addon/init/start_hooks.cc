// startContainer hooks (config.md "startContainer"), run by the init itself
// once `start` has released it and just before the user's program: so they
// run as runc's do, in the container's namespaces, root and cgroup, as the
// process's user with its capabilities, rlimits and seccomp filter, and with
// none of tsrun's fds. Their path is resolved in the container.
//
// `start` learns the outcome through the report fifo (there when the
// config has startContainer or poststart hooks): one line, "ok", or
// "fail <hook index> <message>" after which the init exits (the container
// is stopped, as the spec asks of a failing hook). After "ok" the fifo
// stays open, close-on-exec, until the program's execve: its end of file
// tells `start` that the program was executed (poststart hooks wait for
// that), and an error on the way there comes as "error <message>".
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

int g_start_report = -1;

namespace {

int &g_report = g_start_report;

[[noreturn]] void report_failure(uint32_t index, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// One line of text from buf[from..len) on: newlines would end it early, and
// other control bytes (a hook's \r, say) have no place in an error message.
void report_line(char *buf, size_t from, size_t len) {
  for (size_t i = from; i < len; i++)
    if (static_cast<unsigned char>(buf[i]) < 0x20 || buf[i] == 0x7f) buf[i] = ' ';
  buf[len++] = '\n';
  write_full(g_report, buf, len);
}

void report_failure(uint32_t index, const char *fmt, ...) {
  char buf[2048];
  int n = snprintf(buf, sizeof buf, "fail %u ", index);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m) < sizeof buf - n - 1 ? static_cast<size_t>(m) : sizeof buf - n - 2);
  report_line(buf, static_cast<size_t>(n), len);
  _exit(1);
}

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The last bytes a hook wrote, for the error message (runc shows them too).
struct Tail {
  char buf[512];
  size_t len = 0;
  void add(const char *p, size_t n) {
    if (n >= sizeof buf) {
      memcpy(buf, p + n - sizeof buf, sizeof buf);
      len = sizeof buf;
      return;
    }
    if (len + n > sizeof buf) {
      size_t drop = len + n - sizeof buf;
      memmove(buf, buf + drop, len - drop);
      len -= drop;
    }
    memcpy(buf + len, p, n);
    len += n;
  }
  // NUL-terminated in place (dropping the oldest byte when full), control
  // bytes made spaces (a NUL would cut the message short), trailing
  // whitespace trimmed.
  const char *str() {
    if (len == sizeof buf) {
      memmove(buf, buf + 1, --len);
    }
    for (size_t i = 0; i < len; i++)
      if (static_cast<unsigned char>(buf[i]) < 0x20 || buf[i] == 0x7f) buf[i] = ' ';
    while (len > 0 && buf[len - 1] == ' ') len--;
    buf[len] = 0;
    return buf;
  }
};

void drain(int fd, Tail &tail) {
  char b[4096];
  for (;;) {
    ssize_t n = read(fd, b, sizeof b);
    if (n > 0) {
      tail.add(b, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;  // EOF or EAGAIN
  }
}

// The state as the hook's stdin: an unnamed in-memory file at offset 0,
// which the hook may read at its pace or reopen through /proc/self/fd/0, and
// whose size no pipe limit caps.
int state_file(const char *state, size_t len) {
  int fd = memfd_create("container-state", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (!write_full(fd, state, len) || lseek(fd, 0, SEEK_SET) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

void run_one(const proto::StartHookRec &r, uint32_t index, const char *state, size_t state_len) {
  const char *path = r.path();
  uint64_t timeout_s = r.timeout();
  char **argv = r.args().vec();
  char **envp = r.env().vec();

  int in = state_file(state, state_len);
  if (in < 0) report_failure(index, "hook %s: state on stdin: %s", path, strerror(errno));
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) report_failure(index, "hook %s: pipe: %s", path, strerror(errno));
  pid_t pid = fork();
  if (pid < 0) report_failure(index, "hook %s: fork: %s", path, strerror(errno));
  if (pid == 0) {
    // dup2 onto 0-2 leaves them without close-on-exec; every other fd of
    // the init (the report fifo, these pipes) has it.
    // The program's preserved fds are no longer close-on-exec: the hook
    // gets none of them.
    if (dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0) _exit(127);
    if (close_range(3, ~0U, 0) < 0)
      for (int fd = 3; fd < 1024; fd++) close(fd);
    // A process group of its own, so that a timeout kills all it started.
    setpgid(0, 0);
    execve(path, argv, envp);
    dprintf(2, "exec %s: %s", path, strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);  // as the child does: whichever comes first
  close(in);
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);

  Tail tail;
  int64_t deadline = timeout_s ? now_ms() + static_cast<int64_t>(timeout_s) * 1000 : -1;
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) report_failure(index, "hook %s: waitpid: %s", path, strerror(errno));
    if (deadline >= 0 && now_ms() >= deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      report_failure(index, "hook %s failed: timed out after %llus", path, static_cast<unsigned long long>(timeout_s));
    }
    // Read its output as it comes (a full pipe would stall it); wake at
    // least every 10 ms to see whether it has exited.
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (poll(&pfd, out[0] >= 0 ? 1 : 0, 10) > 0) {
      drain(out[0], tail);
      if (!(pfd.revents & POLLIN) && (pfd.revents & (POLLHUP | POLLERR))) {
        close(out[0]);  // it closed its output but may still be running
        out[0] = -1;
      }
    }
  }
  if (out[0] >= 0) {
    drain(out[0], tail);
    close(out[0]);
  }
  free(argv);
  free(envp);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const char *output = tail.str();
  if (WIFSIGNALED(status))
    report_failure(index, "hook %s failed: killed by signal %d%s%s", path, WTERMSIG(status), *output ? ": " : "", output);
  report_failure(index, "hook %s failed: exit status %d%s%s", path, WEXITSTATUS(status), *output ? ": " : "", output);
}

}  // namespace

void report_error(const char *text) {
  if (g_report < 0) return;
  char buf[2048];
  int n = snprintf(buf, sizeof buf - 1, "error %s", text);
  size_t len = n < 0 ? 0 : static_cast<size_t>(n) < sizeof buf - 1 ? static_cast<size_t>(n) : sizeof buf - 2;
  report_line(buf, 6, len);
}

void report_ok() {
  if (g_report >= 0) write_full(g_report, "ok\n", 3);
}

bool has_start_hooks(const Plan &plan) {
  for (size_t i = 0; i < plan.n; i++)
    if (plan.recs[i].tag == proto::T_START_HOOK) return true;
  return false;
}

void run_start_hooks(const Plan &plan) {
  const Record *state = nullptr;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    if (r.tag == proto::T_HOOK_STATE) state = &r;
  }
  if (!has_start_hooks(plan)) return;

  // The state on stdin: the spec's state of a created container, with the
  // init's pid as the container sees it (runc passes the same).
  char *json = nullptr;
  size_t json_len = 0;
  if (state) {
    proto::HookStateRec s(*state);
    FILE *f = open_memstream(&json, &json_len);
    if (f) {
      fprintf(f, "%s%d%s", s.before_pid(), static_cast<int>(getpid()), s.after_pid());
      fclose(f);
    }
  }
  if (!json) report_failure(0, "cannot build the container state for the hooks");

  uint32_t index = 0;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    if (r.tag != proto::T_START_HOOK) continue;
    run_one(proto::StartHookRec(r), index++, json, json_len);
  }
  free(json);
  report_ok();
}
