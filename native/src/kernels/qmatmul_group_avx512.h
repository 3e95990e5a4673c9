// The AVX-512 level of GroupGemv (qmatmul_group.h): Codes::Load16x16(c, j) yields the codes of outputs
// j..j+15 at input c in one register, to be multiplied by Codes::X16(x[c]) (x broadcast, or scaled per lane
// where the codes are left at their bit offsets); the walk over packed rows, the prefetch and the per-run group factors
// are the same.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/qmatmul_group.h"
#include "kernels/simd_avx512.h"

namespace quantstudio::kernels {

#ifdef QS_X86
/** Adds a run's partial sums into y[j0, j1): y += s·acc − s·z·Σx (j0, j1 multiples of 16). */
QS_AVX512 inline void ApplyGroupAvx512(const GroupFactors& f, int32_t group, float xs, const float* acc, int64_t j0,
                                       int64_t j1, float* y) {
  const float* s = f.scale.data() + group * f.out;
  const float* sz = f.scaledZero.data() + group * f.out;
  const __m512 xsb = _mm512_set1_ps(xs);
  for (int64_t j = j0; j < j1; j += 16) {
    const __m512 t = _mm512_fmadd_ps(_mm512_loadu_ps(s + j), _mm512_loadu_ps(acc + (j - j0)), _mm512_loadu_ps(y + j));
    _mm512_storeu_ps(y + j, _mm512_fnmadd_ps(_mm512_loadu_ps(sz + j), xsb, t));
  }
}

template <class Codes>
QS_AVX512 void GroupGemvAvx512(const Codes& codes, const GroupFactors& f, const float* x, int64_t j0, int64_t j1,
                               float* y) {
  const int64_t in = static_cast<int64_t>(f.gIdx.size());
  thread_local std::vector<float> acc;
  acc.assign(static_cast<size_t>(j1 - j0), 0.0f);
  for (int64_t j = j0; j < j1; ++j) y[j] = 0.0f;
  for (const GroupRun& run : f.runs) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    float xs = 0.0f;
    for (int64_t c = run.begin; c < run.end; c += 4) {
      const int u = static_cast<int>(std::min<int64_t>(4, run.end - c));
      const int64_t ahead = std::min(c + kPrefetchInputs, in - u);
      __m512 xv[4];
      for (int k = 0; k < u; ++k) xv[k] = codes.X16(x[c + k]);
      for (int64_t j = j0; j < j1; j += 16) {
        if (StartsLine<Codes>(j, j0)) {
          for (int k = 0; k < u; ++k)
            _mm_prefetch(reinterpret_cast<const char*>(codes.Line(ahead + k, j)), _MM_HINT_T0);
        }
        float* a = acc.data() + (j - j0);
        __m512 sum = _mm512_loadu_ps(a);
        for (int k = 0; k < u; ++k) sum = _mm512_fmadd_ps(codes.Load16x16(c + k, j), xv[k], sum);
        _mm512_storeu_ps(a, sum);
      }
      for (int k = 0; k < u; ++k) xs += x[c + k];
    }
    ApplyGroupAvx512(f, run.group, xs, acc.data(), j0, j1, y);
  }
}
#endif

}  // namespace quantstudio::kernels
