#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/matmul_avx512.h"
#include "kernels/qmatmul_simd.h"

namespace quantstudio::kernels {
namespace {

size_t RowBytes(const MatrixRef& w) { return static_cast<size_t>(w.cols) * DTypeSize(w.dtype); }

const uint8_t* RowPtr(const MatrixRef& w, int64_t row) {
  return static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * RowBytes(w);
}

template <typename T>
T LoadUnaligned(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void WidenScalar(DType t, const uint8_t* src, int64_t count, float* out) {
  switch (t) {
    case DType::F32: std::memcpy(out, src, static_cast<size_t>(count) * 4); return;
    case DType::F16:
      for (int64_t i = 0; i < count; ++i) out[i] = F16ToF32(LoadUnaligned<uint16_t>(src + 2 * i));
      return;
    case DType::BF16:
      for (int64_t i = 0; i < count; ++i) out[i] = Bf16ToF32(LoadUnaligned<uint16_t>(src + 2 * i));
      return;
    default:
      throw std::invalid_argument(std::string("matmul: weights of dtype ") + DTypeName(t) +
                                  " need a quantized-format kernel, not the dense one");
  }
}

void CheckDense(const MatrixRef& w) {
  if (w.dtype != DType::F32 && w.dtype != DType::F16 && w.dtype != DType::BF16) {
    throw std::invalid_argument(std::string("matmul: dense weights must be F32, F16 or BF16, got ") +
                                DTypeName(w.dtype));
  }
}

#ifdef QS_X86
// Weight rows widened per GEMM panel: 16 outputs = two AVX2 registers per row of x.
constexpr int64_t kPanelCols = 16;

template <DType T>
QS_AVX2 inline __m256 Load8(const uint8_t* row, int64_t i) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  } else if constexpr (T == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
  } else {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
}

template <DType T>
inline float Load1(const uint8_t* row, int64_t i) {
  if constexpr (T == DType::F32)
    return LoadUnaligned<float>(row + 4 * i);
  else if constexpr (T == DType::F16)
    return F16ToF32(LoadUnaligned<uint16_t>(row + 2 * i));
  else
    return Bf16ToF32(LoadUnaligned<uint16_t>(row + 2 * i));
}

// GEMV rows [j0, j1): four weight rows share each load of x.
template <DType T>
QS_AVX2 void GemvRows(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1) {
  const int64_t k = w.cols;
  const int64_t k8 = k & ~int64_t{7};
  int64_t j = j0;
  for (; j + 4 <= j1; j += 4) {
    const uint8_t* r0 = RowPtr(w, j);
    const uint8_t* r1 = RowPtr(w, j + 1);
    const uint8_t* r2 = RowPtr(w, j + 2);
    const uint8_t* r3 = RowPtr(w, j + 3);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t i = 0; i < k8; i += 8) {
      __m256 xv = _mm256_loadu_ps(x + i);
      a0 = _mm256_fmadd_ps(Load8<T>(r0, i), xv, a0);
      a1 = _mm256_fmadd_ps(Load8<T>(r1, i), xv, a1);
      a2 = _mm256_fmadd_ps(Load8<T>(r2, i), xv, a2);
      a3 = _mm256_fmadd_ps(Load8<T>(r3, i), xv, a3);
    }
    float s[4] = {HSum(a0), HSum(a1), HSum(a2), HSum(a3)};
    const uint8_t* rows[4] = {r0, r1, r2, r3};
    for (int r = 0; r < 4; ++r) {
      for (int64_t i = k8; i < k; ++i) s[r] += Load1<T>(rows[r], i) * x[i];
      y[j + r] = s[r] + (bias ? bias[j + r] : 0.0f);
    }
  }
  for (; j < j1; ++j) {
    const uint8_t* r = RowPtr(w, j);
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < k8; i += 8) a = _mm256_fmadd_ps(Load8<T>(r, i), _mm256_loadu_ps(x + i), a);
    float s = HSum(a);
    for (int64_t i = k8; i < k; ++i) s += Load1<T>(r, i) * x[i];
    y[j] = s + (bias ? bias[j] : 0.0f);
  }
}

template <DType T>
QS_AVX2 void WidenRowsAvx2(const MatrixRef& w, int64_t j0, int64_t count, float* out) {
  const int64_t k = w.cols;
  const int64_t k8 = k & ~int64_t{7};
  for (int64_t r = 0; r < count; ++r) {
    const uint8_t* row = RowPtr(w, j0 + r);
    float* dst = out + r * k;
    for (int64_t i = 0; i < k8; i += 8) _mm256_storeu_ps(dst + i, Load8<T>(row, i));
    for (int64_t i = k8; i < k; ++i) dst[i] = Load1<T>(row, i);
  }
}

// Packs rows [j0, j0+nb) of w transposed and widened: panel[kk*16 + c] = w[j0+c][kk], zero for c >= nb.
template <DType T>
QS_AVX2 void PackPanel(const MatrixRef& w, int64_t j0, int64_t nb, float* panel) {
  const int64_t k = w.cols;
  const int64_t k8 = k & ~int64_t{7};
  alignas(32) float block[8][8];
  for (int64_t c = nb; c < kPanelCols; ++c)
    for (int64_t kk = 0; kk < k; ++kk) panel[kk * kPanelCols + c] = 0.0f;
  for (int64_t c = 0; c < nb; ++c) {
    const uint8_t* row = RowPtr(w, j0 + c);
    for (int64_t kk = 0; kk < k8; kk += 8) {
      _mm256_store_ps(block[0], Load8<T>(row, kk));
      for (int e = 0; e < 8; ++e) panel[(kk + e) * kPanelCols + c] = block[0][e];
    }
    for (int64_t kk = k8; kk < k; ++kk) panel[kk * kPanelCols + c] = Load1<T>(row, kk);
  }
}

// MR rows of x times a 16-column panel: MR×16 outputs in 2·MR registers, one broadcast of x per row and
// two panel loads per k step, no horizontal sums (the outer-product form).
template <int MR>
QS_AVX2 inline void PanelKernel(const float* x, int64_t k, const float* panel, float* out, int64_t ldo, int64_t nb,
                                const float* bias) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m256 b0 = _mm256_loadu_ps(panel + kk * kPanelCols);
    const __m256 b1 = _mm256_loadu_ps(panel + kk * kPanelCols + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(x + r * k + kk);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  // Spill through a local block (constant indices keep acc in registers inside the loop above).
  alignas(32) float block[MR][kPanelCols];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(block[r], acc[r][0]);
    _mm256_store_ps(block[r] + 8, acc[r][1]);
  }
  for (int r = 0; r < MR; ++r)
    for (int64_t c = 0; c < nb; ++c) out[r * ldo + c] = block[r][c] + (bias ? bias[c] : 0.0f);
}

template <DType T>
QS_AVX2 void GemmPanel(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y, int64_t panelIndex,
                       std::vector<float>& panel) {
  const int64_t k = w.cols, n = w.rows;
  const int64_t j0 = panelIndex * kPanelCols;
  const int64_t nb = std::min(kPanelCols, n - j0);
  panel.resize(static_cast<size_t>(kPanelCols * k));
  PackPanel<T>(w, j0, nb, panel.data());
  const float* b = bias ? bias + j0 : nullptr;
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) PanelKernel<6>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b);
  switch (m - i) {
    case 5: PanelKernel<5>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b); break;
    case 4: PanelKernel<4>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b); break;
    case 3: PanelKernel<3>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b); break;
    case 2: PanelKernel<2>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b); break;
    case 1: PanelKernel<1>(x + i * k, k, panel.data(), y + i * n + j0, n, nb, b); break;
    default: break;
  }
}

template <DType T>
void MatMulAvx2(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y) {
  ThreadPool& pool = DefaultThreadPool();
  if (m == 1) {
    pool.ParallelFor(static_cast<size_t>(w.rows), 64, [&](size_t b, size_t e) {
      GemvRows<T>(x, w, bias, y, static_cast<int64_t>(b), static_cast<int64_t>(e));
    });
    return;
  }
  // Each panel of 16 weight rows is widened once and swept by every row of x (which stays in L2).
  const int64_t panels = (w.rows + kPanelCols - 1) / kPanelCols;
  pool.ParallelFor(static_cast<size_t>(panels), 1, [&](size_t b, size_t e) {
    thread_local std::vector<float> panel;
    for (size_t p = b; p < e; ++p) GemmPanel<T>(x, m, w, bias, y, static_cast<int64_t>(p), panel);
  });
}
#endif  // QS_X86

}  // namespace

void WidenRow(const MatrixRef& w, int64_t row, float* out) {
  CheckDense(w);
  WidenScalar(w.dtype, RowPtr(w, row), w.cols, out);
}

void MatMulReference(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y) {
  CheckDense(w);
  const int64_t n = w.rows, k = w.cols;
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    WidenScalar(w.dtype, RowPtr(w, j), k, row.data());
    for (int64_t i = 0; i < m; ++i) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk) acc += x[i * k + kk] * row[kk];
      y[i * n + j] = acc + (bias ? bias[j] : 0.0f);
    }
  }
}

void GemvRange(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1) {
  CheckDense(w);
#ifdef QS_X86
  if (UseAvx512()) return GemvRangeAvx512(x, w, bias, y, j0, j1);
  if (UseAvx2()) {
    switch (w.dtype) {
      case DType::F32: return GemvRows<DType::F32>(x, w, bias, y, j0, j1);
      case DType::F16: return GemvRows<DType::F16>(x, w, bias, y, j0, j1);
      case DType::BF16: return GemvRows<DType::BF16>(x, w, bias, y, j0, j1);
      default: break;
    }
  }
#endif
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t j = j0; j < j1; ++j) {
    WidenScalar(w.dtype, RowPtr(w, j), w.cols, row.data());
    float acc = 0.0f;
    for (int64_t kk = 0; kk < w.cols; ++kk) acc += x[kk] * row[kk];
    y[j] = acc + (bias ? bias[j] : 0.0f);
  }
}

void MatMul(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y) {
  CheckDense(w);
  if (m <= 0 || w.rows == 0) return;
#ifdef QS_X86
  if (UseAvx512()) return MatMulAvx512(x, m, w, bias, y);
  if (UseAvx2()) {
    switch (w.dtype) {
      case DType::F32: return MatMulAvx2<DType::F32>(x, m, w, bias, y);
      case DType::F16: return MatMulAvx2<DType::F16>(x, m, w, bias, y);
      case DType::BF16: return MatMulAvx2<DType::BF16>(x, m, w, bias, y);
      default: break;
    }
  }
#endif
  // Scalar path, still threaded over output features.
  const int64_t n = w.rows, k = w.cols;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n), 16, [&](size_t b, size_t e) {
    std::vector<float> row(static_cast<size_t>(k));
    for (size_t j = b; j < e; ++j) {
      WidenScalar(w.dtype, RowPtr(w, static_cast<int64_t>(j)), k, row.data());
      for (int64_t i = 0; i < m; ++i) {
        float acc = 0.0f;
        for (int64_t kk = 0; kk < k; ++kk) acc += x[i * k + kk] * row[kk];
        y[i * n + static_cast<int64_t>(j)] = acc + (bias ? bias[j] : 0.0f);
      }
    }
  });
}

void MatMulTransposedA(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t n, int64_t k,
                       float* y, int64_t ldy) {
  if (m <= 0 || n <= 0) return;
#ifdef QS_X86
  if (UseAvx512() && m > 1) return MatMulTransposedAAvx512(a, lda, m, b, ldb, n, k, y, ldy);
#endif
  // Aᵀ and Bᵀ as row-major [m × k] and [n × k], then the ordinary product.
  std::vector<float> at(static_cast<size_t>(m * k)), bt(static_cast<size_t>(n * k)), out(static_cast<size_t>(m * n));
  for (int64_t t = 0; t < k; ++t) {
    for (int64_t i = 0; i < m; ++i) at[i * k + t] = a[t * lda + i];
    for (int64_t j = 0; j < n; ++j) bt[j * k + t] = b[t * ldb + j];
  }
  MatMul(at.data(), m, MatrixRef{DType::F32, bt.data(), n, k}, nullptr, out.data());
  for (int64_t i = 0; i < m; ++i) std::copy(out.begin() + i * n, out.begin() + (i + 1) * n, y + i * ldy);
}

}  // namespace quantstudio::kernels
