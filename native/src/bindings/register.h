// Registry of the addon's exported functions. An area (io, quant, formats, runtime) adds a
// static Registration in its binding file; addon.cc calls RegisterAll once at load.
#pragma once

#include <napi.h>

#include <functional>

namespace quantstudio {

using Registrar = std::function<void(Napi::Env, Napi::Object)>;

// Records a registrar; call from a namespace-scope static object's constructor.
struct Registration {
  explicit Registration(Registrar registrar);
};

void RegisterAll(Napi::Env env, Napi::Object exports);

}  // namespace quantstudio
