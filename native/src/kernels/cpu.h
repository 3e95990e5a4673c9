// Which SIMD level the kernels run at: the best this CPU has, capped by the QUANTSTUDIO_SIMD environment
// variable (read once, at first use) or by SetSimdCap (tests and benchmarks run every level on one machine).
#pragma once

namespace quantstudio::kernels {

/** Ordered: a level implies every level below it. */
enum class SimdLevel : int {
  kScalar = 0,  // plain C++: any CPU
  kAvx2 = 1,    // AVX2 + FMA + F16C
  kAvx512 = 2,  // AVX-512 F, BW, DQ and VL (every AVX-512 CPU since Skylake-SP and Zen 4)
};

/** The best level this CPU (and the OS's saved register state) supports. */
SimdLevel CpuSimdLevel();

/** The level kernels use now: CpuSimdLevel() capped by QUANTSTUDIO_SIMD and SetSimdCap. */
SimdLevel ActiveSimdLevel();

/** Caps the level (a cap above the CPU's level runs the CPU's). */
void SetSimdCap(SimdLevel cap);

/** The cap in force. */
SimdLevel SimdCap();

/** Caps the level for one scope, then restores the cap before it. */
class ScopedSimdCap {
 public:
  explicit ScopedSimdCap(SimdLevel cap) : previous_(SimdCap()) { SetSimdCap(cap); }
  ~ScopedSimdCap() { SetSimdCap(previous_); }
  ScopedSimdCap(const ScopedSimdCap&) = delete;
  ScopedSimdCap& operator=(const ScopedSimdCap&) = delete;

 private:
  SimdLevel previous_;
};

/** "scalar", "avx2", "avx512". */
const char* SimdLevelName(SimdLevel level);

/** Parses a SimdLevelName; false for anything else. */
bool ParseSimdLevel(const char* name, SimdLevel* level);

inline bool UseAvx2() { return ActiveSimdLevel() >= SimdLevel::kAvx2; }
inline bool UseAvx512() { return ActiveSimdLevel() >= SimdLevel::kAvx512; }

}  // namespace quantstudio::kernels
