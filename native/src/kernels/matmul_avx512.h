// The AVX-512 level of MatMul (matmul.h): decode GEMV with 16 lanes, prefill panels swept by 14 rows of x.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace quantstudio::kernels {

/** y[m, n] = x[m, k] · wᵀ + bias for F32, F16 or BF16 w. Call only when UseAvx512(). */
void MatMulAvx512(const float* x, int64_t m, const MatrixRef& w, const float* bias, float* y);

/** GemvRange (matmul.h) with 16 lanes. Call only when UseAvx512(). */
void GemvRangeAvx512(const float* x, const MatrixRef& w, const float* bias, float* y, int64_t j0, int64_t j1);

}  // namespace quantstudio::kernels
