#include "kernels/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace quantstudio::kernels {
namespace {

SimdLevel Detect() {
#if defined(__x86_64__) || defined(_M_X64)
  // libgcc's checks include the OS's XSAVE state (XCR0), so a level is reported only where it can run.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (!avx2) return SimdLevel::kScalar;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return avx512 ? SimdLevel::kAvx512 : SimdLevel::kAvx2;
#else
  return SimdLevel::kScalar;
#endif
}

// The environment's cap, or the highest level when QUANTSTUDIO_SIMD is unset or unknown (the TS layer
// refuses unknown values with a message before the engine runs).
SimdLevel EnvironmentCap() {
  SimdLevel cap = SimdLevel::kAvx512;
  const char* value = std::getenv("QUANTSTUDIO_SIMD");
  if (value != nullptr && *value != '\0') ParseSimdLevel(value, &cap);
  return cap;
}

std::atomic<int> gCap{static_cast<int>(EnvironmentCap())};

}  // namespace

SimdLevel CpuSimdLevel() {
  static const SimdLevel detected = Detect();
  return detected;
}

SimdLevel ActiveSimdLevel() {
  const int cap = gCap.load(std::memory_order_relaxed);
  const int cpu = static_cast<int>(CpuSimdLevel());
  return static_cast<SimdLevel>(cap < cpu ? cap : cpu);
}

void SetSimdCap(SimdLevel cap) { gCap.store(static_cast<int>(cap), std::memory_order_relaxed); }

SimdLevel SimdCap() { return static_cast<SimdLevel>(gCap.load(std::memory_order_relaxed)); }

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512: return "avx512";
    case SimdLevel::kAvx2: return "avx2";
    default: return "scalar";
  }
}

bool ParseSimdLevel(const char* name, SimdLevel* level) {
  for (SimdLevel l : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (std::strcmp(name, SimdLevelName(l)) == 0) {
      *level = l;
      return true;
    }
  }
  return false;
}

}  // namespace quantstudio::kernels
