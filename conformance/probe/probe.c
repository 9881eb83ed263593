/*
 * tsrun conformance probe.
 *
 * A small static program copied into every test rootfs. It reports, as one
 * JSON document framed by marker lines on stdout, what the container process
 * sees: ids, capabilities, no_new_privs, seccomp mode, rlimits, cwd, env,
 * uts names, umask, namespace inodes, mountinfo, device nodes, scheduling,
 * I/O priority, personality, time namespace offsets, open fds, terminal, and
 * the outcome of the access checks asked for on its command line (reads,
 * writes, exec, stat, device nodes made and opened, ...).
 *
 * The same binary doubles as an OCI hook ("--hook NAME --dir DIR"): it saves
 * the state it receives on stdin plus its own view (argv, env, namespaces)
 * under DIR and appends NAME to DIR/order.
 *
 * It must stay free of side effects outside the paths it is told about.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BEGIN_MARK "@@TSRUN-PROBE-BEGIN@@"
#define END_MARK "@@TSRUN-PROBE-END@@"

/* ---------- output buffer ---------- */

static char *obuf;
static size_t olen, ocap;

static void out_raw(const char *s, size_t n) {
  if (olen + n + 1 > ocap) {
    size_t nc = ocap ? ocap : 65536;
    while (olen + n + 1 > nc) nc *= 2;
    char *p = realloc(obuf, nc);
    if (!p) _exit(121);
    obuf = p;
    ocap = nc;
  }
  memcpy(obuf + olen, s, n);
  olen += n;
  obuf[olen] = 0;
}

static void out(const char *s) { out_raw(s, strlen(s)); }

static void outf(const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
  out_raw(tmp, (size_t)n);
}

/* JSON string; bytes that are not printable ASCII are escaped as \u00XX. */
static void out_str_n(const char *s, size_t n) {
  out("\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"') out("\\\"");
    else if (c == '\\') out("\\\\");
    else if (c == '\n') out("\\n");
    else if (c == '\t') out("\\t");
    else if (c < 0x20 || c >= 0x7f) outf("\\u%04x", c);
    else out_raw((const char *)&c, 1);
  }
  out("\"");
}

static void out_str(const char *s) {
  if (!s) { out("null"); return; }
  out_str_n(s, strlen(s));
}

static void out_key(const char *k) { out_str(k); out(":"); }

static const char *errname(int e) {
  switch (e) {
  case 0: return "OK";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EIO: return "EIO";
  case ENXIO: return "ENXIO";
  case EBADF: return "EBADF";
  case EAGAIN: return "EAGAIN";
  case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES";
  case EFAULT: return "EFAULT";
  case EBUSY: return "EBUSY";
  case EEXIST: return "EEXIST";
  case EXDEV: return "EXDEV";
  case ENODEV: return "ENODEV";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  case EINVAL: return "EINVAL";
  case ENFILE: return "ENFILE";
  case EMFILE: return "EMFILE";
  case ENOTTY: return "ENOTTY";
  case ETXTBSY: return "ETXTBSY";
  case EFBIG: return "EFBIG";
  case ENOSPC: return "ENOSPC";
  case EROFS: return "EROFS";
  case EMLINK: return "EMLINK";
  case ENOSYS: return "ENOSYS";
  case ELOOP: return "ELOOP";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
  case ENOTSUP: return "ENOTSUP";
  default: {
    static char b[32];
    snprintf(b, sizeof b, "E%d", e);
    return b;
  }
  }
}

/* ---------- helpers ---------- */

static char *read_file(const char *path, size_t max, size_t *lenp, int *errp) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { if (errp) *errp = errno; return NULL; }
  size_t cap = 4096, len = 0;
  char *b = malloc(cap + 1);
  if (!b) _exit(121);
  for (;;) {
    if (len == cap) {
      if (cap >= max) break;
      cap *= 2;
      b = realloc(b, cap + 1);
      if (!b) _exit(121);
    }
    ssize_t n = read(fd, b + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errp) *errp = errno;
      close(fd);
      free(b);
      return NULL;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  b[len] = 0;
  if (lenp) *lenp = len;
  if (errp) *errp = 0;
  return b;
}

static void out_file_lines(const char *path) {
  char *b = read_file(path, 1 << 22, NULL, NULL);
  if (!b) { out("null"); return; }
  out("[");
  int first = 1;
  char *save = NULL;
  for (char *l = strtok_r(b, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (!first) out(",");
    first = 0;
    out_str(l);
  }
  out("]");
  free(b);
}

static void out_file_trim(const char *path) {
  char *b = read_file(path, 1 << 16, NULL, NULL);
  if (!b) { out("null"); return; }
  size_t n = strlen(b);
  while (n && (b[n - 1] == '\n' || b[n - 1] == ' ')) b[--n] = 0;
  out_str(b);
  free(b);
}

/* value of "Key:" in /proc/self/status, trimmed */
static void status_field(const char *status, const char *key, char *dst, size_t dstn) {
  dst[0] = 0;
  size_t kl = strlen(key);
  const char *p = status;
  while (p && *p) {
    if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
      p += kl + 1;
      while (*p == ' ' || *p == '\t') p++;
      size_t i = 0;
      while (*p && *p != '\n' && i + 1 < dstn) dst[i++] = *p++;
      dst[i] = 0;
      return;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
}

/* ---------- report sections ---------- */

static void out_ids(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  outf("\"uid\":%u,\"euid\":%u,\"suid\":%u,\"gid\":%u,\"egid\":%u,\"sgid\":%u,", r, e, s, gr, ge, gs);
  gid_t groups[512];
  int n = getgroups(512, groups);
  out("\"groups\":[");
  for (int i = 0; i < n; i++) outf("%s%u", i ? "," : "", groups[i]);
  out("],");
}

static void out_status(void) {
  char *st = read_file("/proc/self/status", 1 << 16, NULL, NULL);
  char v[256];
  static const char *keys[][2] = {
      {"CapInh", "inheritable"}, {"CapPrm", "permitted"}, {"CapEff", "effective"},
      {"CapBnd", "bounding"},    {"CapAmb", "ambient"},
  };
  out("\"caps\":{");
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    status_field(st ? st : "", keys[i][0], v, sizeof v);
    if (i) out(",");
    out_key(keys[i][1]);
    out_str(v);
  }
  out("},");
  status_field(st ? st : "", "NoNewPrivs", v, sizeof v);
  outf("\"noNewPrivs\":%d,", v[0] ? atoi(v) : -1);
  outf("\"noNewPrivsPrctl\":%d,", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  status_field(st ? st : "", "Seccomp", v, sizeof v);
  outf("\"seccomp\":%d,", v[0] ? atoi(v) : -1);
  status_field(st ? st : "", "Seccomp_filters", v, sizeof v);
  outf("\"seccompFilters\":%d,", v[0] ? atoi(v) : -1);
  status_field(st ? st : "", "Umask", v, sizeof v);
  out("\"umask\":");
  out_str(v[0] ? v : NULL);
  out(",");
  status_field(st ? st : "", "Cpus_allowed_list", v, sizeof v);
  out("\"cpusAllowed\":");
  out_str(v);
  out(",");
  status_field(st ? st : "", "Mems_allowed_list", v, sizeof v);
  out("\"memsAllowed\":");
  out_str(v);
  out(",");
  free(st);
}

static void out_rlimits(void) {
  static const struct { const char *name; int res; } rl[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  out("\"rlimits\":{");
  for (size_t i = 0; i < sizeof rl / sizeof rl[0]; i++) {
    struct rlimit r;
    if (i) out(",");
    out_key(rl[i].name);
    if (getrlimit(rl[i].res, &r) != 0) { out("null"); continue; }
    out("{\"soft\":");
    if (r.rlim_cur == RLIM_INFINITY) out("\"unlimited\""); else outf("\"%llu\"", (unsigned long long)r.rlim_cur);
    out(",\"hard\":");
    if (r.rlim_max == RLIM_INFINITY) out("\"unlimited\""); else outf("\"%llu\"", (unsigned long long)r.rlim_max);
    out("}");
  }
  out("},");
}

static void out_ns(const char *procdir) {
  static const char *types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                "time", "time_for_children", "user", "uts"};
  out("\"ns\":{");
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char p[256], l[256];
    snprintf(p, sizeof p, "%s/ns/%s", procdir, types[i]);
    ssize_t n = readlink(p, l, sizeof l - 1);
    if (i) out(",");
    out_key(types[i]);
    if (n < 0) { out("null"); continue; }
    l[n] = 0;
    out_str(l);
  }
  out("},");
}

struct dev_walk { int count; };

static void walk_dev(const char *dir, int depth, struct dev_walk *w) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 4) walk_dev(p, depth + 1, w);
      continue;
    }
    if (w->count >= 2000) continue;
    if (w->count++) out(",");
    out("{");
    out_key("path");
    out_str(p);
    const char *t = "f";
    if (S_ISCHR(st.st_mode)) t = "c";
    else if (S_ISBLK(st.st_mode)) t = "b";
    else if (S_ISLNK(st.st_mode)) t = "l";
    else if (S_ISFIFO(st.st_mode)) t = "p";
    else if (S_ISSOCK(st.st_mode)) t = "s";
    outf(",\"type\":\"%s\",\"mode\":%u,\"uid\":%u,\"gid\":%u", t, (unsigned)(st.st_mode & 07777),
         st.st_uid, st.st_gid);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      outf(",\"major\":%u,\"minor\":%u", major(st.st_rdev), minor(st.st_rdev));
    if (S_ISLNK(st.st_mode)) {
      char l[PATH_MAX];
      ssize_t n = readlink(p, l, sizeof l - 1);
      if (n >= 0) {
        l[n] = 0;
        out(",\"target\":");
        out_str(l);
      }
    }
    out("}");
  }
  closedir(d);
}

static void out_devices(void) {
  struct dev_walk w = {0};
  out("\"devices\":[");
  walk_dev("/dev", 0, &w);
  out("],");
}

static void out_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  out("\"fds\":[");
  if (d) {
    int self = dirfd(d), first = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd == self) continue;
      char p[64], l[PATH_MAX];
      snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(p, l, sizeof l - 1);
      if (n < 0) n = 0;
      l[n] = 0;
      if (!first) out(",");
      first = 0;
      outf("{\"fd\":%d,\"target\":", fd);
      out_str(l);
      out("}");
    }
    closedir(d);
  }
  out("],");
}

#ifndef SYS_sched_getattr
#define SYS_sched_getattr 315
#endif
#ifndef SYS_ioprio_get
#define SYS_ioprio_get 252
#endif

struct probe_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static void out_sched(void) {
  struct probe_sched_attr a;
  memset(&a, 0, sizeof a);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  outf("\"nice\":%d,", nice);
  if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0) {
    outf("\"sched\":{\"policy\":%u,\"flags\":%llu,\"nice\":%d,\"priority\":%u,\"runtime\":%llu,"
         "\"deadline\":%llu,\"period\":%llu},",
         a.sched_policy, (unsigned long long)a.sched_flags, a.sched_nice, a.sched_priority,
         (unsigned long long)a.sched_runtime, (unsigned long long)a.sched_deadline,
         (unsigned long long)a.sched_period);
  } else {
    outf("\"sched\":{\"policy\":%d,\"error\":\"%s\"},", sched_getscheduler(0), errname(errno));
  }
  long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  if (io < 0) outf("\"ioprio\":{\"error\":\"%s\"},", errname(errno));
  else outf("\"ioprio\":{\"class\":%ld,\"level\":%ld},", (io >> 13) & 0x7, io & 0x1fff);
}

static void out_tty(void) {
  out("\"tty\":{");
  for (int fd = 0; fd < 3; fd++) outf("\"isatty%d\":%s,", fd, isatty(fd) ? "true" : "false");
  char *n = ttyname(0);
  out("\"name0\":");
  out_str(n);
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) outf(",\"rows\":%u,\"cols\":%u", ws.ws_row, ws.ws_col);
  pid_t sid = getsid(0), fg = tcgetpgrp(0);
  outf(",\"sid\":%d,\"pgid\":%d,\"fgpgrp\":%d", sid, getpgrp(), fg);
  out("},");
}

/* ---------- checks requested on the command line ---------- */

static int nchecks;

static void check_begin(const char *op, const char *path) {
  if (nchecks++) out(",");
  out("{");
  out_key("op");
  out_str(op);
  out(",");
  out_key("path");
  out_str(path);
}

static void check_end_err(int err) { outf(",\"ok\":%s,\"errno\":\"%s\"}", err ? "false" : "true", errname(err)); }

static void do_read(const char *path) {
  check_begin("read", path);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) { check_end_err(errno); return; }
    out(",\"dir\":true,\"entries\":[");
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      if (n < 200) { if (n) out(","); out_str(e->d_name); }
      n++;
    }
    closedir(d);
    outf("],\"count\":%d", n);
    check_end_err(0);
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) { check_end_err(errno); return; }
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (n < 0) { out(",\"opened\":true"); check_end_err(err); return; }
  outf(",\"bytes\":%zd,\"content\":", n);
  out_str_n(buf, (size_t)(n > 256 ? 256 : n));
  check_end_err(0);
}

/* open for writing without writing anything */
static void do_openw(const char *path) {
  check_begin("openw", path);
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) { check_end_err(errno); return; }
  close(fd);
  check_end_err(0);
}

/* create (or truncate) a file and write a short text */
static void do_write(const char *path) {
  check_begin("write", path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) { check_end_err(errno); return; }
  ssize_t n = write(fd, "probe\n", 6);
  int err = n < 0 ? errno : 0;
  close(fd);
  check_end_err(err);
}

static void do_mkdir(const char *path) {
  check_begin("mkdir", path);
  int r = mkdir(path, 0755);
  check_end_err(r ? errno : 0);
}

static void do_exec(const char *path) {
  check_begin("exec", path);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) { check_end_err(errno); return; }
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {(char *)path, "--exit", "0", "--quiet", NULL};
    execve(path, argv, environ);
    int e = errno;
    if (write(p[1], &e, sizeof e) < 0) _exit(126);
    _exit(127);
  }
  close(p[1]);
  int e = 0;
  ssize_t n = read(p[0], &e, sizeof e);
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n == (ssize_t)sizeof e) { check_end_err(e); return; }
  outf(",\"exitCode\":%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  check_end_err(0);
}

static void do_stat(const char *path) {
  check_begin("stat", path);
  struct stat st;
  if (lstat(path, &st) != 0) { check_end_err(errno); return; }
  const char *t = "f";
  if (S_ISDIR(st.st_mode)) t = "d";
  else if (S_ISCHR(st.st_mode)) t = "c";
  else if (S_ISBLK(st.st_mode)) t = "b";
  else if (S_ISLNK(st.st_mode)) t = "l";
  else if (S_ISFIFO(st.st_mode)) t = "p";
  else if (S_ISSOCK(st.st_mode)) t = "s";
  outf(",\"type\":\"%s\",\"mode\":%u,\"uid\":%u,\"gid\":%u,\"size\":%lld", t,
       (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid, (long long)st.st_size);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    outf(",\"major\":%u,\"minor\":%u", major(st.st_rdev), minor(st.st_rdev));
  if (S_ISLNK(st.st_mode)) {
    char l[PATH_MAX];
    ssize_t n = readlink(path, l, sizeof l - 1);
    if (n >= 0) { l[n] = 0; out(",\"target\":"); out_str(l); }
  }
  check_end_err(0);
}

/*
 * --mknod TYPE:MAJOR:MINOR:ACCESS:PATH (TYPE c or b, ACCESS r or w): make a
 * device node at PATH, open it (read-only or write-only, without reading or
 * writing anything) and remove it again. "mknod" and "open" are the outcomes
 * of the two steps; errno is that of the first step that failed. A device
 * cgroup refuses either step with EPERM.
 */
static void do_mknod(const char *spec) {
  char type = 0, acc = 0;
  unsigned maj = 0, min = 0;
  int n = 0;
  if (sscanf(spec, "%c:%u:%u:%c:%n", &type, &maj, &min, &acc, &n) != 4 || n == 0 ||
      (type != 'c' && type != 'b') || (acc != 'r' && acc != 'w') || spec[n] != '/') {
    check_begin("mknod", spec);
    out(",\"bad\":true");
    check_end_err(EINVAL);
    return;
  }
  const char *path = spec + n;
  check_begin("mknod", path);
  outf(",\"type\":\"%c\",\"major\":%u,\"minor\":%u,\"access\":\"%c\"", type, maj, min, acc);
  unlink(path);
  if (mknod(path, (type == 'c' ? S_IFCHR : S_IFBLK) | 0600, makedev(maj, min)) != 0) {
    int e = errno;
    outf(",\"mknod\":\"%s\",\"open\":null", errname(e));
    check_end_err(e);
    return;
  }
  int fd = open(path, (acc == 'w' ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  unlink(path);
  outf(",\"mknod\":\"OK\",\"open\":\"%s\"", errname(e));
  check_end_err(e);
}

/* remount-free check of the mount flags that apply to path */
static void do_bindmount(const char *path) {
  /* tries to create a bind mount of path onto itself (propagation tests) */
  check_begin("bindself", path);
  int r = mount(path, path, NULL, MS_BIND, NULL);
  int e = r ? errno : 0;
  if (r == 0) umount2(path, MNT_DETACH);
  check_end_err(e);
}

static void do_syscall(const char *name) {
  check_begin("syscall", name);
  long r = -1;
  errno = 0;
  char buf[PATH_MAX];
  if (!strcmp(name, "getcwd")) r = syscall(SYS_getcwd, buf, sizeof buf);
  else if (!strcmp(name, "chmod")) r = syscall(SYS_chmod, "/", 0755) ;
  else if (!strcmp(name, "uname")) { struct utsname u; r = syscall(SYS_uname, &u); }
  else if (!strcmp(name, "getppid")) r = syscall(SYS_getppid);
  else if (!strcmp(name, "sched_yield")) r = syscall(SYS_sched_yield);
  else if (!strcmp(name, "personality-query")) r = syscall(SYS_personality, 0xffffffffUL);
  else if (!strcmp(name, "socket-inet")) { r = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); if (r >= 0) close((int)r); }
  else if (!strcmp(name, "socket-unix")) { r = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); if (r >= 0) close((int)r); }
  else if (!strcmp(name, "sethostname")) { struct utsname u; uname(&u); r = sethostname(u.nodename, strlen(u.nodename)); }
  else if (!strcmp(name, "mknod-null")) { r = mknod("/tmp/.probe-null", S_IFCHR | 0600, makedev(1, 3)); if (r == 0) unlink("/tmp/.probe-null"); }
  else if (!strcmp(name, "mount-tmpfs")) { r = mount("none", "/tmp", "tmpfs", 0, NULL); if (r == 0) umount2("/tmp", MNT_DETACH); }
  else if (!strcmp(name, "chown-self")) { r = chown("/probe", 0, 0); }
  else if (!strcmp(name, "setuid-1000")) { r = syscall(SYS_setuid, 1000); }
  else { errno = ENOSYS; r = -2; }
  int e = r < 0 ? errno : 0;
  if (r == -2) { out(",\"unknown\":true"); }
  outf(",\"ret\":%ld", r);
  check_end_err(e);
}

static void do_sysctl(const char *name) {
  check_begin("sysctl", name);
  char p[PATH_MAX];
  snprintf(p, sizeof p, "/proc/sys/%s", name);
  for (char *c = p + 10; *c; c++) if (*c == '.') *c = '/';
  int err = 0;
  size_t n = 0;
  char *b = read_file(p, 4096, &n, &err);
  if (!b) { check_end_err(err); return; }
  while (n && (b[n - 1] == '\n')) b[--n] = 0;
  out(",\"value\":");
  out_str(b);
  free(b);
  check_end_err(0);
}

static volatile sig_atomic_t got_signal;
static void on_signal(int s) { got_signal = s; }

/* ---------- hook mode ---------- */

static int hook_main(const char *name, const char *dir, int argc, char **argv, int exit_code, int sleep_s) {
  char p[PATH_MAX];
  size_t n = 0;
  char *in = read_file("/dev/stdin", 1 << 20, &n, NULL);
  if (!in) in = strdup("");
  snprintf(p, sizeof p, "%s/%s.stdin", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) { if (write(fd, in, n) < 0) {} close(fd); }

  /* pid from the state, to look at the container process from here */
  long tpid = -1;
  const char *pp = strstr(in, "\"pid\"");
  if (pp) {
    pp = strchr(pp, ':');
    if (pp) tpid = strtol(pp + 1, NULL, 10);
  }
  out("{");
  out_key("name");
  out_str(name);
  out(",\"argv\":[");
  for (int i = 0; i < argc; i++) { if (i) out(","); out_str(argv[i]); }
  out("],\"env\":[");
  for (char **e = environ; e && *e; e++) { if (e != environ) out(","); out_str(*e); }
  out("],");
  outf("\"pid\":%d,\"targetPid\":%ld,", getpid(), tpid);
  out_ns("/proc/self");
  char cwd[PATH_MAX];
  out("\"cwd\":");
  out_str(getcwd(cwd, sizeof cwd));
  out(",");
  struct utsname u;
  uname(&u);
  out("\"hostname\":");
  out_str(u.nodename);
  out(",");
  if (tpid > 0) {
    char q[64];
    snprintf(q, sizeof q, "/proc/%ld", tpid);
    out("\"target\":{");
    char *ns_save = NULL;
    (void)ns_save;
    out_ns(q);
    snprintf(q, sizeof q, "/proc/%ld/cmdline", tpid);
    size_t cl = 0;
    char *c = read_file(q, 1 << 16, &cl, NULL);
    out("\"cmdline\":[");
    if (c) {
      size_t off = 0;
      int first = 1;
      while (off < cl) {
        if (!first) out(",");
        first = 0;
        out_str(c + off);
        off += strlen(c + off) + 1;
      }
      free(c);
    }
    out("],\"exe\":");
    char l[PATH_MAX];
    snprintf(q, sizeof q, "/proc/%ld/exe", tpid);
    ssize_t ln = readlink(q, l, sizeof l - 1);
    if (ln >= 0) { l[ln] = 0; out_str(l); } else out("null");
    out("},");
  }
  outf("\"uid\":%u}", getuid());
  snprintf(p, sizeof p, "%s/%s.json", dir, name);
  fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) { if (write(fd, obuf, olen) < 0) {} close(fd); }
  snprintf(p, sizeof p, "%s/order", dir);
  fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    char line[256];
    int ll = snprintf(line, sizeof line, "%s\n", name);
    if (write(fd, line, (size_t)ll) < 0) {}
    close(fd);
  }
  if (sleep_s > 0) sleep((unsigned)sleep_s);
  return exit_code;
}

/* ---------- main ---------- */

static void usage(void) {
  fprintf(stderr,
          "usage: probe [--quiet] [--exit N] [--sleep S] [--wait-signal] [--marker PATH]\n"
          "             [--read P] [--openw P] [--write P] [--mkdir P] [--exec P] [--stat P]\n"
          "             [--bindself P] [--syscall NAME] [--sysctl NAME] [--last-syscall NAME]\n"
          "             [--mknod c|b:MAJOR:MINOR:r|w:PATH]\n"
          "       probe --hook NAME --dir DIR [--exit N] [--sleep S]\n");
}

int main(int argc, char **argv) {
  int exit_code = 0, sleep_s = 0, wait_sig = 0, quiet = 0, bad = 0;
  const char *hook = NULL, *hookdir = NULL, *last_syscall = NULL, *marker = NULL;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--hook") && i + 1 < argc) hook = argv[++i];
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) hookdir = argv[++i];
    else if (!strcmp(argv[i], "--exit") && i + 1 < argc) exit_code = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--sleep") && i + 1 < argc) sleep_s = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--quiet")) quiet = 1;
    else if (!strcmp(argv[i], "--wait-signal")) wait_sig = 1;
    else if (!strcmp(argv[i], "--marker") && i + 1 < argc) marker = argv[++i];
    else if (!strcmp(argv[i], "--last-syscall") && i + 1 < argc) last_syscall = argv[++i];
    else if (i + 1 < argc && (!strcmp(argv[i], "--read") || !strcmp(argv[i], "--openw") ||
                              !strcmp(argv[i], "--write") || !strcmp(argv[i], "--mkdir") ||
                              !strcmp(argv[i], "--exec") || !strcmp(argv[i], "--stat") ||
                              !strcmp(argv[i], "--bindself") || !strcmp(argv[i], "--syscall") ||
                              !strcmp(argv[i], "--sysctl") || !strcmp(argv[i], "--mknod"))) i++;
    else bad = 1; /* a hook may be given extra arguments; the probe itself may not */
  }
  if (bad && !hook) { usage(); return 2; }
  if (hook) return hook_main(hook, hookdir ? hookdir : ".", argc, argv, exit_code, sleep_s);
  if (quiet) return exit_code;

  if (marker) {
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) { if (write(fd, "started\n", 8) < 0) {} close(fd); }
  }

  if (wait_sig) {
    /* Block until a catchable signal arrives; report which one. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (int s = 1; s < 32; s++) if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    while (!got_signal) pause();
  }

  /* Snapshot of fds before anything else is opened. */
  out("{");
  out_fds();
  out("\"argv\":[");
  for (int i = 0; i < argc; i++) { if (i) out(","); out_str(argv[i]); }
  out("],\"env\":[");
  for (char **e = environ; e && *e; e++) { if (e != environ) out(","); out_str(*e); }
  out("],");
  outf("\"pid\":%d,\"ppid\":%d,", getpid(), getppid());
  if (wait_sig) outf("\"signal\":%d,", (int)got_signal);
  out_ids();
  out_status();
  out_rlimits();
  char cwd[PATH_MAX];
  out("\"cwd\":");
  out_str(getcwd(cwd, sizeof cwd));
  out(",");
  struct utsname u;
  uname(&u);
  out("\"hostname\":");
  out_str(u.nodename);
  out(",\"domainname\":");
  out_str(u.domainname);
  out(",\"machine\":");
  out_str(u.machine);
  out(",");
  outf("\"personality\":%d,", personality(0xffffffff));
  {
    /* get_mempolicy(2): the policy's mode with its flags, and nodes 0-63 */
    int mode = -1;
    unsigned long nodes[16] = {0}; /* maxnode must cover the kernel's nodes */
    if (syscall(SYS_get_mempolicy, &mode, nodes, 16 * 8 * sizeof(unsigned long), NULL, 0) != 0) mode = -1;
    outf("\"memPolicy\":{\"mode\":%d,\"nodes\":\"%lx\"},", mode, nodes[0]);
  }
  out_ns("/proc/self");
  out("\"oomScoreAdj\":");
  out_file_trim("/proc/self/oom_score_adj");
  out(",\"cgroup\":");
  out_file_lines("/proc/self/cgroup");
  out(",\"uidMap\":");
  out_file_lines("/proc/self/uid_map");
  out(",\"gidMap\":");
  out_file_lines("/proc/self/gid_map");
  out(",\"setgroups\":");
  out_file_trim("/proc/self/setgroups");
  out(",\"timensOffsets\":");
  out_file_lines("/proc/self/timens_offsets");
  out(",\"apparmor\":");
  out_file_trim("/proc/self/attr/apparmor/current");
  out(",\"lsmCurrent\":");
  out_file_trim("/proc/self/attr/current");
  out(",\"mountinfo\":");
  out_file_lines("/proc/self/mountinfo");
  out(",");
  out_sched();
  out_tty();
  out_devices();
  struct timespec mono, boot;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  outf("\"clocks\":{\"monotonic\":%lld,\"boottime\":%lld},", (long long)mono.tv_sec, (long long)boot.tv_sec);

  out("\"checks\":[");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) break;
    if (!strcmp(a, "--read")) do_read(argv[++i]);
    else if (!strcmp(a, "--openw")) do_openw(argv[++i]);
    else if (!strcmp(a, "--write")) do_write(argv[++i]);
    else if (!strcmp(a, "--mkdir")) do_mkdir(argv[++i]);
    else if (!strcmp(a, "--exec")) do_exec(argv[++i]);
    else if (!strcmp(a, "--stat")) do_stat(argv[++i]);
    else if (!strcmp(a, "--bindself")) do_bindmount(argv[++i]);
    else if (!strcmp(a, "--syscall")) do_syscall(argv[++i]);
    else if (!strcmp(a, "--sysctl")) do_sysctl(argv[++i]);
    else if (!strcmp(a, "--mknod")) do_mknod(argv[++i]);
    else if (!strcmp(a, "--hook") || !strcmp(a, "--dir") || !strcmp(a, "--exit") ||
             !strcmp(a, "--sleep") || !strcmp(a, "--marker") || !strcmp(a, "--last-syscall")) i++;
  }
  out("],");
  out("\"complete\":true}");

  /* Emit in one write so that a kill right after cannot cut the document. */
  const char *b = BEGIN_MARK "\n";
  const char *e = "\n" END_MARK "\n";
  size_t total = strlen(b) + olen + strlen(e);
  char *all = malloc(total);
  if (!all) _exit(121);
  memcpy(all, b, strlen(b));
  memcpy(all + strlen(b), obuf, olen);
  memcpy(all + strlen(b) + olen, e, strlen(e));
  size_t off = 0;
  while (off < total) {
    ssize_t n = write(1, all + off, total - off);
    if (n < 0) { if (errno == EINTR) continue; break; }
    off += (size_t)n;
  }

  if (last_syscall) {
    /* The report is out; this syscall may kill us (seccomp KILL tests). */
    olen = 0;
    nchecks = 0;
    do_syscall(last_syscall);
    const char *l = "\n@@TSRUN-PROBE-AFTER@@ ";
    if (write(1, l, strlen(l)) < 0) {}
    if (write(1, obuf, olen) < 0) {}
    if (write(1, "\n", 1) < 0) {}
  }
  if (sleep_s > 0) {
    struct timespec ts = {sleep_s, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  }
  return exit_code;
}
