#include "kernels/qmatmul_simd.h"

#ifdef QS_X86

namespace quantstudio::kernels {
namespace {

// MR rows of x times the 16-column panel: MR×16 outputs in 2·MR registers (outer-product form: one
// broadcast of x and two panel loads per k step, no horizontal sums).
template <int MR>
QS_AVX2 inline void Rows(const float* x, int64_t k, const float* panel, float* out, int64_t ldo, const float* bias) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m256 b0 = _mm256_loadu_ps(panel + kk * 16);
    const __m256 b1 = _mm256_loadu_ps(panel + kk * 16 + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(x + r * k + kk);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  const __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    _mm256_storeu_ps(out + r * ldo, _mm256_add_ps(acc[r][0], bias0));
    _mm256_storeu_ps(out + r * ldo + 8, _mm256_add_ps(acc[r][1], bias1));
  }
}

}  // namespace

QS_AVX2 void PanelTimesRows(const float* x, int64_t m, int64_t k, const float* panel, float* out, int64_t ldo,
                            const float* bias) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) Rows<6>(x + i * k, k, panel, out + i * ldo, ldo, bias);
  const float* xr = x + i * k;
  float* o = out + i * ldo;
  switch (m - i) {
    case 5: Rows<5>(xr, k, panel, o, ldo, bias); break;
    case 4: Rows<4>(xr, k, panel, o, ldo, bias); break;
    case 3: Rows<3>(xr, k, panel, o, ldo, bias); break;
    case 2: Rows<2>(xr, k, panel, o, ldo, bias); break;
    case 1: Rows<1>(xr, k, panel, o, ldo, bias); break;
    default: break;
  }
}

}  // namespace quantstudio::kernels

#endif  // QS_X86
