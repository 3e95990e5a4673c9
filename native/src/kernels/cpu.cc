#include "kernels/cpu.h"

#include <atomic>

namespace quantstudio::kernels {
namespace {
std::atomic<bool> gForceScalar{false};
}

bool HasAvx2Fma() {
#if defined(__x86_64__) || defined(_M_X64)
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return supported;
#else
  return false;
#endif
}

void SetForceScalar(bool force) { gForceScalar = force; }

bool UseAvx2() { return !gForceScalar && HasAvx2Fma(); }

}  // namespace quantstudio::kernels
