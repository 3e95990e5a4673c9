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

// Rows<MR, NP> over data in place: x value (r, kk) is a[kk·lda + r] (A stored transposed: the rows are its columns),
// panel q's 16 values are b[kk·ldb + 16q] (B row-major, masked to the columns that exist). Same passes and FMA order.
template <int MR, int NP>
QS_AVX512 inline void RowsInPlace(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t k0, int64_t depth,
                                  __mmask16 lastColumns, float* out, int64_t ldo) {
  __m512 acc[MR][NP];
  __mmask16 columns[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) columns[q] = q == NP - 1 ? lastColumns : static_cast<__mmask16>(0xFFFF);
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      acc[r][q] = k0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(columns[q], out + r * ldo + 16 * q);
  }
  for (int64_t kk = k0; kk < k0 + depth; ++kk) {
    __m512 bv[NP];
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) bv[q] = _mm512_maskz_loadu_ps(columns[q], b + kk * ldb + 16 * q);
    const float* ak = a + kk * lda;
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ak[r]);
#pragma GCC unroll 4
      for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) _mm512_mask_storeu_ps(out + r * ldo + 16 * q, columns[q], acc[r][q]);
  }
}

template <int MR, int NP>
QS_AVX512 void TailInPlace(const float* a, int64_t lda, int64_t rows, const float* b, int64_t ldb, int64_t k0,
                           int64_t depth, __mmask16 last, float* out, int64_t ldo) {
  if constexpr (MR > 0) {
    if (rows == MR) return RowsInPlace<MR, NP>(a, lda, b, ldb, k0, depth, last, out, ldo);
    TailInPlace<MR - 1, NP>(a, lda, rows, b, ldb, k0, depth, last, out, ldo);
  }
}

template <int NP>
QS_AVX512 void SweepInPlace(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t k,
                            __mmask16 last, float* out, int64_t ldo) {
  constexpr int kRows = RowsFor<NP>();
  for (int64_t k0 = 0; k0 < k; k0 += DepthFor<NP>()) {
    const int64_t depth = std::min(DepthFor<NP>(), k - k0);
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) RowsInPlace<kRows, NP>(a + i, lda, b, ldb, k0, depth, last, out + i * ldo, ldo);
    if (i < m) TailInPlace<kRows - 1, NP>(a + i, lda, m - i, b, ldb, k0, depth, last, out + i * ldo, ldo);
  }
}

}  // namespace

QS_AVX512 void TransposedTimesColumnsAvx512(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb,
                                            int64_t cols, int64_t k, float* out, int64_t ldo) {
  const int count = static_cast<int>((cols + 15) / 16);
  const __mmask16 last = static_cast<__mmask16>((1u << (cols - 16 * (count - 1))) - 1u);
  switch (count) {
    case 1: return SweepInPlace<1>(a, lda, m, b, ldb, k, last, out, ldo);
    case 2: return SweepInPlace<2>(a, lda, m, b, ldb, k, last, out, ldo);
    case 3: return SweepInPlace<3>(a, lda, m, b, ldb, k, last, out, ldo);
    case 4: return SweepInPlace<4>(a, lda, m, b, ldb, k, last, out, ldo);
    default: break;
  }
}

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
