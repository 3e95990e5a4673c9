// A linear layer y = x·Wᵀ + b, whatever the weights' storage. Dense (fp32/fp16/bf16) is built in; each
// quantized format registers a loader that recognises its tensors (e.g. `<prefix>.qweight`) and returns a
// layer with a fused dequantize-multiply kernel, so the model code never sees the storage.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/matmul.h"

namespace quantstudio::runtime {

class Linear {
 public:
  virtual ~Linear() = default;
  virtual int64_t inFeatures() const = 0;
  virtual int64_t outFeatures() const = 0;
  /** y[m, out] = x[m, in] · Wᵀ + b. */
  virtual void Forward(const float* x, int64_t m, float* y) const = 0;
  /** Whether ForwardRange is available (the runtime's dense and quantized layers; not every Linear elsewhere). */
  virtual bool HasForwardRange() const { return false; }
  /** Outputs [j0, j1) of Forward at m == 1, on the calling thread (j0 a multiple of 16): decode cuts the linears
   *  that share an input (q/k/v, gate/up) into one parallel region with it. Only called when HasForwardRange(). */
  virtual void ForwardRange(const float* /*x*/, int64_t /*j0*/, int64_t /*j1*/, float* /*y*/) const {}
};

/** Weights read from the mapping in their file dtype; the bias, when present, widened to fp32 once. */
class DenseLinear final : public Linear {
 public:
  DenseLinear(kernels::MatrixRef weight, std::vector<float> bias);
  int64_t inFeatures() const override { return weight_.cols; }
  int64_t outFeatures() const override { return weight_.rows; }
  void Forward(const float* x, int64_t m, float* y) const override;
  bool HasForwardRange() const override { return true; }
  void ForwardRange(const float* x, int64_t j0, int64_t j1, float* y) const override;
  const kernels::MatrixRef& weight() const { return weight_; }
  const std::vector<float>& bias() const { return bias_; }

 private:
  kernels::MatrixRef weight_;
  std::vector<float> bias_;
};

/** What config.json says about the stored tensors that their names and shapes do not. */
struct LinearOptions {
  // GPTQModel's checkpoint_format "gptq_v2": qzeros hold the zero points themselves (v1 stores zero − 1).
  bool gptqV2Zeros = false;
};

/** Returns a layer when the tensors under `prefix` are in its format, nullptr when they are not. */
using LinearLoader =
    std::function<std::unique_ptr<Linear>(const io::ModelWeights&, const std::string& prefix, const LinearOptions&)>;

/** Adds a loader tried before the dense one (call from a format's static registration). */
void RegisterLinearLoader(LinearLoader loader);

/** Loads `<prefix>` as a [out, in] layer; throws std::runtime_error naming the tensor on a missing tensor,
 *  a shape mismatch or an unsupported storage. */
std::unique_ptr<Linear> LoadLinear(const io::ModelWeights& weights, const std::string& prefix, int64_t in, int64_t out,
                                   const LinearOptions& options = {});

/** A matrix view of a dense 2-D tensor, checked against the expected shape. */
kernels::MatrixRef DenseMatrix(const io::TensorView& t, int64_t rows, int64_t cols);

/** A 1-D tensor of length n widened to fp32 (norm weights, biases). */
std::vector<float> WidenVector(const io::TensorView& t, int64_t n);

}  // namespace quantstudio::runtime
