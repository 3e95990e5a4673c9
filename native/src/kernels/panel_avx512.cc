#include <algorithm>

#include "kernels/simd_avx512.h"

#ifdef QS_X86

namespace quantstudio::kernels {
namespace {

// MR rows of x times NP panels of 16 columns: MR·NP output registers (24 of the 32), NP panel loads and MR
// broadcasts of x per input (outer-product form, no horizontal sums). More panels per row block means
// fewer loads per multiply-add: 6 rows × 4 panels is 10 loads per 24 FMAs.
template <int NP>
constexpr int RowsFor() {
  return NP == 1 ? 14 : NP == 2 ? 12 : NP == 3 ? 8 : 6;
}

// Inputs per pass: the pass's slices of the panels (≤ 32 KiB) stay in L1 and its slice of x in L2 while
// every row block sweeps them; without it each row block would stream the whole of x per panel group.
template <int NP>
constexpr int64_t DepthFor() {
  return 512 / NP;
}

struct Panels {
  const float* const* data;  // NP panels, each panel[kk·16 + c]
  __mmask16 lastColumns;     // columns of the last panel that exist
};

// One pass over inputs [k0, k0 + depth): the first pass starts the sums (with the bias), later ones continue
// the partial sums stored in out.
template <int MR, int NP>
QS_AVX512 inline void Rows(const float* x, int64_t ldx, int64_t k0, int64_t depth, const Panels& p, float* out,
                           int64_t ldo, const float* bias) {
  __m512 acc[MR][NP];
  __mmask16 columns[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) columns[q] = q == NP - 1 ? p.lastColumns : static_cast<__mmask16>(0xFFFF);
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    const __m512 start = bias && k0 == 0 ? _mm512_maskz_loadu_ps(columns[q], bias + 16 * q) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      acc[r][q] = k0 == 0 ? start : _mm512_maskz_loadu_ps(columns[q], out + r * ldo + 16 * q);
  }
  const float* xk = x + k0;
  const float* pk[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) pk[q] = p.data[q] + k0 * 16;
  for (int64_t kk = 0; kk < depth; ++kk) {
    __m512 b[NP];
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) b[q] = _mm512_loadu_ps(pk[q] + kk * 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(xk[r * ldx + kk]);
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_fmadd_ps(a, b[q], acc[r][q]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) _mm512_mask_storeu_ps(out + r * ldo + 16 * q, columns[q], acc[r][q]);
  }
}

template <int MR, int NP>
QS_AVX512 void Tail(const float* x, int64_t rows, int64_t ldx, int64_t k0, int64_t depth, const Panels& p, float* out,
                    int64_t ldo, const float* bias) {
  if constexpr (MR > 0) {
    if (rows == MR) return Rows<MR, NP>(x, ldx, k0, depth, p, out, ldo, bias);
    Tail<MR - 1, NP>(x, rows, ldx, k0, depth, p, out, ldo, bias);
  }
}

template <int NP>
QS_AVX512 void Sweep(const float* x, int64_t m, int64_t k, const Panels& p, float* out, int64_t ldo,
                     const float* bias) {
  constexpr int kRows = RowsFor<NP>();
  for (int64_t k0 = 0; k0 < k; k0 += DepthFor<NP>()) {
    const int64_t depth = std::min(DepthFor<NP>(), k - k0);
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) Rows<kRows, NP>(x + i * k, k, k0, depth, p, out + i * ldo, ldo, bias);
    if (i < m) Tail<kRows - 1, NP>(x + i * k, m - i, k, k0, depth, p, out + i * ldo, ldo, bias);
  }
}

}  // namespace

QS_AVX512 void PanelsTimesRowsAvx512(const float* x, int64_t m, int64_t k, const float* const* panels, int count,
                                     float* out, int64_t ldo, const float* bias, int64_t nbLast) {
  const Panels p{panels, static_cast<__mmask16>((1u << nbLast) - 1u)};
  switch (count) {
    case 1: return Sweep<1>(x, m, k, p, out, ldo, bias);
    case 2: return Sweep<2>(x, m, k, p, out, ldo, bias);
    case 3: return Sweep<3>(x, m, k, p, out, ldo, bias);
    case 4: return Sweep<4>(x, m, k, p, out, ldo, bias);
    default: break;
  }
}

}  // namespace quantstudio::kernels

#endif  // QS_X86
