// The process stage, shared by the container's init and a process joined
// to a running container (exec): rlimits, stdio, no_new_privs, seccomp,
// user, capabilities, cwd, umask, the handshake with tsrun, then for the
// init the wait for `start` on the exec fifo, and execve. The order is fixed here, not by
// the plan, because it is what keeps the process from keeping privileges:
// the bounding set is dropped while CAP_SETPCAP is still held, the user is
// switched with KEEPCAPS, and the final capability sets are applied last.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

extern mode_t g_saved_umask;

namespace {

struct Proc {
  const Record *rlimits[64];
  int nrlimits = 0;
  bool no_new_privs = false;
  const Record *user = nullptr;
  const Record *umask = nullptr;
  const Record *caps = nullptr;
  const Record *cwd = nullptr;
  const Record *args = nullptr;
  const Record *env = nullptr;
  const Record *seccomp = nullptr;
  const Record *personality = nullptr;
  const Record *scheduler = nullptr;
  const Record *ioprio = nullptr;
  const Record *lsm[4];
  int nlsm = 0;
  const Record *mempolicy = nullptr;
  int fifo = -1;
  int report = -1;
  int preserve = 0;
};

Proc collect(const Plan &plan) {
  Proc p;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    g_ref = r.ref;
    switch (r.tag) {
      case proto::T_RLIMIT:
        if (p.nrlimits == 64) fail(EINVAL, "too many rlimits");
        p.rlimits[p.nrlimits++] = &r;
        break;
      case proto::T_NO_NEW_PRIVS: p.no_new_privs = true; break;
      case proto::T_USER: p.user = &r; break;
      case proto::T_UMASK: p.umask = &r; break;
      case proto::T_CAPS: p.caps = &r; break;
      case proto::T_CWD: p.cwd = &r; break;
      case proto::T_ARGS: p.args = &r; break;
      case proto::T_ENV: p.env = &r; break;
      case proto::T_SECCOMP: p.seccomp = &r; break;
      case proto::T_PERSONALITY: p.personality = &r; break;
      case proto::T_SCHEDULER: p.scheduler = &r; break;
      case proto::T_IOPRIO: p.ioprio = &r; break;
      case proto::T_MEMPOLICY: p.mempolicy = &r; break;
      case proto::T_LSM_ATTR:
        if (p.nlsm == 4) fail(EINVAL, "too many LSM labels");
        p.lsm[p.nlsm++] = &r;
        break;
      case proto::T_EXEC_FIFO: p.fifo = proto::ExecFifoRec(r).fifo(); break;
      case proto::T_START_REPORT: p.report = proto::StartReportRec(r).fifo(); break;
      case proto::T_PRESERVE_FDS: p.preserve = static_cast<int>(proto::PreserveFdsRec(r).count()); break;
      default: break;
    }
  }
  return p;
}

// Closes every fd from `from` up, except the ones in keep[].
void close_from(int from, const int *keep, int nkeep) {
  int lo = from;
  for (;;) {
    int next = -1;
    for (int i = 0; i < nkeep; i++)
      if (keep[i] >= lo && (next < 0 || keep[i] < next)) next = keep[i];
    if (next < 0) {
      close_range(static_cast<unsigned>(lo), ~0U, 0);
      return;
    }
    if (next > lo) close_range(static_cast<unsigned>(lo), static_cast<unsigned>(next - 1), 0);
    lo = next + 1;
  }
}

// The filter's program: in its record, or, when create left it out to
// compile it while we set up, from tsrun now (before the handshake's end,
// while the channel is open, whenever the filter goes in).
Field seccomp_program(const proto::SeccompRec &r) {
  if (r.program().len) return r.program();
  send_msg(proto::MSG_SECCOMP_PROGRAM, nullptr, 0);
  uint8_t *buf;
  uint32_t len;
  uint32_t type = recv_msg(&buf, &len);  // exits if tsrun closed the channel (it gave up)
  if (type != proto::MSG_FILTER) fail(EPROTO, "expected the seccomp program from tsrun, got message %u", type);
  return Field{reinterpret_cast<const char *>(buf), len};
}

// `field`: after the handshake, errors are plain text that must name the
// field themselves (before it, g_ref does).
void load_seccomp(const Field &prog, unsigned flags, const char *field = "") {
  if (prog.len == 0 || prog.len % sizeof(struct sock_filter) != 0) fail(EINVAL, "%smalformed seccomp program", field);
  if (prog.len / sizeof(struct sock_filter) > BPF_MAXINSNS) fail(EINVAL, "%sseccomp program of more than %d instructions", field, BPF_MAXINSNS);
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(prog.len / sizeof(struct sock_filter));
  fprog.filter = reinterpret_cast<struct sock_filter *>(const_cast<char *>(prog.s));
  long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (ret < 0) fail(errno, "%sload seccomp filter", field);
  if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) return;
  // The notify listener goes to tsrun, which hands it to the agent at
  // listenerPath before it answers: the agent holds it before any syscall
  // of ours can wait on it. Only write and sendmsg must pass unnotified
  // (tsrun checked the filter for that at create).
  int listener = static_cast<int>(ret);
  send_msg(proto::MSG_SECCOMP_FD, nullptr, 0);
  int err = send_fd(g_sync, listener, "L");
  // Ours closed at once: the message holds its own reference, and should
  // tsrun never pass it on, a notified syscall then fails (ENOSYS) rather
  // than wait on a listener nobody reads.
  close(listener);
  if (err) fail(err, "send the seccomp listener to tsrun");
  expect_ack();
}

// An LSM label for the program (AppArmor's "exec <profile>", SELinux's
// label): written to the first of the record's paths that exists, to take
// effect at the next execve. tsrun planned the value and the paths.
void apply_lsm_attr(const proto::LsmAttrRec &r) {
  const FieldList &paths = r.paths();
  for (uint32_t i = 0; i < paths.n; i++) {
    const char *path = paths.str(i);
    int err = write_proc_attr(path, r.value());
    if (err == ENOENT && i + 1 < paths.n) continue;
    if (err) fail(err, "write %s", path);
    return;
  }
  fail(EINVAL, "no path to write to");
}

// set_mempolicy(2): inherited by the program across execve (and by its
// children), as the policy of every thread it starts.
void apply_mempolicy(const proto::MempolicyRec &r) {
  const FieldList &words = r.mask();
  unsigned long mask[16] = {};  // 1024 nodes, the most tsrun plans
  if (words.n > sizeof mask / sizeof mask[0]) fail(EINVAL, "nodemask too large");
  for (uint32_t i = 0; i < words.n; i++) mask[i] = static_cast<unsigned long>(words.u64(i));
  if (syscall(SYS_set_mempolicy, static_cast<int>(r.mode()), words.n ? mask : nullptr, static_cast<unsigned long>(r.maxnode())) < 0) fail(errno, "set_mempolicy");
}

int last_cap() {
  static int last = -1;
  if (last >= 0) return last;
  last = CAP_LAST_CAP;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char b[16] = {};
    if (read(fd, b, sizeof b - 1) > 0) last = atoi(b);
    close(fd);
  }
  return last;
}

void drop_bounding(uint64_t keep) {
  for (int c = 0; c <= 63; c++) {
    if (keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail(errno, "drop capability %d from the bounding set", c);
  }
}

void apply_caps(const proto::CapsRec &r) {
  uint64_t eff = r.effective(), perm = r.permitted(), inh = r.inheritable(), amb = r.ambient();
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(eff);
  data[1].effective = static_cast<uint32_t>(eff >> 32);
  data[0].permitted = static_cast<uint32_t>(perm);
  data[1].permitted = static_cast<uint32_t>(perm >> 32);
  data[0].inheritable = static_cast<uint32_t>(inh);
  data[1].inheritable = static_cast<uint32_t>(inh >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) fail(errno, "set capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail(errno, "clear ambient capabilities");
  for (int c = 0; c <= last_cap(); c++) {
    if (!(amb & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) warn("cannot raise ambient capability %d: %s", c, strerror(errno));
  }
}

void set_user(const proto::UserRec &r) {
  uid_t uid = static_cast<uid_t>(r.uid());
  gid_t gid = static_cast<gid_t>(r.gid());
  const FieldList &extra = r.additional_gids();
  size_t ngroups = extra.n;
  gid_t *groups = static_cast<gid_t *>(calloc(ngroups ? ngroups : 1, sizeof(gid_t)));
  for (uint32_t i = 0; i < extra.n; i++) groups[i] = static_cast<gid_t>(extra.u64(i));
  // In a user namespace with setgroups denied (one made for an unprivileged
  // user, say) the groups cannot change: fine when none were asked for.
  if (setgroups(ngroups, groups) < 0 && !(errno == EPERM && ngroups == 0)) fail(errno, "setgroups");
  free(groups);
  if (setresgid(gid, gid, gid) < 0) fail(errno, "setresgid(%u)", gid);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errno, "keep capabilities");
  if (setresuid(uid, uid, uid) < 0) fail(errno, "setresuid(%u)", uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(errno, "reset keepcaps");
  stay_undumpable();
}

const char *getenv_in(char **env, const char *name) {
  size_t n = strlen(name);
  for (char **e = env; *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
  return nullptr;
}

// runc's rule: without HOME in the environment, the user's home directory
// from the container's /etc/passwd, or "/".
char *home_of(uid_t uid) {
  static char line[4096];
  static char out[4200];
  const char *home = "/";
  FILE *f = nullptr;
  int fd = open_in_root("/etc/passwd", O_RDONLY, 0);
  if (fd >= 0) f = fdopen(fd, "re");
  while (f && fgets(line, sizeof line, f)) {
    // name:passwd:uid:gid:gecos:home:shell
    char *fields[7] = {};
    int n = 0;
    for (char *p = line, *s = line; n < 7; p++) {
      if (*p == ':' || *p == '\n' || *p == 0) {
        bool end = *p != ':';
        *p = 0;
        fields[n++] = s;
        s = p + 1;
        if (end) break;
      }
    }
    if (n >= 6 && fields[2][0] && strtoul(fields[2], nullptr, 10) == uid && fields[5][0]) {
      home = fields[5];
      break;
    }
  }
  snprintf(out, sizeof out, "HOME=%s", home);
  if (f) fclose(f);
  return out;
}

// errno says why not: ELOOP, EACCES, ENOENT... (EACCES for a file that is
// not a regular executable one).
bool executable(const char *path) {
  struct stat st;
  errno = 0;
  if (stat(path, &st) < 0) return false;
  if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) return true;
  errno = EACCES;
  return false;
}

// execvp's search, done before the wait so a missing program fails create.
const char *resolve_program(const char *file, char **env) {
  if (strchr(file, '/')) {
    if (!executable(file)) fail(errno ? errno : EACCES, "exec: \"%s\": not an executable file", file);
    return file;
  }
  const char *path = getenv_in(env, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static char buf[4096];
  // As execvp: a candidate that exists but cannot be run (a symlink loop,
  // no permission) is what to report if nothing else is found.
  static char refused[4096];
  int why = 0;
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    int len = static_cast<int>(end - p);
    if (len == 0) snprintf(buf, sizeof buf, "%s", file);
    else snprintf(buf, sizeof buf, "%.*s/%s", len, p, file);
    if (executable(buf)) return buf;
    if (!why && errno != ENOENT && errno != ENOTDIR) {
      why = errno;
      snprintf(refused, sizeof refused, "%s", buf);
    }
    if (!*end) break;
    p = end;
  }
  if (why) fail(why, "exec: \"%s\": %s cannot be executed", file, refused);
  fail(0, "exec: \"%s\": executable file not found in $PATH", file);
}

// process.scheduler: sched_setattr(2), which covers every policy the spec
// names, with the nice value, priority, deadline parameters and flags.
void set_scheduler(const proto::SchedulerRec &r) {
  struct {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
  } attr = {};
  attr.size = sizeof attr;
  attr.policy = static_cast<uint32_t>(r.policy());
  attr.flags = r.flags();
  attr.nice = static_cast<int32_t>(r.nice());
  attr.priority = static_cast<uint32_t>(r.priority());
  attr.runtime = r.runtime();
  attr.deadline = r.deadline();
  attr.period = r.period();
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail(errno, "sched_setattr");
}

}  // namespace

void finalize_process(const Plan &plan, int console, ProcessKind kind) {
  Proc p = collect(plan);
  if (!p.args || proto::ArgsRec(*p.args).args().n == 0) fail(EINVAL, "process.args is empty");
  bool joined = kind == ProcessKind::Joined;
  if (joined && (p.fifo >= 0 || p.report >= 0)) fail(EINVAL, "a joined process has no start to wait for");
  if (!joined && p.fifo < 0) fail(EINVAL, "no exec fifo in the init's plan");
  // The filter's program first, before an rlimit could stop the buffer it
  // may come in; it is loaded below, at one of three moments.
  unsigned seccomp_flags = p.seccomp ? static_cast<unsigned>(proto::SeccompRec(*p.seccomp).flags()) : 0;
  Field seccomp = {nullptr, 0};
  if (p.seccomp) {
    g_ref = p.seccomp->ref;
    seccomp = seccomp_program(proto::SeccompRec(*p.seccomp));
  }

  if (p.personality) {
    g_ref = p.personality->ref;
    if (personality(static_cast<unsigned long>(proto::PersonalityRec(*p.personality).persona())) < 0) fail(errno, "personality");
  }
  // Scheduling and I/O priority may need CAP_SYS_NICE / CAP_SYS_ADMIN:
  // set while the init still has them; the program inherits them.
  if (p.scheduler) {
    g_ref = p.scheduler->ref;
    set_scheduler(proto::SchedulerRec(*p.scheduler));
  }
  if (p.ioprio) {
    g_ref = p.ioprio->ref;
    if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, static_cast<int>(proto::IoprioRec(*p.ioprio).value())) < 0) fail(errno, "ioprio_set");
  }
  for (int i = 0; i < p.nrlimits; i++) {
    proto::RlimitRec r(*p.rlimits[i]);
    g_ref = r.ref();
    struct rlimit rl = {r.soft(), r.hard()};
    if (setrlimit(static_cast<__rlimit_resource_t>(r.resource()), &rl) < 0) fail(errno, "setrlimit");
  }

  // argv and envp, with HOME added when missing (read while the root fd is open)
  uid_t uid = p.user ? static_cast<uid_t>(proto::UserRec(*p.user).uid()) : 0;
  size_t nenv = p.env ? proto::EnvRec(*p.env).env().n : 0;
  char **envp = p.env ? proto::EnvRec(*p.env).env().vec(1) : static_cast<char **>(calloc(2, sizeof(char *)));
  if (!getenv_in(envp, "HOME")) envp[nenv] = home_of(uid);
  char **argv = proto::ArgsRec(*p.args).args().vec();

  // stdio: the terminal, or the ones tsrun was given (made blocking again:
  // libuv may have left O_NONBLOCK on the shared file description).
  if (console >= 0) {
    if (setsid() < 0) fail(errno, "setsid");
    if (ioctl(console, TIOCSCTTY, 0) < 0) fail(errno, "set controlling terminal");
    for (int fd = 0; fd <= 2; fd++)
      if (dup3(console, fd, 0) < 0) fail(errno, "dup terminal");
    close(console);
  } else {
    for (int fd = 0; fd <= 2; fd++) {
      int fl = fcntl(fd, F_GETFL);
      if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
  }
  // Nothing of tsrun's reaches the program: every fd other than stdio, the
  // preserved ones and our channels is closed now; the channels are made
  // close-on-exec (posix_spawn's dup2 cleared the flag), so neither a
  // startContainer hook nor the program gets them.
  int keep[3] = {g_sync, p.fifo, p.report};
  close_from(3 + p.preserve, keep, 3);
  for (int fd : keep)
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  // The preserved fds are for the program: close-on-exec until its execve,
  // so that startContainer hooks do not get them.
  if (!joined)
    for (int fd = 3; fd < 3 + p.preserve; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);

  if (p.mempolicy) {
    g_ref = p.mempolicy->ref;
    apply_mempolicy(proto::MempolicyRec(*p.mempolicy));
  }
  // While the init is still root with every capability, as runc does: the
  // label takes effect at the program's execve.
  for (int i = 0; i < p.nlsm; i++) {
    g_ref = p.lsm[i]->ref;
    apply_lsm_attr(proto::LsmAttrRec(*p.lsm[i]));
  }
  if (p.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errno, "set no_new_privs");
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it now.
  // With it, as late as possible: after the wait for start, or, with a
  // notify listener (which reaches tsrun only while the channel is open),
  // just before READY (as runc), after the user and capabilities are set.
  bool listener = seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER;
  bool late_seccomp = p.seccomp && p.no_new_privs && !listener;
  bool ready_seccomp = p.seccomp && p.no_new_privs && listener;
  if (p.seccomp && !p.no_new_privs) {
    g_ref = p.seccomp->ref;
    load_seccomp(seccomp, seccomp_flags);
  }

  const char *cwd = p.cwd ? proto::CwdRec(*p.cwd).path() : "/";
  if (p.cwd) g_ref = p.cwd->ref;
  bool in_cwd = chdir(cwd) == 0;  // as root first: the user may lack search rights on the way
  if (p.caps) {
    g_ref = p.caps->ref;
    drop_bounding(proto::CapsRec(*p.caps).bounding());
  }
  if (p.user) {
    g_ref = p.user->ref;
    set_user(proto::UserRec(*p.user));
  }
  if (p.caps) {
    g_ref = p.caps->ref;
    apply_caps(proto::CapsRec(*p.caps));
  }
  if (p.cwd) g_ref = p.cwd->ref;
  if (!in_cwd && chdir(cwd) < 0) fail(errno, "chdir to cwd %s", cwd);
  // CVE-2024-21626: the working directory must be inside the container.
  char here[4096];
  if (!getcwd(here, sizeof here) || here[0] != '/') fail(EPERM, "cwd %s is outside the container", cwd);
  umask(p.umask ? static_cast<mode_t>(proto::UmaskRec(*p.umask).mask()) : g_saved_umask);

  g_ref = p.args->ref;
  const char *program = resolve_program(argv[0], envp);
  g_start_report = p.report;
  if (ready_seccomp) {
    g_ref = p.seccomp->ref;
    load_seccomp(seccomp, seccomp_flags);
  }

  send_msg(proto::MSG_READY, nullptr, 0);
  expect_ack();
  if (joined) {
    // No start to wait for. The channel stays open, close-on-exec: tsrun
    // sees it end when execve succeeds, or gets the error that stopped it.
    if (late_seccomp) {
      g_ref = p.seccomp->ref;
      load_seccomp(seccomp, seccomp_flags);
      g_ref = p.args->ref;
    }
    execve(program, argv, envp);
    if (p.seccomp && errno == EPERM) fail(errno, "exec %s (linux.seccomp may refuse it)", program);
    fail(errno, "exec %s", program);
  }
  close(g_sync);
  g_sync = -1;

  // `start` writes one byte into the fifo. We hold it open read-write, so
  // the read blocks until then instead of seeing end-of-file.
  char c;
  ssize_t n;
  do {
    n = read(p.fifo, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(1);
  close(p.fifo);
  // The program's fds (startContainer hooks close them in their children).
  for (int fd = 3; fd < 3 + p.preserve; fd++) fcntl(fd, F_SETFD, 0);
  bool hooks = has_start_hooks(plan);
  if (!hooks) report_ok();

  // With no_new_privs the filter goes in as late as it can: after the wait
  // for start, so that a profile has to allow none of the init's own work
  // but the final execve (and what startContainer hooks need, which run
  // under it as the container's processes).
  if (late_seccomp) load_seccomp(seccomp, seccomp_flags, "linux.seccomp: ");
  run_start_hooks(plan);
  execve(program, argv, envp);
  // The filter was checked at create to allow execve; an EPERM here may
  // still come from it (a condition on execve's arguments).
  if (p.seccomp && errno == EPERM) fail(errno, "process.args: exec %s (linux.seccomp may refuse it)", program);
  fail(errno, "process.args: exec %s", program);
}
