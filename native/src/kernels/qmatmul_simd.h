// AVX2 building blocks shared by the kernels (dense and quantized): the prefill panel sweep and small helpers.
// Functions carry the target attribute, so this compiles without -mavx2 and runs only after UseAvx2().
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QS_X86 1
#define QS_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace quantstudio::kernels {

QS_AVX2 inline float HSum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 shuf = _mm_movehdup_ps(sum);
  sum = _mm_add_ps(sum, shuf);
  shuf = _mm_movehl_ps(shuf, sum);
  return _mm_cvtss_f32(_mm_add_ss(sum, shuf));
}

/** 8 floats from fp16 storage. */
QS_AVX2 inline __m256 LoadF16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

/** out[i·ldo + c] = Σ_k x[i·k + kk] · panel[kk·16 + c] (+ bias[c]) for every row i < m and c < 16 (the
 *  AVX-512 level sweeps up to four panels at once instead: PanelsTimesRowsAvx512). */
void PanelTimesRows(const float* x, int64_t m, int64_t k, const float* panel, float* out, int64_t ldo,
                    const float* bias);

}  // namespace quantstudio::kernels
#endif
