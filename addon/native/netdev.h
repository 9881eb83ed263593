// moveNetDevice, in netdev.cc.
#pragma once
#include <napi.h>

Napi::Value MoveNetDevice(const Napi::CallbackInfo &info);
