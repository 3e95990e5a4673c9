#include "quant/linalg.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"

namespace quantstudio::quant::linalg {

namespace {

// Columns of U = Ũ⁻¹ per strip: a column of U depends only on the same column of the rows below it.
constexpr int64_t kStrip = 16;

// Columns [c0, c1) of U from the bottom row up: U[i][c] = −(Σ_{k=i+1..c} Ũ[i][k]·U[k][c]) / Ũ[i][i] for c > i,
// U[i][i] = 1 / Ũ[i][i], summed in increasing k (the order of the whole-row recurrence it replaced).
QUANTSTUDIO_AVX2_CLONES
void InvertUpperStrip(const double* ut, double* u, int64_t n, int64_t c0, int64_t c1) {
  double acc[kStrip];
  for (int64_t i = c1 - 1; i >= 0; --i) {
    std::fill(acc, acc + kStrip, 0.0);
    const double* utRow = ut + i * n;
    for (int64_t k = i + 1; k < c1; ++k) {
      const double a = utRow[k];
      if (a == 0.0) continue;
      const double* uRow = u + k * n;
      for (int64_t c = std::max(k, c0); c < c1; ++c) acc[c - c0] += a * uRow[c];
    }
    const double inv = 1.0 / utRow[i];
    double* uRow = u + i * n;
    if (i >= c0) uRow[i] = inv;
    for (int64_t c = std::max(i + 1, c0); c < c1; ++c) uRow[c] = -acc[c - c0] * inv;
  }
}

// Σ a[k]·b[k] with four independent chains, so the adds overlap instead of waiting on each other.
double Dot(const double* a, const double* b, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

// cRow[0..n) −= Σ_p aRow[p]·b[p][0..n): one row of C −= A·B, in axpy form.
QUANTSTUDIO_AVX2_CLONES
void SubtractRowProduct(const float* aRow, const float* b, int64_t ldb, float* cRow, int64_t k, int64_t n) {
  for (int64_t p = 0; p < k; ++p) {
    const float av = aRow[p];
    if (av == 0.0f) continue;
    const float* bRow = b + p * ldb;
    for (int64_t j = 0; j < n; ++j) cRow[j] -= av * bRow[j];
  }
}

}  // namespace

bool CholeskyLower(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double* rowJ = &a[j * n];
    const double diag = rowJ[j] - Dot(rowJ, rowJ, j);
    if (!(diag > 0.0) || !std::isfinite(diag)) return false;
    const double ljj = std::sqrt(diag);
    rowJ[j] = ljj;
    // Rows below j are independent of each other: thread them for large n.
    DefaultThreadPool().ParallelFor(static_cast<size_t>(n - j - 1), 64, [&](size_t begin, size_t end) {
      for (size_t t = begin; t < end; ++t) {
        double* rowI = &a[(j + 1 + static_cast<int64_t>(t)) * n];
        rowI[j] = (rowI[j] - Dot(rowI, rowJ, j)) / ljj;
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
  DefaultThreadPool().ParallelFor(static_cast<size_t>(m), 8, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r)
      SubtractRowProduct(a + static_cast<int64_t>(r) * lda, b, ldb, c + static_cast<int64_t>(r) * ldc, k, n);
  });
}

void MultiplyTransposed(const float* x, int64_t m, const float* w, int64_t n, int64_t k, float* y) {
  if (m <= 0 || n <= 0) return;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(m), 4, [&](size_t begin, size_t end) {
    constexpr int64_t kTile = 64;  // keeps a tile of w rows hot in cache across the x rows of this chunk
    for (int64_t j0 = 0; j0 < n; j0 += kTile) {
      const int64_t j1 = j0 + kTile < n ? j0 + kTile : n;
      for (size_t r = begin; r < end; ++r) {
        const float* xRow = x + static_cast<int64_t>(r) * k;
        float* yRow = y + static_cast<int64_t>(r) * n;
        for (int64_t j = j0; j < j1; ++j) {
          const float* wRow = w + j * k;
          float sum = 0.0f;
          for (int64_t p = 0; p < k; ++p) sum += xRow[p] * wRow[p];
          yRow[j] = sum;
        }
      }
    }
  });
}

}  // namespace quantstudio::quant::linalg
