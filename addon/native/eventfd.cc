// eventfd(initval) -> fd: a close-on-exec eventfd(2), the counter through
// which a cgroup v1 memory controller reports OOM (registered with
// cgroup.event_control). It is left blocking: tsrun reads it on a libuv
// worker thread (fs.read), and ends such a read by writing to it.
#include <errno.h>
#include <napi.h>
#include <sys/eventfd.h>

#include "errors.h"
#include "eventfd.h"

Napi::Value EventFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  unsigned int initval = info.Length() > 0 ? info[0].As<Napi::Number>().Uint32Value() : 0;
  int fd = eventfd(initval, EFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "eventfd");
  return Napi::Number::New(env, fd);
}
