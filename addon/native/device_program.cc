// attachDeviceProgram(cgroupDir, program): the device allowlist of a cgroup
// v2 directory. The instructions are built and tested in TypeScript
// (src/cgroups/devices/bpf.ts); this only loads them as a
// BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it with bpf(2), without
// libbpf.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <napi.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "device_program.h"
#include "errors.h"

namespace {

long Bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }


// The verifier's reason for a refusal: the last line of its log, but for
// the statistics line ("processed N insns ...") it ends with.
std::string Reason(const std::vector<char> &log) {
  std::string s(log.data(), strnlen(log.data(), log.size()));
  std::string last;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(start, end - start);
    if (!line.empty() && line.rfind("processed ", 0) != 0) last = line;
    start = end + 1;
  }
  return last;
}

int ProgLoad(const Napi::Buffer<uint8_t> &prog, std::vector<char> *log) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(prog.Data());
  attr.insn_cnt = static_cast<uint32_t>(prog.Length() / sizeof(struct bpf_insn));
  attr.license = reinterpret_cast<uintptr_t>("Apache-2.0");
  strncpy(attr.prog_name, "tsrun_devices", sizeof attr.prog_name - 1);
  if (log) {
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<uintptr_t>(log->data());
    attr.log_size = static_cast<uint32_t>(log->size());
  }
  return static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
}

}  // namespace

// attachDeviceProgram(cgroupDir, program)
// Loads `program` (struct bpf_insn[]) and attaches it to cgroupDir with
// BPF_F_ALLOW_MULTI: the kernel runs it together with those of ancestors
// attached the same way, and a request must pass all of them. Attaching
// again adds a program beside this one; it does not replace it. Both fds are
// closed: the attachment holds the program until the cgroup is removed.
Napi::Value AttachDeviceProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> prog = info[1].As<Napi::Buffer<uint8_t>>();
  if (prog.Length() == 0 || prog.Length() % sizeof(struct bpf_insn) != 0)
    return ThrowErrno(env, EINVAL, "device program: not a whole number of instructions");

  // Without a log first: with log_level 1 a log that outgrows its buffer
  // fails the load with ENOSPC even for a good program. Only a refused
  // program is loaded again, to get the verifier's reason.
  int prog_fd = ProgLoad(prog, nullptr);
  if (prog_fd < 0) {
    int e = errno;
    if (e != EACCES && e != EINVAL) return ThrowErrno(env, e, "load device program");
    std::vector<char> log(1 << 20, '\0');
    int again = ProgLoad(prog, &log);
    if (again >= 0) {  // refused, then accepted: report the first error as is
      close(again);
      return ThrowErrno(env, e, "load device program");
    }
    std::string why = Reason(log);
    return ThrowErrno(env, e, "load device program" + (why.empty() ? std::string() : " (verifier: " + why + ")"));
  }

  int cg_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0) {
    int e = errno;
    close(prog_fd);
    return ThrowErrno(env, e, "open " + dir);
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cg_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  long r = Bpf(BPF_PROG_ATTACH, &attr);
  int e = errno;
  close(cg_fd);
  close(prog_fd);
  if (r < 0) return ThrowErrno(env, e, "attach device program to " + dir);
  return env.Undefined();
}
