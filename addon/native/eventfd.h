// eventfd, in eventfd.cc.
#pragma once
#include <napi.h>

Napi::Value EventFd(const Napi::CallbackInfo &info);
