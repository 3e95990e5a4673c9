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

/** GPTAQ's cross moment D = 2/N · Σ (x_fp − x)ᵀ x over N tokens: x the inputs a linear sees in the model being
 *  quantized, x_fp the inputs the same tokens give it in the full-precision model (GPTQModel 7.7 gptaq.py dXXT).
 *  D[i][j] pairs input i's drift with input j; not symmetric. Averaged like H, so the two share one scale. */
class CrossMomentAccumulator {
 public:
  explicit CrossMomentAccumulator(int64_t cols);

  /** Adds `tokens` matching rows of fp-model inputs and quantized-model inputs [tokens × cols]. */
  void AddBatch(const float* fpInputs, const float* inputs, int64_t tokens);

  int64_t samples() const { return samples_; }
  /** D [cols × cols], row-major. */
  const std::vector<double>& matrix() const { return d_; }

 private:
  int64_t cols_;
  int64_t samples_ = 0;
  std::vector<double> d_;
};

}  // namespace quantstudio::quant
