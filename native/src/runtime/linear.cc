#include "runtime/linear.h"

#include <stdexcept>

namespace quantstudio::runtime {
namespace {

std::vector<LinearLoader>& Loaders() {
  static std::vector<LinearLoader> loaders;
  return loaders;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

DenseLinear::DenseLinear(kernels::MatrixRef weight, std::vector<float> bias)
    : weight_(weight), bias_(std::move(bias)) {}

void DenseLinear::Forward(const float* x, int64_t m, float* y) const {
  kernels::MatMul(x, m, weight_, bias_.empty() ? nullptr : bias_.data(), y);
}

void DenseLinear::ForwardRange(const float* x, int64_t j0, int64_t j1, float* y) const {
  kernels::GemvRange(x, weight_, bias_.empty() ? nullptr : bias_.data(), y, j0, j1);
}

void RegisterLinearLoader(LinearLoader loader) { Loaders().push_back(std::move(loader)); }

kernels::MatrixRef DenseMatrix(const io::TensorView& t, int64_t rows, int64_t cols) {
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
    throw std::runtime_error("tensor " + t.name + " has dtype " + DTypeName(t.dtype) +
                             "; dense weights must be F32, F16 or BF16");
  }
  if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols) {
    throw std::runtime_error("tensor " + t.name + " has shape " + ShapeText(t.shape) + ", config.json implies [" +
                             std::to_string(rows) + ", " + std::to_string(cols) + "]");
  }
  return kernels::MatrixRef{t.dtype, t.data, rows, cols};
}

std::vector<float> WidenVector(const io::TensorView& t, int64_t n) {
  if (t.shape.size() != 1 || t.shape[0] != n) {
    throw std::runtime_error("tensor " + t.name + " has shape " + ShapeText(t.shape) + ", config.json implies [" +
                             std::to_string(n) + "]");
  }
  std::vector<float> out(static_cast<size_t>(n));
  kernels::WidenRow(kernels::MatrixRef{t.dtype, t.data, 1, n}, 0, out.data());
  return out;
}

std::unique_ptr<Linear> LoadLinear(const io::ModelWeights& weights, const std::string& prefix, int64_t in, int64_t out,
                                   const LinearOptions& options) {
  for (const auto& loader : Loaders()) {
    if (auto layer = loader(weights, prefix, options)) {
      if (layer->inFeatures() != in || layer->outFeatures() != out) {
        throw std::runtime_error("layer " + prefix + " is [" + std::to_string(layer->outFeatures()) + ", " +
                                 std::to_string(layer->inFeatures()) + "], config.json implies [" +
                                 std::to_string(out) + ", " + std::to_string(in) + "]");
      }
      return layer;
    }
  }
  const io::TensorView* weight = weights.Find(prefix + ".weight");
  if (!weight) {
    if (weights.Find(prefix + ".qweight")) {
      throw std::runtime_error("layer " + prefix + " is quantized (" + prefix +
                               ".qweight) in a format this runtime cannot run yet");
    }
    weights.Get(prefix + ".weight");  // throws the reader's "missing tensor" error, naming the folder
  }
  std::vector<float> bias;
  if (const io::TensorView* b = weights.Find(prefix + ".bias")) bias = WidenVector(*b, out);
  return std::make_unique<DenseLinear>(DenseMatrix(*weight, out, in), std::move(bias));
}

}  // namespace quantstudio::runtime
