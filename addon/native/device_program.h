// attachDeviceProgram, in device_program.cc.
#pragma once
#include <napi.h>

Napi::Value AttachDeviceProgram(const Napi::CallbackInfo &info);
