// A LoRA adapter as native/lib/loraAdapter.ts passes it: {file, modules: [{name, rank, scale}]}.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "runtime/lora.h"

namespace quantstudio::bindings {

inline std::vector<runtime::LoraModule> ReadLoraModules(const Napi::Object& adapter) {
  if (!adapter.Get("file").IsString() || !adapter.Get("modules").IsArray()) {
    throw Napi::TypeError::New(adapter.Env(), "adapter must be {file, modules: [{name, rank, scale}]}");
  }
  const Napi::Array list = adapter.Get("modules").As<Napi::Array>();
  std::vector<runtime::LoraModule> modules;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Object m = list.Get(i).As<Napi::Object>();
    modules.push_back({m.Get("name").ToString().Utf8Value(), m.Get("rank").ToNumber().Int64Value(),
                       m.Get("scale").ToNumber().DoubleValue()});
  }
  return modules;
}

inline std::string ReadLoraFile(const Napi::Object& adapter) { return adapter.Get("file").ToString().Utf8Value(); }

}  // namespace quantstudio::bindings
