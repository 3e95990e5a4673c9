// The Linear every quantized checkpoint format turns into: a QuantMatrix over the packed tensors (read in
// place from the mapping) run by the fused dequantize-multiply kernels, plus an optional fp32 bias.
// The format loaders (linear_gptq, linear_awq, linear_ct, linear_bnb4, linear_int8) recognise their tensors and are
// registered with LoadLinear at static initialisation, so opening a quantized folder needs no switch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/qmatmul.h"
#include "runtime/linear.h"

namespace quantstudio::runtime {

class QuantLinear final : public Linear {
 public:
  QuantLinear(std::string format, std::unique_ptr<kernels::QuantMatrix> matrix, std::vector<float> bias);
  int64_t inFeatures() const override { return matrix_->cols(); }
  int64_t outFeatures() const override { return matrix_->rows(); }
  void Forward(const float* x, int64_t m, float* y) const override;
  bool HasForwardRange() const override { return true; }
  void ForwardRange(const float* x, int64_t j0, int64_t j1, float* y) const override;
  /** The scalar reference product (tests compare the fast kernels with it). */
  void ForwardReference(const float* x, int64_t m, float* y) const;
  /** The layout's name in formats/layouts.h ("gptq", "awq-gemm", ...). */
  const std::string& format() const { return format_; }

 private:
  std::string format_;
  std::unique_ptr<kernels::QuantMatrix> matrix_;
  std::vector<float> bias_;
};

/** The layer under `prefix` when its tensors are in a quantized format, nullptr when they are dense.
 *  Throws std::runtime_error naming the tensor when a quantized layer's tensors disagree. */
std::unique_ptr<QuantLinear> LoadQuantLinear(const io::ModelWeights& weights, const std::string& prefix,
                                             const LinearOptions& options = {});

/** `<prefix>.bias` widened to fp32, or empty when the layer has none. */
std::vector<float> OptionalBias(const io::ModelWeights& weights, const std::string& prefix, int64_t out);

}  // namespace quantstudio::runtime
