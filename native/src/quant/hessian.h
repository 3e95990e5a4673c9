// GPTQ's layer Hessian H = 2/N · Σ xxᵀ over the N calibration tokens a linear layer saw, kept as a
// running average so batches can arrive one at a time (as the runtime captures them layer by layer).
#pragma once

#include <cstdint>
#include <vector>

namespace quantstudio::quant {

class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t cols);

  /** Adds `tokens` rows of activations x [tokens × cols] (row-major fp32). */
  void AddBatch(const float* x, int64_t tokens);

  int64_t cols() const { return cols_; }
  int64_t samples() const { return samples_; }
  /** H [cols × cols], row-major, symmetric. */
  const std::vector<double>& matrix() const { return h_; }

 private:
  int64_t cols_;
  int64_t samples_ = 0;
  std::vector<double> h_;
};

}  // namespace quantstudio::quant
