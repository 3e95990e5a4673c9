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

// Where a row block's operands come from. Packed: x row-major (row r's input kk at x[r·ldx + kk]) and panels packed
// as panel[kk·16 + c], zero past the columns that exist. InPlace: A stored transposed (row r's input kk at
// a[kk·lda + r]) and B row-major, panel q's 16 values at b[kk·ldb + 16q], masked to the columns that exist.
struct PackedOperands {
  const float* x;
  int64_t ldx;
  const float* const* panels;
  QS_AVX512 float X(int64_t r, int64_t kk) const { return x[r * ldx + kk]; }
  QS_AVX512 __m512 Panel(int q, int64_t kk, __mmask16) const { return _mm512_loadu_ps(panels[q] + kk * 16); }
  PackedOperands From(int64_t row) const { return {x + row * ldx, ldx, panels}; }
};

struct InPlaceOperands {
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  QS_AVX512 float X(int64_t r, int64_t kk) const { return a[kk * lda + r]; }
  QS_AVX512 __m512 Panel(int q, int64_t kk, __mmask16 columns) const {
    return _mm512_maskz_loadu_ps(columns, b + kk * ldb + 16 * q);
  }
  InPlaceOperands From(int64_t row) const { return {a + row, lda, b, ldb}; }
};

// One pass over inputs [k0, k0 + depth): the first pass starts the sums (with the bias), later ones continue
// the partial sums stored in out.
template <int MR, int NP, class Operands>
QS_AVX512 inline void Rows(const Operands& in, int64_t k0, int64_t depth, __mmask16 lastColumns, float* out,
                           int64_t ldo, const float* bias) {
  __m512 acc[MR][NP];
  __mmask16 columns[NP];
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) columns[q] = q == NP - 1 ? lastColumns : static_cast<__mmask16>(0xFFFF);
#pragma GCC unroll 4
  for (int q = 0; q < NP; ++q) {
    const __m512 start = bias && k0 == 0 ? _mm512_maskz_loadu_ps(columns[q], bias + 16 * q) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      acc[r][q] = k0 == 0 ? start : _mm512_maskz_loadu_ps(columns[q], out + r * ldo + 16 * q);
  }
  for (int64_t kk = k0; kk < k0 + depth; ++kk) {
    __m512 b[NP];
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q) b[q] = in.Panel(q, kk, columns[q]);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(in.X(r, kk));
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

template <int MR, int NP, class Operands>
QS_AVX512 void Tail(const Operands& in, int64_t rows, int64_t k0, int64_t depth, __mmask16 last, float* out,
                    int64_t ldo, const float* bias) {
  if constexpr (MR > 0) {
    if (rows == MR) return Rows<MR, NP>(in, k0, depth, last, out, ldo, bias);
    Tail<MR - 1, NP>(in, rows, k0, depth, last, out, ldo, bias);
  }
}

template <int NP, class Operands>
QS_AVX512 void Sweep(const Operands& in, int64_t m, int64_t k, __mmask16 last, float* out, int64_t ldo,
                     const float* bias) {
  constexpr int kRows = RowsFor<NP>();
  for (int64_t k0 = 0; k0 < k; k0 += DepthFor<NP>()) {
    const int64_t depth = std::min(DepthFor<NP>(), k - k0);
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) Rows<kRows, NP>(in.From(i), k0, depth, last, out + i * ldo, ldo, bias);
    if (i < m) Tail<kRows - 1, NP>(in.From(i), m - i, k0, depth, last, out + i * ldo, ldo, bias);
  }
}

// Sweep over NP = count panels (1..kMaxPanels).
template <class Operands>
QS_AVX512 void SweepPanels(int count, const Operands& in, int64_t m, int64_t k, __mmask16 last, float* out, int64_t ldo,
                           const float* bias) {
  switch (count) {
    case 1: return Sweep<1>(in, m, k, last, out, ldo, bias);
    case 2: return Sweep<2>(in, m, k, last, out, ldo, bias);
    case 3: return Sweep<3>(in, m, k, last, out, ldo, bias);
    case 4: return Sweep<4>(in, m, k, last, out, ldo, bias);
    default: break;
  }
}

}  // namespace

QS_AVX512 void TransposedTimesColumnsAvx512(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb,
                                            int64_t cols, int64_t k, float* out, int64_t ldo) {
  const int count = static_cast<int>((cols + 15) / 16);
  const __mmask16 last = static_cast<__mmask16>((1u << (cols - 16 * (count - 1))) - 1u);
  SweepPanels(count, InPlaceOperands{a, lda, b, ldb}, m, k, last, out, ldo, nullptr);
}

QS_AVX512 void PanelsTimesRowsAvx512(const float* x, int64_t m, int64_t k, const float* const* panels, int count,
                                     float* out, int64_t ldo, const float* bias, int64_t nbLast) {
  SweepPanels(count, PackedOperands{x, k, panels}, m, k, static_cast<__mmask16>((1u << nbLast) - 1u), out, ldo, bias);
}

}  // namespace quantstudio::kernels

#endif  // QS_X86
