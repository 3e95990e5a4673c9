// engineInfo(): what the addon was built with and what the CPU offers, for logs and benchmarks.
#include <napi.h>

#include <thread>

#include "bindings/register.h"
#include "kernels/cpu.h"

namespace quantstudio {
namespace {

Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("version", "0.1.0");
  result.Set("hardwareThreads", static_cast<double>(std::thread::hardware_concurrency()));
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  result.Set("avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  result.Set("avx512", __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"));
#else
  result.Set("avx2", false);
  result.Set("avx512", false);
#endif
  // The level the kernels run at: the CPU's best, or lower where QUANTSTUDIO_SIMD caps it.
  result.Set("simd", kernels::SimdLevelName(kernels::ActiveSimdLevel()));
  return result;
}

const Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfo, "engineInfo"));
});

}  // namespace
}  // namespace quantstudio
