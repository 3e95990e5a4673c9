// The engine's heap policy. Engine calls run on whichever libuv pool thread is free, and glibc gives each
// thread its own arena, so a buffer freed after one call was not reused by the next call on another thread:
// the process kept every call's peak. One arena (set when the addon loads, before any call) lets calls reuse
// each other's memory; releaseFreeMemory gives the free pages back, so benchmarks can measure each phase's
// own peak. Measured on tiny-llama: same speed, batch-16 generate peak 74 MiB instead of 125 MiB after batch 1.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bindings/register.h"

namespace {

Napi::Value ReleaseFreeMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

const quantstudio::Registration kRegistration([](Napi::Env env, Napi::Object exports) {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 1);
#endif
  exports.Set("releaseFreeMemory", Napi::Function::New(env, ReleaseFreeMemory, "releaseFreeMemory"));
});

}  // namespace
