// The AVX-512 level of MatMul (matmul.h): decode GEMV with 16 lanes, prefill panels swept by 14 rows of x.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace quantstudio::kernels {

/** y[m, n] = x[m, k] · wᵀ + bias for F32, F16 or BF16 w. Call only when UseAvx512(). */
void MatMulAvx512(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y);

/** MatMulTransposedA (matmul.h) for m > 1: column groups of 64 on the pool, as MatMulAvx512 cuts its panels. Call
 *  only when UseAvx512(). */
void MatMulTransposedAAvx512(const float* a, int64_t lda, int64_t m, const float* b, int64_t ldb, int64_t n, int64_t k,
                             float* y, int64_t ldy);

/** GemvRange (matmul.h) with 16 lanes. Call only when UseAvx512(). */
void GemvRangeAvx512(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1);

}  // namespace quantstudio::kernels
