// startSeccompCompile, seccompCompiled: a seccomp filter compiled to
// classic BPF by the system's libseccomp, on a thread of its own while
// create goes on. libseccomp is loaded with dlopen, so building tsrun needs
// no -dev package; only the shared library, present wherever seccomp is
// used, must exist.
// tsrun-init only installs the bytes; syscall names, architectures and
// 64-bit argument comparisons are libseccomp's business.
#include <dlfcn.h>
#include <errno.h>
#include <napi.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "compile_seccomp.h"

namespace {

// The parts of libseccomp's ABI (seccomp.h, v2.5) that are used here.
struct ScmpArgCmp {
  unsigned int arg;
  int op;  // enum scmp_compare
  uint64_t datum_a;
  uint64_t datum_b;
};
struct ScmpVersion {
  unsigned int major;
  unsigned int minor;
  unsigned int micro;
};
enum { kAttrCtlNnp = 3 };
const int kScmpError = -1;  // __NR_SCMP_ERROR

struct Lib {
  void *(*init)(uint32_t);
  void (*release)(void *);
  int (*arch_add)(void *, uint32_t);
  uint32_t (*arch_resolve_name)(const char *);
  int (*syscall_resolve_name)(const char *);
  int (*rule_add_array)(void *, uint32_t, int, unsigned int, const ScmpArgCmp *);
  int (*attr_set)(void *, int, uint32_t);
  int (*export_bpf)(void *, int);
  // Optional (libseccomp 2.3 and later): without them no compile is cached.
  const ScmpVersion *(*version)();
  uint32_t (*arch_native)();
};

const Lib *library(std::string &error) {
  static Lib lib;
  static bool loaded = false;
  if (loaded) return &lib;
  void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    error = std::string("libseccomp is not available: ") + dlerror();
    return nullptr;
  }
  auto sym = [&](const char *name) { return dlsym(h, name); };
  lib.init = reinterpret_cast<void *(*)(uint32_t)>(sym("seccomp_init"));
  lib.release = reinterpret_cast<void (*)(void *)>(sym("seccomp_release"));
  lib.arch_add = reinterpret_cast<int (*)(void *, uint32_t)>(sym("seccomp_arch_add"));
  lib.arch_resolve_name = reinterpret_cast<uint32_t (*)(const char *)>(sym("seccomp_arch_resolve_name"));
  lib.syscall_resolve_name = reinterpret_cast<int (*)(const char *)>(sym("seccomp_syscall_resolve_name"));
  lib.rule_add_array = reinterpret_cast<int (*)(void *, uint32_t, int, unsigned int, const ScmpArgCmp *)>(sym("seccomp_rule_add_array"));
  lib.attr_set = reinterpret_cast<int (*)(void *, int, uint32_t)>(sym("seccomp_attr_set"));
  lib.export_bpf = reinterpret_cast<int (*)(void *, int)>(sym("seccomp_export_bpf"));
  lib.version = reinterpret_cast<const ScmpVersion *(*)()>(sym("seccomp_version"));
  lib.arch_native = reinterpret_cast<uint32_t (*)()>(sym("seccomp_arch_native"));
  if (!lib.init || !lib.release || !lib.arch_add || !lib.arch_resolve_name || !lib.syscall_resolve_name ||
      !lib.rule_add_array || !lib.attr_set || !lib.export_bpf) {
    error = "libseccomp lacks a function tsrun needs";
    return nullptr;
  }
  loaded = true;
  return &lib;
}

uint64_t U64(const Napi::Value &v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

Napi::Value Fail(Napi::Env env, const std::string &msg, int rule = -1) {
  Napi::Error e = Napi::Error::New(env, msg);
  if (rule >= 0) e.Set("rule", Napi::Number::New(env, rule));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// What Compile() does beyond the rules it is given, in every cached
// filter's key (seccompCompilerId, src/plan/seccomp-cache.ts) with this
// addon's file: a rebuilt addon is another key anyway, this names the
// recipe for whoever reads a cache entry.
const char kRecipe[] = "tsrun compile 1: no_new_privs attribute off, default layout";

struct Rule {
  std::string syscall;
  uint32_t action;
  std::vector<ScmpArgCmp> args;
};

// One compile: its input copied out of JavaScript, so that a thread can run
// libseccomp on it while the main thread goes on; then its output.
struct Job {
  const Lib *lib;
  uint32_t defaultAction;
  std::vector<uint32_t> arches;
  std::vector<std::string> archNames;
  std::vector<Rule> rules;
  pthread_t thread;
  bool threaded = false;
  bool done = false;
  // The result.
  std::vector<uint8_t> bpf;
  std::vector<std::string> unknown;
  std::string error;
  int errorRule = -1;
};

// libseccomp keeps process-wide state (the kernel's API level, probed on
// first use) without a lock: one compile at a time. create has only one.
pthread_mutex_t g_libseccomp = PTHREAD_MUTEX_INITIALIZER;

void Compile(Job *job) {
  const Lib *lib = job->lib;
  void *ctx = lib->init(job->defaultAction);
  if (!ctx) {
    job->error = "seccomp_init failed (unsupported default action?)";
    return;
  }
  struct Release {
    const Lib *lib;
    void *ctx;
    ~Release() { lib->release(ctx); }
  } release{lib, ctx};
  // tsrun-init sets no_new_privs itself when the config asks for it.
  lib->attr_set(ctx, kAttrCtlNnp, 0);
  // libseccomp's default layout (optimize level 1: the syscalls one after
  // another), as crun. The binary tree (level 2, runc's choice) took 5 to 6
  // ms more to compile podman's default profile, and saved its containers
  // no measurable time: since Linux 5.11 the kernel answers a syscall that
  // the filter allows whatever its arguments from a bitmap, without running
  // the filter (bench/README.md, "Seventh round").

  for (size_t i = 0; i < job->arches.size(); i++) {
    int rc = lib->arch_add(ctx, job->arches[i]);
    if (rc < 0 && rc != -EEXIST) {
      job->error = "cannot add seccomp architecture " + job->archNames[i] + ": " + strerror(-rc);
      return;
    }
  }
  for (size_t i = 0; i < job->rules.size(); i++) {
    const Rule &rule = job->rules[i];
    int nr = lib->syscall_resolve_name(rule.syscall.c_str());
    if (nr == kScmpError) {
      job->unknown.push_back(rule.syscall);
      continue;
    }
    int rc = lib->rule_add_array(ctx, rule.action, nr, static_cast<unsigned>(rule.args.size()), rule.args.data());
    if (rc < 0) {
      job->error = "cannot add a seccomp rule for " + rule.syscall + ": " + strerror(-rc);
      job->errorRule = static_cast<int>(i);
      return;
    }
  }

  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) {
    job->error = std::string("memfd_create: ") + strerror(errno);
    return;
  }
  int rc = lib->export_bpf(ctx, fd);
  off_t size = lseek(fd, 0, SEEK_END);
  if (rc < 0 || size <= 0) {
    close(fd);
    job->error = std::string("cannot export the seccomp filter: ") + strerror(rc < 0 ? -rc : EIO);
    return;
  }
  job->bpf.resize(static_cast<size_t>(size));
  ssize_t n = pread(fd, job->bpf.data(), job->bpf.size(), 0);
  close(fd);
  if (n != size) job->error = "cannot read the seccomp filter back";
}

void Run(Job *job) {
  pthread_mutex_lock(&g_libseccomp);
  Compile(job);
  pthread_mutex_unlock(&g_libseccomp);
}

void *RunThread(void *job) {
  Run(static_cast<Job *>(job));
  return nullptr;
}

// The thread gets every signal blocked (a signal for tsrun is Node's to
// handle, on its own thread). While it runs, create still spawns tsrun-init
// (posix_spawn) and hooks (libuv): their children run only async-signal-safe
// code before execve, so a lock the thread holds (malloc's) cannot stop them.
bool StartThread(Job *job) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  bool started = pthread_create(&job->thread, nullptr, RunThread, job) == 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return started;
}

void Finish(Job *job) {
  if (job->done) return;
  if (job->threaded) pthread_join(job->thread, nullptr);
  job->done = true;
}

}  // namespace

// The file a loaded function lives in, by its identity on disk (device,
// inode, size, modification time): a library or addon replaced in place
// (a distribution's patched build, say, under the same version) is another
// one. "" if it cannot be told.
std::string FileOf(const void *fn) {
  Dl_info info;
  struct stat st;
  if (!dladdr(fn, &info) || !info.dli_fname || stat(info.dli_fname, &st) != 0) return "";
  return std::string(info.dli_fname) + " " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

// seccompCompilerId() -> string, or "" (nothing is then cached) when the
// library cannot be loaded or cannot say its version: what, besides the
// rules, decides the program a compile makes: libseccomp's version, its
// native architecture and its file; this addon's file (Compile() is its
// code) and kRecipe; the kernel libseccomp probes. A filter compiled
// before is reused only under the same id.
Napi::Value SeccompCompilerId(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string error;
  const Lib *lib = library(error);
  const ScmpVersion *v = lib && lib->version ? lib->version() : nullptr;
  struct utsname u;
  // A missing library is startSeccompCompile's error to report, with its field.
  if (!v || !lib->arch_native || uname(&u) != 0) return Napi::String::New(env, "");
  std::string libFile = FileOf(reinterpret_cast<const void *>(lib->init));
  std::string ownFile = FileOf(reinterpret_cast<const void *>(&SeccompCompilerId));
  if (libFile.empty() || ownFile.empty()) return Napi::String::New(env, "");
  std::string id = "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro) +
                   ", native arch " + std::to_string(lib->arch_native()) + ", " + libFile + "; addon " + ownFile + "; " + kRecipe +
                   "; " + u.sysname + " " + u.release + " " + u.version + " " + u.machine;
  return Napi::String::New(env, id);
}

// hash64(text) -> 16 hex digits: FNV-1a (64 bits) of the text's UTF-8.
// Names a cached filter's file (its content holds the whole key, compared
// byte for byte); the same loop in JavaScript took about 2 ms for a
// filter's 12 kB in a new process, in V8's interpreter.
Napi::Value Hash64(const Napi::CallbackInfo &info) {
  std::string text = info[0].As<Napi::String>();
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return Napi::String::New(info.Env(), hex);
}

// startSeccompCompile({ defaultAction, architectures: string[], rules: [{
//   syscall, action, args: [{ index, op, value, valueTwo }] }] }) -> job
// Actions and operators are libseccomp's numbers (src/plan/seccomp.ts maps
// the spec's names). What can be checked without compiling (the library,
// the architectures) throws here; the compile itself runs on a thread of
// its own, and seccompCompiled(job) waits for it.
Napi::Value StartSeccompCompile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string error;
  const Lib *lib = library(error);
  if (!lib) return Fail(env, error);
  Napi::Object spec = info[0].As<Napi::Object>();
  Job *job = new Job();
  job->lib = lib;
  job->defaultAction = static_cast<uint32_t>(U64(spec.Get("defaultAction")));
  Napi::Array arches = spec.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>();
    uint32_t token = lib->arch_resolve_name(name.c_str());
    if (!token) {
      delete job;
      return Fail(env, "unknown seccomp architecture " + name);
    }
    job->arches.push_back(token);
    job->archNames.push_back(name);
  }
  Napi::Array rules = spec.Get("rules").As<Napi::Array>();
  job->rules.reserve(rules.Length());
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    Rule r{rule.Get("syscall").As<Napi::String>(), static_cast<uint32_t>(U64(rule.Get("action"))), {}};
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      r.args.push_back(ScmpArgCmp{static_cast<unsigned>(U64(a.Get("index"))), static_cast<int>(U64(a.Get("op"))),
                                  U64(a.Get("value")), U64(a.Get("valueTwo"))});
    }
    job->rules.push_back(std::move(r));
  }
  // Without a thread (none to be had), the compile is done here.
  job->threaded = StartThread(job);
  if (!job->threaded) Run(job);
  // A job never waited for (create failed meanwhile) is waited for if it is
  // collected; at exit its thread just ends with the process: it writes
  // nothing but its Job.
  return Napi::External<Job>::New(env, job, [](Napi::Env, Job *j) {
    Finish(j);
    delete j;
  });
}

// seccompCompiled(job) -> { bpf: Buffer, unknown: string[] }, once the
// compile is done. A syscall name libseccomp does not know on any
// architecture is skipped and returned in `unknown`, as runc skips it; a
// rule libseccomp refuses throws, with the rule's index as `rule`.
Napi::Value SeccompCompiled(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Job *job = info[0].As<Napi::External<Job>>().Data();
  Finish(job);
  if (!job->error.empty()) return Fail(env, job->error, job->errorRule);
  Napi::Array unknown = Napi::Array::New(env, job->unknown.size());
  for (size_t i = 0; i < job->unknown.size(); i++) unknown.Set(i, Napi::String::New(env, job->unknown[i]));
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, job->bpf.data(), job->bpf.size()));
  out.Set("unknown", unknown);
  return out;
}
