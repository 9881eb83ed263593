// compileSeccomp: a seccomp filter compiled to classic BPF by the system's
// libseccomp (loaded with dlopen, so building tsrun needs no -dev package;
// only the shared library, present wherever seccomp is used, must exist).
// tsrun-init only installs the bytes; syscall names, architectures and
// 64-bit argument comparisons are libseccomp's business.
#include <dlfcn.h>
#include <errno.h>
#include <napi.h>
#include <string.h>
#include <sys/mman.h>
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

}  // namespace

// compileSeccomp({ defaultAction, architectures: string[], rules: [{ syscall,
//   action, args: [{ index, op, value, valueTwo }] }] })
//   -> { bpf: Buffer, unknown: string[] }
// Actions and operators are libseccomp's numbers (src/plan/seccomp.ts maps
// the spec's names). A syscall name libseccomp does not know on any
// architecture is skipped and returned in `unknown`, as runc skips it.
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string error;
  const Lib *lib = library(error);
  if (!lib) return Fail(env, error);
  Napi::Object spec = info[0].As<Napi::Object>();
  void *ctx = lib->init(static_cast<uint32_t>(U64(spec.Get("defaultAction"))));
  if (!ctx) return Fail(env, "seccomp_init failed (unsupported default action?)");
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

  Napi::Array arches = spec.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>();
    uint32_t token = lib->arch_resolve_name(name.c_str());
    if (!token) return Fail(env, "unknown seccomp architecture " + name);
    int rc = lib->arch_add(ctx, token);
    if (rc < 0 && rc != -EEXIST) return Fail(env, "cannot add seccomp architecture " + name + ": " + strerror(-rc));
  }

  Napi::Array unknown = Napi::Array::New(env);
  Napi::Array rules = spec.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").As<Napi::String>();
    int nr = lib->syscall_resolve_name(name.c_str());
    if (nr == kScmpError) {
      unknown.Set(unknown.Length(), Napi::String::New(env, name));
      continue;
    }
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<ScmpArgCmp> cmp;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      cmp.push_back(ScmpArgCmp{static_cast<unsigned>(U64(a.Get("index"))), static_cast<int>(U64(a.Get("op"))),
                               U64(a.Get("value")), U64(a.Get("valueTwo"))});
    }
    int rc = lib->rule_add_array(ctx, static_cast<uint32_t>(U64(rule.Get("action"))), nr,
                                 static_cast<unsigned>(cmp.size()), cmp.data());
    if (rc < 0) return Fail(env, "cannot add a seccomp rule for " + name + ": " + strerror(-rc), static_cast<int>(i));
  }

  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return Fail(env, std::string("memfd_create: ") + strerror(errno));
  int rc = lib->export_bpf(ctx, fd);
  off_t size = lseek(fd, 0, SEEK_END);
  if (rc < 0 || size <= 0) {
    close(fd);
    return Fail(env, std::string("cannot export the seccomp filter: ") + strerror(rc < 0 ? -rc : EIO));
  }
  Napi::Buffer<uint8_t> bpf = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
  ssize_t n = pread(fd, bpf.Data(), static_cast<size_t>(size), 0);
  close(fd);
  if (n != size) return Fail(env, "cannot read the seccomp filter back");
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", bpf);
  out.Set("unknown", unknown);
  return out;
}
