// startSeccompCompile and seccompCompiled, in compile_seccomp.cc.
#pragma once
#include <napi.h>

Napi::Value StartSeccompCompile(const Napi::CallbackInfo &info);
Napi::Value SeccompCompiled(const Napi::CallbackInfo &info);
