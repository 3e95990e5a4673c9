#include "kernels/machine_peak.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/simd_avx512.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QS_X86 1
#endif

namespace quantstudio::kernels {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kFmaRounds = 1 << 16;

#ifdef QS_X86
// Ten independent accumulators cover FMA latency × throughput on current x86 cores.
__attribute__((target("avx2,fma"))) float FmaBurst(float seed) {
  __m256 a[10];
  for (int i = 0; i < 10; ++i) a[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
  for (int64_t r = 0; r < kFmaRounds; ++r)
    for (int i = 0; i < 10; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  __m256 s = a[0];
  for (int i = 1; i < 10; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}
constexpr double kFlopsPerBurstAvx2 = 10.0 * 8 * 2 * kFmaRounds;

// The same with 16 lanes; twelve accumulators cover cores with two 512-bit FMA pipes.
__attribute__((target("avx512f"))) float FmaBurst512(float seed) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
  for (int64_t r = 0; r < kFmaRounds; ++r)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return HSum16(s);
}
constexpr double kFlopsPerBurstAvx512 = 12.0 * 16 * 2 * kFmaRounds;
#endif

float ScalarBurst(float seed) {
  float a[8];
  for (int i = 0; i < 8; ++i) a[i] = seed + static_cast<float>(i);
  for (int64_t r = 0; r < kFmaRounds; ++r)
    for (int i = 0; i < 8; ++i) a[i] = a[i] * 0.9999f + 1e-4f;
  float s = 0.0f;
  for (float v : a) s += v;
  return s;
}
constexpr double kFlopsPerBurstScalar = 8.0 * 2 * kFmaRounds;

// Runs `burst` on every pool thread until `seconds` pass; returns bursts completed and elapsed time.
template <typename Burst>
double RepeatOnAllThreads(double seconds, Burst burst, double* elapsed) {
  ThreadPool& pool = DefaultThreadPool();
  std::atomic<int64_t> total{0};
  std::atomic<float> sink{0.0f};
  const auto start = Clock::now();
  pool.ParallelFor(pool.size(), 1, [&](size_t, size_t) {
    int64_t count = 0;
    float acc = 0.0f;
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
      acc += burst(acc);
      ++count;
    }
    total += count;
    sink = sink + acc;  // keeps the work observable
  });
  *elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(total.load());
}

}  // namespace

double MeasurePeakGflops(double seconds) {
  double elapsed = 0.0;
#ifdef QS_X86
  if (UseAvx512()) {
    const double bursts = RepeatOnAllThreads(
        seconds, [](float s) { return FmaBurst512(s); }, &elapsed);
    return bursts * kFlopsPerBurstAvx512 / elapsed / 1e9;
  }
  if (UseAvx2()) {
    const double bursts = RepeatOnAllThreads(
        seconds, [](float s) { return FmaBurst(s); }, &elapsed);
    return bursts * kFlopsPerBurstAvx2 / elapsed / 1e9;
  }
#endif
  const double bursts = RepeatOnAllThreads(
      seconds, [](float s) { return ScalarBurst(s); }, &elapsed);
  return bursts * kFlopsPerBurstScalar / elapsed / 1e9;
}

double MeasureMemcpyGBs(double seconds) {
  constexpr size_t kBytesPerThread = 32u << 20;  // far past any L3 share
  ThreadPool& pool = DefaultThreadPool();
  std::vector<std::vector<char>> src(pool.size(), std::vector<char>(kBytesPerThread, 1));
  std::vector<std::vector<char>> dst(pool.size(), std::vector<char>(kBytesPerThread, 0));
  std::atomic<int64_t> copies{0};
  const auto start = Clock::now();
  pool.ParallelFor(pool.size(), 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        std::memcpy(dst[t].data(), src[t].data(), kBytesPerThread);
        ++copies;
      }
    }
  });
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return 2.0 * static_cast<double>(copies.load()) * kBytesPerThread / elapsed / 1e9;
}

}  // namespace quantstudio::kernels
