#include "quant/linalg.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#include "kernels/matmul.h"

namespace quantstudio::quant::linalg {

namespace {

// Four doubles as one value (GCC/Clang vector extension: a ymm register in the AVX2 clones, two xmm otherwise),
// so the accumulators of the factorisation loops stay in registers across their k loops.
typedef double Double4 __attribute__((vector_size(32)));

inline Double4 Load4(const double* p) {
  Double4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Columns of U = Ũ⁻¹ per strip: a column of U depends only on the same column of the rows below it.
constexpr int64_t kStrip = 16;

// Columns [c0, c1) of U from the bottom row up: U[i][c] = −(Σ_{k=i+1..c} Ũ[i][k]·U[k][c]) / Ũ[i][i] for c > i,
// U[i][i] = 1 / Ũ[i][i], summed in increasing k (the order of the whole-row recurrence it replaced). The strip is
// built in a packed [c1 × 16] buffer (contiguous, so its rows do not each sit on their own page) and copied out.
QUANTSTUDIO_AVX2_CLONES
void InvertUpperStrip(const double* ut, double* u, int64_t n, int64_t c0, int64_t c1) {
  std::vector<double> strip(static_cast<size_t>(c1 * kStrip), 0.0);  // strip[k][c − c0] = U[k][c]
  for (int64_t i = c1 - 1; i >= 0; --i) {
    const double* utRow = ut + i * n;
    // All 16 columns for every k: U is zero left of its diagonal (and past c1 − c0), so the extra terms add 0.
    Double4 v[4] = {};
    for (int64_t k = i + 1; k < c1; ++k) {
      const double a = utRow[k];
      if (a == 0.0) continue;
      const double* sRow = &strip[k * kStrip];
      for (int q = 0; q < 4; ++q) v[q] += a * Load4(sRow + 4 * q);
    }
    double acc[kStrip];
    std::memcpy(acc, v, sizeof v);
    const double inv = 1.0 / utRow[i];
    double* sRow = &strip[i * kStrip];
    if (i >= c0) sRow[i - c0] = inv;
    for (int64_t c = std::max(i + 1, c0); c < c1; ++c) sRow[c - c0] = -acc[c - c0] * inv;
  }
  for (int64_t k = 0; k < c1; ++k) std::copy(&strip[k * kStrip], &strip[k * kStrip] + (c1 - c0), u + k * n + c0);
}

// Columns of c per product in SubtractProduct.
constexpr int64_t kProductColumns = 512;

// Columns per Cholesky panel; a row pair's panel entries (2 × 16 doubles) stay in registers over the k loop.
constexpr int64_t kPanel = 16;

// rows [i, i + count) (count 1 or 2), columns [j0, j1): a[i][j] −= Σ_{k<j0} L[i][k]·L[j][k], summed in increasing k,
// with lt[k][j − j0] = L[j][k].
QUANTSTUDIO_AVX2_CLONES
void UpdatePanelRows(double* a, int64_t n, int64_t i, int64_t count, const double* lt, int64_t j0, int64_t j1) {
  Double4 acc0[4] = {}, acc1[4] = {};
  const double* row0 = a + i * n;
  const double* row1 = count > 1 ? row0 + n : row0;
  for (int64_t k = 0; k < j0; ++k) {
    const double x0 = row0[k], x1 = row1[k];
    const double* l = lt + k * kPanel;
    for (int q = 0; q < 4; ++q) {
      const Double4 lq = Load4(l + 4 * q);
      acc0[q] += x0 * lq;
      acc1[q] += x1 * lq;
    }
  }
  double sum0[kPanel], sum1[kPanel];
  std::memcpy(sum0, acc0, sizeof sum0);
  std::memcpy(sum1, acc1, sizeof sum1);
  for (int64_t j = j0; j < j1; ++j) a[i * n + j] -= sum0[j - j0];
  if (count > 1)
    for (int64_t j = j0; j < j1; ++j) a[(i + 1) * n + j] -= sum1[j - j0];
}

// L[i][j] = (a[i][j] − Σ_{j0≤k<j} L[i][k]·L[j][k]) / L[j][j]: the panel's own columns left of j.
inline void SolveEntry(double* rowI, const double* rowJ, int64_t j0, int64_t j) {
  double v = rowI[j];
  for (int64_t k = j0; k < j; ++k) v -= rowI[k] * rowJ[k];
  rowI[j] = v / rowJ[j];
}

}  // namespace

bool CholeskyLower(std::vector<double>& a, int64_t n) {
  // Left-looking in panels of kPanel columns: each panel first takes the products of everything left of it (the
  // bulk of the work, rows threaded and register-blocked), then its diagonal block is factored and the rows below
  // it are solved against that block.
  double* m = a.data();
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    const int64_t j1 = std::min(j0 + kPanel, n), width = j1 - j0;
    std::vector<double> lt(static_cast<size_t>(j0 * kPanel));  // lt[k][jj] = L[j0 + jj][k]
    for (int64_t jj = 0; jj < width; ++jj)
      for (int64_t k = 0; k < j0; ++k) lt[k * kPanel + jj] = m[(j0 + jj) * n + k];
    const int64_t pairs = (n - j0 + 1) / 2;
    DefaultThreadPool().ParallelFor(static_cast<size_t>(pairs), 16, [&](size_t begin, size_t end) {
      for (size_t p = begin; p < end; ++p) {
        const int64_t i = j0 + 2 * static_cast<int64_t>(p);
        UpdatePanelRows(m, n, i, std::min<int64_t>(2, n - i), lt.data(), j0, j1);
      }
    });
    for (int64_t j = j0; j < j1; ++j) {
      double* rowJ = m + j * n;
      double diag = rowJ[j];
      for (int64_t k = j0; k < j; ++k) diag -= rowJ[k] * rowJ[k];
      if (!(diag > 0.0) || !std::isfinite(diag)) return false;
      rowJ[j] = std::sqrt(diag);
      for (int64_t i = j + 1; i < j1; ++i) SolveEntry(m + i * n, rowJ, j0, j);
    }
    DefaultThreadPool().ParallelFor(static_cast<size_t>(n - j1), 16, [&](size_t begin, size_t end) {
      for (size_t t = begin; t < end; ++t) {
        double* rowI = m + (j1 + static_cast<int64_t>(t)) * n;
        for (int64_t j = j0; j < j1; ++j) SolveEntry(rowI, m + j * n, j0, j);
      }
    });
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = 0.0;
  return true;
}

std::vector<double> UpperCholeskyOfInverse(const std::vector<double>& h, int64_t n) {
  // With J the index reversal, chol(J·H·J) = L gives H = Ũ·Ũᵀ where Ũ = J·L·J is upper triangular, so
  // H⁻¹ = Ũ⁻ᵀ·Ũ⁻¹ = Uᵀ·U with U = Ũ⁻¹ (upper, positive diagonal: the unique Cholesky factor). One
  // factorisation and one triangular inverse instead of upstream's factor → inverse → factor again.
  std::vector<double> reversed(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) reversed[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
  if (!CholeskyLower(reversed, n)) return {};
  std::vector<double> ut(static_cast<size_t>(n * n));  // Ũ
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) ut[i * n + j] = reversed[(n - 1 - i) * n + (n - 1 - j)];
  // Invert the upper-triangular Ũ in column strips, spread over the pool (the strips right of the diagonal
  // carry more rows: the heaviest go first, so the light ones fill in at the end).
  std::vector<double> u(static_cast<size_t>(n * n), 0.0);
  const int64_t strips = (n + kStrip - 1) / kStrip;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(strips), 1, [&](size_t begin, size_t end) {
    for (size_t s = begin; s < end; ++s) {
      const int64_t c0 = (strips - 1 - static_cast<int64_t>(s)) * kStrip;
      InvertUpperStrip(ut.data(), u.data(), n, c0, std::min(c0 + kStrip, n));
    }
  });
  return u;
}

void SubtractProduct(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                     int64_t k, int64_t n) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  // On the engine's GEMM (y = x·wᵀ): x = a made contiguous, w = bᵀ, in blocks of kProductColumns columns of c so
  // the product's scratch stays [m × kProductColumns].
  std::vector<float> x;
  if (lda != k) {
    x.resize(static_cast<size_t>(m * k));
    for (int64_t r = 0; r < m; ++r) std::copy(a + r * lda, a + r * lda + k, &x[r * k]);
    a = x.data();
  }
  std::vector<float> bt(static_cast<size_t>(n * k));  // bt[j][p] = b[p][j]
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n), 64, [&](size_t begin, size_t end) {
    for (size_t j = begin; j < end; ++j)
      for (int64_t p = 0; p < k; ++p) bt[j * k + p] = b[p * ldb + static_cast<int64_t>(j)];
  });
  std::vector<float> y(static_cast<size_t>(m * std::min(n, kProductColumns)));
  for (int64_t j0 = 0; j0 < n; j0 += kProductColumns) {
    const int64_t width = std::min(kProductColumns, n - j0);
    kernels::MatMul(a, m, kernels::MatrixRef{DType::F32, &bt[j0 * k], width, k}, nullptr, y.data());
    DefaultThreadPool().ParallelFor(static_cast<size_t>(m), 16, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        float* cRow = c + static_cast<int64_t>(r) * ldc + j0;
        const float* yRow = &y[r * width];
        for (int64_t j = 0; j < width; ++j) cRow[j] -= yRow[j];
      }
    });
  }
}

}  // namespace quantstudio::quant::linalg
