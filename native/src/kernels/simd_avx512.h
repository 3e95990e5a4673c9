// AVX-512 building blocks (F, BW, DQ, VL): functions carry the target attribute, so this compiles without
// -mavx512f and runs only after UseAvx512().
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QS_X86 1
#define QS_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused merge operand, which -O3 reports as
// "used uninitialized" from inside its own header (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace quantstudio::kernels {

/** The sum of the 16 lanes (halves, then quarters folded). */
QS_AVX512 inline float HSum16(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
  __m128 s = _mm512_castps512_ps128(v);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/** 16 floats from fp16 storage. */
QS_AVX512 inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

/** 16 floats from bf16 storage (bf16 is the high half of an fp32). */
QS_AVX512 inline __m512 LoadBf16x16(const uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

/** Up to kMaxPanels panels side by side, for outputs [0, 16·count): panel p covers out columns 16p..16p+15
 *  (bias likewise); only nbLast columns of the last one exist. Fewer loads per multiply-add than one at a time. */
constexpr int kMaxPanels = 4;
void PanelsTimesRowsAvx512(const float* x, int64_t m, int64_t k, const float* const* panels, int count, float* out,
                           int64_t ldo, const float* bias, int64_t nbLast = 16);

/** out[i][j] = Σ_t a[t·lda + i] · b[t·ldb + j] for i < m, j < cols (1 ≤ cols ≤ 16·kMaxPanels), t < k: the rows of
 *  PanelsTimesRowsAvx512 read from A stored transposed and the panels from B in place (no packing), each sum formed
 *  in the same passes and order as there. */
void TransposedTimesColumnsAvx512(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t cols,
                                  int64_t k, float* out, int64_t ldo);

}  // namespace quantstudio::kernels
#endif
