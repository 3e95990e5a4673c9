#include "runtime/lora.h"

#include <stdexcept>

#include "core/thread_pool.h"
#include "formats/tensor_set.h"
#include "kernels/matmul.h"

namespace quantstudio::runtime {
namespace {

std::string Shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<float> Factor(const io::SafetensorsFile& file, const std::string& name, int64_t rows, int64_t cols) {
  const io::TensorView* t = file.Find(name);
  if (!t) throw std::runtime_error(file.path() + ": " + name + " is missing");
  const std::vector<int64_t> want{rows, cols};
  if (t->shape != want) {
    throw std::runtime_error(file.path() + ": " + name + " has shape " + Shape(t->shape) + ", the model needs " +
                             Shape(want));
  }
  if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16) {
    throw std::runtime_error(file.path() + ": " + name + " is not a float tensor (F32, F16 or BF16)");
  }
  return formats::ReadFloats(*t);
}

}  // namespace

std::string LoraTensorName(const std::string& module, char factor) {
  return "base_model.model." + module + ".lora_" + std::string(1, factor) + ".weight";
}

LoraWeights ReadLoraWeights(const io::SafetensorsFile& file, const LoraModule& module, int64_t in, int64_t out) {
  LoraWeights w;
  w.rank = module.rank, w.in = in, w.out = out;
  w.scale = static_cast<float>(module.scale);
  w.a = Factor(file, LoraTensorName(module.name, 'A'), module.rank, in);
  w.b = Factor(file, LoraTensorName(module.name, 'B'), out, module.rank);
  return w;
}

void MergeLora(const LoraWeights& lora, float* weight) {
  // out × in × rank multiply-adds per module (billions at 7B shapes): rows in parallel, each one's sums unchanged
  DefaultThreadPool().ParallelFor(static_cast<size_t>(lora.out), 16, [&](size_t begin, size_t end) {
    for (auto o = static_cast<int64_t>(begin); o < static_cast<int64_t>(end); ++o) {
      const float* b = lora.b.data() + o * lora.rank;
      for (int64_t i = 0; i < lora.in; ++i) {
        double sum = 0.0;
        for (int64_t k = 0; k < lora.rank; ++k) sum += static_cast<double>(b[k]) * lora.a[k * lora.in + i];
        weight[o * lora.in + i] += static_cast<float>(lora.scale * sum);
      }
    }
  });
}

LoraLinear::LoraLinear(std::unique_ptr<Linear> base, LoraWeights lora)
    : base_(std::move(base)), lora_(std::move(lora)) {
  if (lora_.in != base_->inFeatures() || lora_.out != base_->outFeatures()) {
    throw std::invalid_argument("LoraLinear: the factors' shape differs from the base linear's");
  }
}

void LoraLinear::Forward(const float* x, int64_t m, float* y) const {
  base_->Forward(x, m, y);
  const kernels::MatrixRef a{DType::F32, lora_.a.data(), lora_.rank, lora_.in};
  const kernels::MatrixRef b{DType::F32, lora_.b.data(), lora_.out, lora_.rank};
  std::vector<float> down(static_cast<size_t>(m * lora_.rank)), up(static_cast<size_t>(m * lora_.out));
  kernels::MatMul(x, m, a, nullptr, down.data());
  kernels::MatMul(down.data(), m, b, nullptr, up.data());
  for (size_t i = 0; i < up.size(); ++i) y[i] += lora_.scale * up[i];
}

}  // namespace quantstudio::runtime
