// Registry of the addon's exported functions. An area (io, quant, formats, runtime) adds a
// static Registration in its binding file; addon.cc calls RegisterAll once at load.
#pragma once

#include <napi.h>

#include <functional>
#include <initializer_list>

namespace quantstudio {

using Registrar = std::function<void(Napi::Env, Napi::Object)>;

/** One exported function: the JS name it is exported (and named) as, and its callback. */
struct Export {
  const char* name;
  Napi::Value (*callback)(const Napi::CallbackInfo&);
};

// Records a registrar; call from a namespace-scope static object's constructor.
struct Registration {
  explicit Registration(Registrar registrar);
  // The common case: export each function under its name.
  explicit Registration(std::initializer_list<Export> exports);
};

void RegisterAll(Napi::Env env, Napi::Object exports);

}  // namespace quantstudio
