// compileSeccomp, in compile_seccomp.cc.
#pragma once
#include <napi.h>

Napi::Value CompileSeccomp(const Napi::CallbackInfo &info);
