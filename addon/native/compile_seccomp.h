// startSeccompCompile, seccompCompiled, seccompCompilerId and hash64, in compile_seccomp.cc.
#pragma once
#include <napi.h>

Napi::Value StartSeccompCompile(const Napi::CallbackInfo &info);
Napi::Value SeccompCompiled(const Napi::CallbackInfo &info);
Napi::Value SeccompCompilerId(const Napi::CallbackInfo &info);
Napi::Value Hash64(const Napi::CallbackInfo &info);
