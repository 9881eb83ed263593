// How the N-API module reports a failed syscall: a JavaScript Error whose
// `errno` and `code` (ENOENT, ...) are set as on Node's own fs errors.
#pragma once
#include <napi.h>
#include <string.h>

#include <string>

inline Napi::Value ThrowErrno(Napi::Env env, int err, const std::string &what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  const char *name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "UNKNOWN"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}
