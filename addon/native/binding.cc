// tsrun's N-API addon: the few syscalls Node has no API for. Everything
// that happens inside the container is done by tsrun-init (addon/init);
// this file only gives the Node process what it needs to start and drive
// it. Each export is documented in addon/README.md and typed in
// src/native/addon.ts.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../init/syscalls.h"
#include "compile_seccomp.h"
#include "errors.h"
#include "device_program.h"
#include "eventfd.h"
#include "netdev.h"

namespace {


int IntArg(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// openHelper(path) -> fd
// An fd of the tsrun-init executable to exec from, such that the running
// init's /proc/<pid>/exe cannot be opened for writing (CVE-2019-5736):
// a detached read-only bind mount of the file, or, where the kernel lacks
// open_tree, a sealed memfd copy.
Napi::Value OpenHelper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  // For tests only (addon/README.md): TSRUN_TEST_HELPER_MEMFD=1 skips the
  // bind mount, so that the memfd copy is used as on a kernel without
  // open_tree. Both are safe; the bind mount copies nothing.
  const char *force_memfd = getenv("TSRUN_TEST_HELPER_MEMFD");
  bool memfd_only = force_memfd && strcmp(force_memfd, "1") == 0;
  int fd = memfd_only ? -1 : sys_open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd >= 0) {
    if (sys_mount_setattr(fd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0, 0) == 0) return Napi::Number::New(env, fd);
    close(fd);
  }
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) return ThrowErrno(env, errno, "open " + path);
  struct stat st;
  int mfd = memfd_create("tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0 || fstat(src, &st) < 0) {
    int e = errno;
    close(src);
    return ThrowErrno(env, e, "memfd");
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, static_cast<size_t>(st.st_size - off));
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(src);
      close(mfd);
      return ThrowErrno(env, e, "copy " + path);
    }
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(mfd);
    return ThrowErrno(env, e, "seal memfd");
  }
  return Napi::Number::New(env, mfd);
}

// spawnInit(exeFd, argv[], keepFds[], joinsCgroups) -> pid
// posix_spawn of the helper with every signal reset to default, an empty
// signal mask, an empty environment, and only keepFds inherited (their
// close-on-exec flag cleared: Node sets it even on 0, 1 and 2).
// joinsCgroups: argv names cgroups tsrun-init puts itself in first
// (addon/init/join_cgroups.cc); it reports on a pipe (--report-fd, added
// here) which pid goes on as tsrun-init, maybe a clone of the one spawned.
// Until then nothing else of the helper runs, so waiting here is short. A
// cgroup it could not join is an error with `errno` and `cgroupIndex`.
Napi::Value SpawnInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int exe = IntArg(info, 0);
  Napi::Array jargv = info[1].As<Napi::Array>();
  Napi::Array jkeep = info[2].As<Napi::Array>();
  bool joins = info.Length() > 3 && info[3].ToBoolean();
  int report[2] = {-1, -1};
  if (joins && pipe2(report, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe");
  std::vector<std::string> args;
  for (uint32_t i = 0; i < jargv.Length(); i++) args.push_back(jargv.Get(i).As<Napi::String>());
  if (joins) {
    args.push_back("--report-fd");
    args.push_back(std::to_string(report[1]));
  }
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  char *envp[] = {nullptr};
  std::string path = "/proc/self/fd/" + std::to_string(exe);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (uint32_t i = 0; i < jkeep.Length(); i++) {
    int fd = jkeep.Get(i).As<Napi::Number>().Int32Value();
    posix_spawn_file_actions_adddup2(&fa, fd, fd);  // same fd: clears FD_CLOEXEC
  }
  if (joins) posix_spawn_file_actions_adddup2(&fa, report[1], report[1]);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int err = posix_spawn(&pid, path.c_str(), &fa, &attr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (joins) close(report[1]);
  if (err) {
    if (joins) close(report[0]);
    return ThrowErrno(env, err, "spawn tsrun-init");
  }
  if (!joins) return Napi::Number::New(env, pid);

  int32_t msg[2];
  size_t got = 0;
  while (got < sizeof msg) {
    ssize_t n = read(report[0], reinterpret_cast<char *>(msg) + got, sizeof msg - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(report[0]);
  if (got == sizeof msg && msg[0] == pid) return Napi::Number::New(env, pid);
  // The spawned process has exited or is about to: reap it.
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (got < sizeof msg) {
    Napi::Error::New(env, "tsrun-init ended before it joined its cgroups").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (msg[0] > 0) return Napi::Number::New(env, msg[0]);
  Napi::Error e = Napi::Error::New(env, std::string("join cgroup: ") + strerror(-msg[0]));
  e.Set("errno", Napi::Number::New(env, -msg[0]));
  const char *name = strerrorname_np(-msg[0]);
  e.Set("code", Napi::String::New(env, name ? name : "UNKNOWN"));
  e.Set("cgroupIndex", Napi::Number::New(env, msg[1]));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// socketpair() -> [fd, fd]   (AF_UNIX, SOCK_STREAM, close-on-exec)
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, errno, "socketpair");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, sv[0]);
  a.Set(1u, sv[1]);
  return a;
}

// mkfifo(path, mode)
Napi::Value MkFifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  if (mkfifo(path.c_str(), static_cast<mode_t>(IntArg(info, 1))) < 0) return ThrowErrno(env, errno, "mkfifo " + path);
  return env.Undefined();
}

// sameFile(fd, path) -> whether path names the file open at fd; false when
// path cannot be looked up. (Node's first stat of a process costs about
// 0.35 ms here, setting up its Stats objects: in every command that opens
// a container.)
Napi::Value SameFile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[1].As<Napi::String>();
  struct stat held, named;
  if (fstat(IntArg(info, 0), &held) < 0) return ThrowErrno(env, errno, "fstat");
  if (stat(path.c_str(), &named) < 0) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, held.st_dev == named.st_dev && held.st_ino == named.st_ino);
}

// flock(fd, exclusive, wait) -> true, or false when wait is false and the
// lock is held elsewhere.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int op = info[1].As<Napi::Boolean>() ? LOCK_EX : LOCK_SH;
  if (!info[2].As<Napi::Boolean>()) op |= LOCK_NB;
  int r;
  do {
    r = flock(IntArg(info, 0), op);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    return ThrowErrno(env, errno, "flock");
  }
  return Napi::Boolean::New(env, true);
}

// connectUnix(path[, sendTimeoutMs]) -> fd   (a connected SOCK_STREAM unix
// socket). With a timeout (SO_SNDTIMEO), a peer that never accepts or
// never reads makes connect and the sends fail with EAGAIN, not hang.
Napi::Value ConnectUnix(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ThrowErrno(env, ENAMETOOLONG, "connect " + path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  if (info.Length() > 1 && info[1].IsNumber()) {
    int64_t ms = info[1].As<Napi::Number>().Int64Value();
    struct timeval tv = {static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
      int e = errno;
      close(fd);
      return ThrowErrno(env, e, "set a send timeout");
    }
  }
  if (connect(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(env, e, "connect " + path);
  }
  return Napi::Number::New(env, fd);
}

// recvFd(socket) -> fd   (blocks for one message carrying SCM_RIGHTS)
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  char data[256];
  struct iovec iov = {data, sizeof data};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  ssize_t n;
  do {
    n = recvmsg(IntArg(info, 0), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, errno, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return ThrowErrno(env, EBADMSG, "recvmsg");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return Napi::Number::New(env, fd);
}

// sendFdWithPayload(socket, fd, payload): all of payload on a connected
// stream socket, with fd (SCM_RIGHTS) on the first part sent; the OCI
// seccomp listener fd and the container's state to the seccomp agent.
Napi::Value SendFdWithPayload(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = IntArg(info, 0), fd = IntArg(info, 1);
  Napi::Buffer<char> payload = info[2].As<Napi::Buffer<char>>();
  const char *p = payload.Data();
  size_t left = payload.Length();
  // On a stream socket an fd travels with data: without a byte it is not sent.
  if (left == 0) return ThrowErrno(env, EINVAL, "sendmsg");
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u = {};
  struct iovec iov = {const_cast<char *>(p), left};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  bool first = true;  // a failed (-1) sendmsg sent neither data nor fd
  while (left > 0) {
    // MSG_NOSIGNAL: a gone peer is an EPIPE error, not a SIGPIPE.
    ssize_t n = first ? sendmsg(sock, &msg, MSG_NOSIGNAL) : send(sock, p, left, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(env, errno, first ? "sendmsg" : "send");
    }
    first = false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return env.Undefined();
}

// setWinsize(fd, rows, cols)
Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(IntArg(info, 1));
  ws.ws_col = static_cast<unsigned short>(IntArg(info, 2));
  if (ioctl(IntArg(info, 0), TIOCSWINSZ, &ws) < 0) return ThrowErrno(env, errno, "TIOCSWINSZ");
  return env.Undefined();
}

// pidfdOpen(pid) -> fd
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(syscall(SYS_pidfd_open, IntArg(info, 0), 0));
  if (fd < 0) return ThrowErrno(env, errno, "pidfd_open");
  return Napi::Number::New(env, fd);
}

// pidfdSendSignal(pidfd, signal)
Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (syscall(SYS_pidfd_send_signal, IntArg(info, 0), IntArg(info, 1), nullptr, 0) < 0)
    return ThrowErrno(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

// setChildSubreaper(): orphaned descendants (the container init, once the
// intermediate process exits) are re-parented to this process.
Napi::Value SetChildSubreaper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return ThrowErrno(env, errno, "PR_SET_CHILD_SUBREAPER");
  return env.Undefined();
}

Napi::Object StatusObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", pid);
  if (pid > 0 && WIFEXITED(status)) o.Set("code", WEXITSTATUS(status));
  if (pid > 0 && WIFSIGNALED(status)) o.Set("signal", WTERMSIG(status));
  return o;
}

// waitPid(pid, noHang) -> { pid, code?, signal? }   (pid 0: still running)
Napi::Value WaitPid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int status = 0;
  pid_t r;
  do {
    r = waitpid(IntArg(info, 0), &status, info[1].As<Napi::Boolean>() ? WNOHANG : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, errno, "waitpid");
  return StatusObject(env, r, status);
}

// waitPidAsync(pid) -> Promise<{ pid, code?, signal? }>, waiting on a
// worker thread so the event loop (terminal proxy, signals) keeps going.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    do {
      result_ = waitpid(pid_, &status_, 0);
    } while (result_ < 0 && errno == EINTR);
    err_ = result_ < 0 ? errno : 0;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (err_) {
      Napi::Error e = Napi::Error::New(env, std::string("waitpid: ") + strerror(err_));
      e.Set("errno", Napi::Number::New(env, err_));
      deferred_.Reject(e.Value());
    } else {
      deferred_.Resolve(StatusObject(env, result_, status_));
    }
  }

 private:
  pid_t pid_;
  pid_t result_ = 0;
  int status_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value WaitPidAsync(const Napi::CallbackInfo &info) {
  auto *w = new WaitWorker(info.Env(), IntArg(info, 0));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openHelper", Napi::Function::New(env, OpenHelper));
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair));
  exports.Set("mkfifo", Napi::Function::New(env, MkFifo));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("sameFile", Napi::Function::New(env, SameFile));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("sendFdWithPayload", Napi::Function::New(env, SendFdWithPayload));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid));
  exports.Set("waitPidAsync", Napi::Function::New(env, WaitPidAsync));
  exports.Set("startSeccompCompile", Napi::Function::New(env, StartSeccompCompile));
  exports.Set("seccompCompiled", Napi::Function::New(env, SeccompCompiled));
  exports.Set("seccompCompilerId", Napi::Function::New(env, SeccompCompilerId));
  exports.Set("hash64", Napi::Function::New(env, Hash64));
  exports.Set("attachDeviceProgram", Napi::Function::New(env, AttachDeviceProgram));
  exports.Set("eventfd", Napi::Function::New(env, EventFd));
  exports.Set("moveNetDevice", Napi::Function::New(env, MoveNetDevice));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun_native, Init)
