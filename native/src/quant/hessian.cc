#include "quant/hessian.h"

#include <algorithm>

#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/matmul.h"

namespace quantstudio::quant {

HessianAccumulator::HessianAccumulator(int64_t cols) : cols_(cols), h_(static_cast<size_t>(cols * cols), 0.0) {}

namespace {

// Tokens per fp32 product: each H entry is an fp32 sum over at most this many tokens (the GEMM's k), and the
// running total stays double. 512 keeps a chunk's slice of x (512 rows) in L2 while the double fold costs under 1 %
// of the product's flops.
constexpr int64_t kChunk = 512;
// Rows of H per product: block i computes H[i0:i1, 0:i1] only (the lower triangle as whole blocks, a
// blocked syrk on the engine's GEMM), so about half of the square's flops.
constexpr int64_t kRowBlock = 256;

// xt [cols × tokens] = xᵀ for one chunk of tokens, for the levels without MatMulTransposedA's in-place kernel (which
// would transpose per row block): the GEMM reads its k (here: tokens) contiguously.
void TransposeChunk(const float* x, int64_t tokens, int64_t cols, float* xt) {
  DefaultThreadPool().ParallelFor(static_cast<size_t>((cols + 63) / 64), 1, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      const int64_t c0 = static_cast<int64_t>(b) * 64, c1 = std::min(c0 + 64, cols);
      for (int64_t t = 0; t < tokens; ++t)
        for (int64_t c = c0; c < c1; ++c) xt[c * tokens + t] = x[t * cols + c];
    }
  });
}

}  // namespace

void HessianAccumulator::AddBatch(const float* x, int64_t tokens) {
  if (tokens <= 0) return;
  // Rescale the old average and add the new batch (upstream's beta/alpha update), so H stays
  // 2/N·XᵀX after every batch.
  const double beta = static_cast<double>(samples_) / static_cast<double>(samples_ + tokens);
  const double alpha = 2.0 / static_cast<double>(samples_ + tokens);
  const int64_t n = cols_;
  // AVX-512 reads the chunk in place; the other levels transpose it once per chunk for MatMul.
  const bool inPlace = kernels::UseAvx512();
  std::vector<float> xt(inPlace ? 0 : static_cast<size_t>(n * std::min(kChunk, tokens)));
  std::vector<float> block(static_cast<size_t>(std::min(kRowBlock, n) * n));
  // The lower triangle becomes β·H + α·Σ chunks (folded chunk by chunk, so no second n² buffer).
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n), 16, [&](size_t begin, size_t end) {
    for (int64_t i = static_cast<int64_t>(begin); i < static_cast<int64_t>(end); ++i)
      for (int64_t j = 0; j <= i; ++j) h_[i * n + j] *= beta;
  });
  for (int64_t t0 = 0; t0 < tokens; t0 += kChunk) {
    const int64_t count = std::min(kChunk, tokens - t0);
    const float* chunk = x + t0 * n;
    if (!inPlace) TransposeChunk(chunk, count, n, xt.data());
    for (int64_t i0 = 0; i0 < n; i0 += kRowBlock) {
      const int64_t i1 = std::min(i0 + kRowBlock, n);
      // block [i1−i0 × i1] = chunk[:, i0:i1]ᵀ · chunk[:, 0:i1]
      if (inPlace) {
        kernels::MatMulTransposedA(chunk + i0, n, i1 - i0, chunk, n, i1, count, block.data(), i1);
      } else {
        const kernels::MatrixRef left{DType::F32, xt.data(), i1, count};
        kernels::MatMul(xt.data() + i0 * count, i1 - i0, left, nullptr, block.data());
      }
      DefaultThreadPool().ParallelFor(static_cast<size_t>(i1 - i0), 16, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          const int64_t i = i0 + static_cast<int64_t>(r);
          const float* src = &block[static_cast<int64_t>(r) * i1];
          double* dst = &h_[i * n];
          for (int64_t j = 0; j <= i; ++j) dst[j] += alpha * src[j];
        }
      });
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) h_[i * n + j] = h_[j * n + i];
  samples_ += tokens;
}

CrossMomentAccumulator::CrossMomentAccumulator(int64_t cols) : cols_(cols), d_(static_cast<size_t>(cols * cols), 0.0) {}

void CrossMomentAccumulator::AddBatch(const float* fpInputs, const float* inputs, int64_t tokens) {
  if (tokens <= 0) return;
  const double beta = static_cast<double>(samples_) / static_cast<double>(samples_ + tokens);
  const double alpha = 2.0 / static_cast<double>(samples_ + tokens);
  const int64_t n = cols_;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n * n), 4096, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) d_[i] *= beta;
  });
  const int64_t chunk = std::min(kChunk, tokens);
  std::vector<float> drift(static_cast<size_t>(chunk * n)), driftT(drift.size()), xT(drift.size());
  std::vector<float> block(static_cast<size_t>(std::min(kRowBlock, n) * n));
  for (int64_t t0 = 0; t0 < tokens; t0 += kChunk) {
    const int64_t count = std::min(kChunk, tokens - t0);
    const float* fp = fpInputs + t0 * n;
    const float* x = inputs + t0 * n;
    for (int64_t i = 0; i < count * n; ++i) drift[static_cast<size_t>(i)] = fp[i] - x[i];
    TransposeChunk(drift.data(), count, n, driftT.data());
    TransposeChunk(x, count, n, xT.data());
    const kernels::MatrixRef right{DType::F32, xT.data(), n, count};
    for (int64_t i0 = 0; i0 < n; i0 += kRowBlock) {
      const int64_t i1 = std::min(i0 + kRowBlock, n);
      // block [i1−i0 × n] = drift[:, i0:i1]ᵀ · x
      kernels::MatMul(driftT.data() + i0 * count, i1 - i0, right, nullptr, block.data());
      DefaultThreadPool().ParallelFor(static_cast<size_t>(i1 - i0), 16, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          const float* src = &block[r * static_cast<size_t>(n)];
          double* dst = &d_[(i0 + static_cast<int64_t>(r)) * n];
          for (int64_t j = 0; j < n; ++j) dst[j] += alpha * src[j];
        }
      });
    }
  }
  samples_ += tokens;
}

}  // namespace quantstudio::quant
