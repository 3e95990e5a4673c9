#include "runtime/linear_quant.h"

#include "formats/layouts.h"
#include "runtime/linear_awq.h"
#include "runtime/linear_bnb4.h"
#include "runtime/linear_ct.h"
#include "runtime/linear_gptq.h"
#include "runtime/linear_int8.h"

namespace quantstudio::runtime {

QuantLinear::QuantLinear(std::string format, std::unique_ptr<kernels::QuantMatrix> matrix, std::vector<float> bias)
    : format_(std::move(format)), matrix_(std::move(matrix)), bias_(std::move(bias)) {}

void QuantLinear::Forward(const float* x, int64_t m, float* y) const {
  kernels::QMatMul(*matrix_, x, m, bias_.empty() ? nullptr : bias_.data(), y);
}

void QuantLinear::ForwardRange(const float* x, int64_t j0, int64_t j1, float* y) const {
  kernels::QGemvRange(*matrix_, x, bias_.empty() ? nullptr : bias_.data(), y, j0, j1);
}

void QuantLinear::ForwardReference(const float* x, int64_t m, float* y) const {
  kernels::QMatMulReference(*matrix_, x, m, bias_.empty() ? nullptr : bias_.data(), y);
}

std::vector<float> OptionalBias(const io::ModelWeights& weights, const std::string& prefix, int64_t out) {
  const io::TensorView* b = weights.Find(prefix + ".bias");
  return b ? WidenVector(*b, out) : std::vector<float>{};
}

namespace {

using Loader = std::unique_ptr<QuantLinear> (*)(const io::ModelWeights&, const std::string&, const LinearOptions&);

// Each loader answers only for its own tensor names (one loader reads both AWQ versions).
Loader LoaderOf(formats::LayoutId id) {
  switch (id) {
    case formats::LayoutId::Gptq: return LoadGptqLinear;
    case formats::LayoutId::AwqGemm:
    case formats::LayoutId::AwqGemv: return LoadAwqLinear;
    case formats::LayoutId::CtPacked: return LoadCtPackedLinear;
    case formats::LayoutId::Bnb4: return LoadBnb4Linear;
    case formats::LayoutId::Bnb8: return LoadInt8Linear;
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<QuantLinear> LoadQuantLinear(const io::ModelWeights& weights, const std::string& prefix,
                                             const LinearOptions& options) {
  // In the table's order: GPTQ (qweight + g_idx) before AWQ (qweight alone), bnb 4-bit (quant_state) before int8 (SCB).
  Loader last = nullptr;
  for (const formats::CheckpointLayout& layout : formats::CheckpointLayouts()) {
    const Loader load = LoaderOf(layout.id);
    if (load == last) continue;
    last = load;
    if (auto layer = load(weights, prefix, options)) return layer;
  }
  return nullptr;
}

namespace {

const bool kRegistered = [] {
  RegisterLinearLoader([](const io::ModelWeights& weights, const std::string& prefix,
                          const LinearOptions& options) -> std::unique_ptr<Linear> {
    return LoadQuantLinear(weights, prefix, options);
  });
  return true;
}();

}  // namespace

}  // namespace quantstudio::runtime
