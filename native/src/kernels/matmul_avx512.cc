#include "kernels/matmul_avx512.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/simd_avx512.h"

#ifdef QS_X86

namespace quantstudio::kernels {
namespace {

const uint8_t* RowPtr(const MatrixRef& w, int64_t row) {
  return static_cast<const uint8_t*>(w.data) +
         static_cast<size_t>(row) * static_cast<size_t>(w.cols) * DTypeSize(w.dtype);
}

// 16 weights of one row from element i on, widened to fp32; `lanes` masks a tail shorter than 16.
template <DType T>
QS_AVX512 inline __m512 Load16(const uint8_t* row, int64_t i, __mmask16 lanes = 0xFFFF) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(lanes, reinterpret_cast<const float*>(row) + i);
  } else {
    const __m256i half = _mm256_maskz_loadu_epi16(lanes, row + 2 * i);
    if constexpr (T == DType::F16) return _mm512_cvtph_ps(half);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  }
}

// GEMV rows [j0, j1): four weight rows share each load of x; the tail of k is masked, not scalar.
template <DType T>
QS_AVX512 void GemvRows(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1) {
  const int64_t k = w.cols;
  const int64_t k16 = k & ~int64_t{15};
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - k16)) - 1u);
  int64_t j = j0;
  for (; j + 4 <= j1; j += 4) {
    const uint8_t* r0 = RowPtr(w, j);
    const uint8_t* r1 = RowPtr(w, j + 1);
    const uint8_t* r2 = RowPtr(w, j + 2);
    const uint8_t* r3 = RowPtr(w, j + 3);
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    for (int64_t i = 0; i < k16; i += 16) {
      const __m512 xv = _mm512_loadu_ps(x + i);
      a0 = _mm512_fmadd_ps(Load16<T>(r0, i), xv, a0);
      a1 = _mm512_fmadd_ps(Load16<T>(r1, i), xv, a1);
      a2 = _mm512_fmadd_ps(Load16<T>(r2, i), xv, a2);
      a3 = _mm512_fmadd_ps(Load16<T>(r3, i), xv, a3);
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + k16);
      a0 = _mm512_fmadd_ps(Load16<T>(r0, k16, tail), xv, a0);
      a1 = _mm512_fmadd_ps(Load16<T>(r1, k16, tail), xv, a1);
      a2 = _mm512_fmadd_ps(Load16<T>(r2, k16, tail), xv, a2);
      a3 = _mm512_fmadd_ps(Load16<T>(r3, k16, tail), xv, a3);
    }
    y[j] = HSum16(a0) + (bias ? bias[j] : 0.0f);
    y[j + 1] = HSum16(a1) + (bias ? bias[j + 1] : 0.0f);
    y[j + 2] = HSum16(a2) + (bias ? bias[j + 2] : 0.0f);
    y[j + 3] = HSum16(a3) + (bias ? bias[j + 3] : 0.0f);
  }
  for (; j < j1; ++j) {
    const uint8_t* r = RowPtr(w, j);
    __m512 a = _mm512_setzero_ps();
    for (int64_t i = 0; i < k16; i += 16) a = _mm512_fmadd_ps(Load16<T>(r, i), _mm512_loadu_ps(x + i), a);
    if (tail) a = _mm512_fmadd_ps(Load16<T>(r, k16, tail), _mm512_maskz_loadu_ps(tail, x + k16), a);
    y[j] = HSum16(a) + (bias ? bias[j] : 0.0f);
  }
}

// cols[c] = column c of the 16 rows r[0..15] (rows are destroyed): unpack pairs of rows, then pairs of pairs,
// then gather the 128-bit lanes.
QS_AVX512 inline void Transpose16(__m512 r[16], __m512 cols[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], lane L: column 4L + j of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 v88 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), vdd = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    const __m512 w88 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 wdd = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    cols[j] = _mm512_shuffle_f32x4(v88, w88, 0x88);
    cols[8 + j] = _mm512_shuffle_f32x4(v88, w88, 0xDD);
    cols[4 + j] = _mm512_shuffle_f32x4(vdd, wdd, 0x88);
    cols[12 + j] = _mm512_shuffle_f32x4(vdd, wdd, 0xDD);
  }
}

// Packs rows [j0, j0+nb) of w transposed and widened: panel[kk*16 + c] = w[j0+c][kk], zero for c >= nb.
// Sixteen rows are widened 16 columns at a time and transposed in registers. The sixteen rows are read side by
// side, one row stride apart, which the hardware prefetchers do not follow: each row's line kPackAhead columns on
// is asked for.
template <DType T>
QS_AVX512 void PackPanel(const MatrixRef& w, int64_t j0, int64_t nb, float* panel) {
  constexpr int64_t kPackAhead = 128;
  const int64_t k = w.cols;
  __m512 rows[16], cols[16];
  for (int64_t kk = 0; kk < k; kk += 16) {
    const int64_t width = std::min<int64_t>(16, k - kk);
    const __mmask16 lanes = static_cast<__mmask16>((1u << width) - 1u);
    if (kk + kPackAhead < k) {
      for (int64_t c = 0; c < nb; ++c) {
        _mm_prefetch(reinterpret_cast<const char*>(RowPtr(w, j0 + c) +
                                                   (kk + kPackAhead) * static_cast<int64_t>(DTypeSize(w.dtype))),
                     _MM_HINT_T0);
      }
    }
    for (int64_t c = 0; c < 16; ++c) rows[c] = c < nb ? Load16<T>(RowPtr(w, j0 + c), kk, lanes) : _mm512_setzero_ps();
    Transpose16(rows, cols);
    for (int64_t e = 0; e < width; ++e) _mm512_storeu_ps(panel + (kk + e) * 16, cols[e]);
  }
}

template <DType T>
void MatMulTyped(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y) {
  ThreadPool& pool = DefaultThreadPool();
  if (m == 1) {
    pool.ParallelFor(static_cast<size_t>(w.rows), 64, [&](size_t b, size_t e) {
      GemvRows<T>(x, w, bias, y, static_cast<int64_t>(b), static_cast<int64_t>(e));
    });
    return;
  }
  // Each group of up to four panels (64 weight rows) is widened once and swept by every row of x.
  const int64_t n = w.rows, k = w.cols;
  const int64_t groupRows = 16 * kMaxPanels;
  const int64_t groups = (n + groupRows - 1) / groupRows;
  pool.ParallelFor(static_cast<size_t>(groups), 1, [&](size_t b, size_t e) {
    thread_local std::vector<float> buffer;
    buffer.resize(static_cast<size_t>(kMaxPanels * 16 * k));
    for (size_t g = b; g < e; ++g) {
      const int64_t j0 = static_cast<int64_t>(g) * groupRows;
      const int64_t rows = std::min(groupRows, n - j0);
      const int count = static_cast<int>((rows + 15) / 16);
      const float* panels[kMaxPanels];
      for (int q = 0; q < count; ++q) {
        float* panel = buffer.data() + q * 16 * k;
        PackPanel<T>(w, j0 + 16 * q, std::min<int64_t>(16, rows - 16 * q), panel);
        panels[q] = panel;
      }
      PanelsTimesRowsAvx512(x, m, k, panels, count, y + j0, n, bias ? bias + j0 : nullptr, rows - 16 * (count - 1));
    }
  });
}

}  // namespace

void MatMulAvx512(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y) {
  switch (w.dtype) {
    case DType::F32: return MatMulTyped<DType::F32>(x, m, w, bias, y);
    case DType::F16: return MatMulTyped<DType::F16>(x, m, w, bias, y);
    case DType::BF16: return MatMulTyped<DType::BF16>(x, m, w, bias, y);
    default: break;
  }
}

void MatMulTransposedAAvx512(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t n, int64_t k,
                             float* y, int64_t ldy) {
  const int64_t groupCols = 16 * kMaxPanels;
  const int64_t groups = (n + groupCols - 1) / groupCols;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(groups), 1, [&](size_t begin, size_t end) {
    for (size_t g = begin; g < end; ++g) {
      const int64_t j0 = static_cast<int64_t>(g) * groupCols;
      TransposedTimesColumnsAvx512(a, lda, m, b + j0, ldb, std::min(groupCols, n - j0), k, y + j0, ldy);
    }
  });
}

void GemvRangeAvx512(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1) {
  switch (w.dtype) {
    case DType::F32: return GemvRows<DType::F32>(x, w, bias, y, j0, j1);
    case DType::F16: return GemvRows<DType::F16>(x, w, bias, y, j0, j1);
    case DType::BF16: return GemvRows<DType::BF16>(x, w, bias, y, j0, j1);
    default: break;
  }
}

}  // namespace quantstudio::kernels

#else

namespace quantstudio::kernels {
void MatMulAvx512(const float*, int64_t, const MatrixRef&, const float*, float*) {}
void GemvRangeAvx512(const float*, const MatrixRef&, const float*, float*, int64_t, int64_t) {}
}  // namespace quantstudio::kernels

#endif  // QS_X86
