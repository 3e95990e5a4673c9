#include "quant/hessian.h"

#include <algorithm>

#include "core/thread_pool.h"
#include "quant/linalg.h"

namespace quantstudio::quant {

HessianAccumulator::HessianAccumulator(int64_t cols) : cols_(cols), h_(static_cast<size_t>(cols * cols), 0.0) {}

namespace {

// acc[k][j] += Σ_t x[t][i0+k]·x[t][j] for j ≥ i0, over one chunk of tokens, in fp32 (short sums; the
// running total stays double). Cloned for AVX2 so the inner loop runs 8 lanes wide where available.
QUANTSTUDIO_AVX2_CLONES
void AccumulateTile(const float* x, int64_t tokens, int64_t n, int64_t i0, int64_t i1, float* acc) {
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = x + t * n;
    for (int64_t i = i0; i < i1; ++i) {
      const float xi = row[i];
      if (xi == 0.0f) continue;
      float* a = acc + (i - i0) * n;
      for (int64_t j = i0; j < n; ++j) a[j] += xi * row[j];
    }
  }
}

}  // namespace

void HessianAccumulator::AddBatch(const float* x, int64_t tokens) {
  if (tokens <= 0) return;
  // Rescale the old average and add the new batch (upstream's beta/alpha update), so H stays
  // 2/N·XᵀX after every batch.
  const double beta = static_cast<double>(samples_) / static_cast<double>(samples_ + tokens);
  const double alpha = 2.0 / static_cast<double>(samples_ + tokens);
  const int64_t n = cols_;
  // Tiles of kTile rows of H share each streamed activation row; fp32 partial sums over chunks of
  // kChunk tokens are folded into a double total.
  constexpr int64_t kTile = 8;
  constexpr int64_t kChunk = 256;
  const int64_t tiles = (n + kTile - 1) / kTile;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(tiles), 1, [&](size_t begin, size_t end) {
    std::vector<float> partial(static_cast<size_t>(kTile * n));
    std::vector<double> total(static_cast<size_t>(kTile * n));
    for (size_t tile = begin; tile < end; ++tile) {
      const int64_t i0 = static_cast<int64_t>(tile) * kTile;
      const int64_t i1 = std::min(i0 + kTile, n);
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t t0 = 0; t0 < tokens; t0 += kChunk) {
        std::fill(partial.begin(), partial.end(), 0.0f);
        AccumulateTile(x + t0 * n, std::min(kChunk, tokens - t0), n, i0, i1, partial.data());
        for (size_t k = 0; k < total.size(); ++k) total[k] += partial[k];
      }
      for (int64_t i = i0; i < i1; ++i) {
        double* hRow = &h_[i * n];
        const double* a = &total[(i - i0) * n];
        for (int64_t j = i; j < n; ++j) hRow[j] = hRow[j] * beta + alpha * a[j];
      }
    }
  });
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) h_[i * n + j] = h_[j * n + i];
  samples_ += tokens;
}

}  // namespace quantstudio::quant
