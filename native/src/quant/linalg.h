// Dense linear algebra the calibration-based quantizers need on square Hessians and row-major weight
// blocks. Sizes are in_features (hundreds to a few thousand): the double factorisations are blocked loops
// threaded over rows or column strips, the fp32 products run on the engine's GEMM; no BLAS dependency.
#pragma once

#include <cstdint>
#include <vector>

// Marks a hot loop for an AVX2 clone chosen at load time (GCC/Clang ifunc on x86-64 Linux); the
// portable build keeps one generic version elsewhere.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define QUANTSTUDIO_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QUANTSTUDIO_AVX2_CLONES
#endif

namespace quantstudio::quant::linalg {

/** In-place lower Cholesky factor of the symmetric positive definite n×n row-major matrix a (upper
 *  triangle zeroed). Returns false when a is not positive definite (a is then left partly factored). */
bool CholeskyLower(std::vector<double>& a, int64_t n);

/** The upper-triangular U with H⁻¹ = Uᵀ·U (what GPTQ's error feedback walks row by row), from the SPD
 *  matrix h. Returns an empty vector when h is not positive definite. */
std::vector<double> UpperCholeskyOfInverse(const std::vector<double>& h, int64_t n);

/** c[m×n] −= a[m×k] · b[k×n] (all row-major; lda/ldb/ldc are row strides), on the engine's GEMM (fp32). */
void SubtractProduct(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                     int64_t k, int64_t n);

}  // namespace quantstudio::quant::linalg
