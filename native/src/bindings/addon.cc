// Entry point of the engine addon: each area registers its own functions on the exports object.
#include <napi.h>

#include "bindings/register.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  quantstudio::RegisterAll(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(quantstudio, Init)
