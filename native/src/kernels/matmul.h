// Y = X · Wᵀ (+ bias): the product every linear layer does. W is row-major [n, k] in its file dtype
// (fp32, fp16 or bf16, read straight from the mapping and widened to fp32 on the fly); X is fp32 [m, k].
// m == 1 (decode) runs a GEMV that reads each weight once; m > 1 (prefill) runs a blocked GEMM: each
// panel of 16 rows of W is widened and transposed once, then swept by every row of X with a 6×16
// register-blocked kernel. Panels are spread over the shared thread pool. The SIMD level (cpu.h) picks
// AVX-512 (matmul_avx512.cc), AVX2 or plain loops; each must equal MatMulReference up to float rounding.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace quantstudio::kernels {

struct MatrixRef {
  DType dtype;       // F32, F16 or BF16
  const void* data;  // row-major [rows, cols]; need not be aligned
  int64_t rows;      // n: output features
  int64_t cols;      // k: input features
};

/** y[m, n] = x[m, k] · wᵀ + bias (bias may be null). Threads from the default pool; SIMD when available. */
void MatMul(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y);

/** Decode's product for outputs [j0, j1) only: y[j] = x · w[j] + bias[j] for one row x, on the calling thread, at
 *  the best SIMD level. Each output's sum is the one MatMul computes at m == 1, whatever the range, so a caller
 *  may cut several matrices' outputs into one parallel region. */
void GemvRange(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1);

/** y[i·ldy + j] = Σ_t a[t·lda + i] · b[t·ldb + j] for i < m, j < n, t < k: AᵀB of two row-major fp32 matrices
 *  sharing their row count k (a Hessian's XᵀX) without transposing either. Threads from the default pool. At
 *  AVX-512 each sum is formed as MatMul forms it from the transposes (m > 1); other levels transpose and call MatMul.
 */
void MatMulTransposedA(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t n, int64_t k,
                       float* y, int64_t ldy);

/** The plain scalar reference: one thread, no SIMD, straight fp32 loops. */
void MatMulReference(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y);

/** Widens row `row` of w to fp32 (embedding lookups, tied heads). */
void WidenRow(const MatrixRef& w, int64_t row, float* out);

}  // namespace quantstudio::kernels
