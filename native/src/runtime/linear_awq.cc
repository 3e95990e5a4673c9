#include "runtime/linear_awq.h"

#include <cstring>

#include "formats/awq.h"
#include "formats/layouts.h"
#include "formats/tensor_set.h"
#include "kernels/qmatmul_awq.h"

namespace quantstudio::runtime {
namespace {

// The loader sees tensors, not the config, and GEMV pads scales to whole words with zeros: the group
// count is one past the last column with a non-zero scale in any row (a real group never has every
// row's scale at zero), checked against the qzeros width AutoAWQ derives from it.
int64_t GemvGroupSize(const io::TensorView& scales, int64_t in, int64_t width, const std::string& prefix) {
  const int64_t out = scales.shape[0], cols = scales.shape[1];
  int64_t groups = 0;
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t g = cols - 1; g >= groups; --g) {
      uint16_t h;
      std::memcpy(&h, scales.data + 2 * (r * cols + g), 2);
      if ((h & 0x7fff) != 0) {
        groups = g + 1;
        break;
      }
    }
  }
  if (groups == 0 || in % groups != 0 || formats::AwqGemvZerosWidth(in, in / groups) != width) {
    throw formats::FormatError(prefix + ".scales: cannot tell the group size of this AWQ GEMV layer (" +
                               std::to_string(groups) + " non-zero scale columns for " + std::to_string(in) +
                               " inputs and qzeros width " + std::to_string(width) + "); the checkpoint is damaged");
  }
  return in / groups;
}

}  // namespace

std::unique_ptr<QuantLinear> LoadAwqLinear(const io::ModelWeights& weights, const std::string& prefix,
                                           const LinearOptions&) {
  if (!weights.Find(prefix + ".qweight") || weights.Find(prefix + ".g_idx")) return nullptr;
  const formats::TensorLookup lookup = formats::LookupIn(weights);
  const io::TensorView& qweight = formats::Require(lookup, prefix + ".qweight", DType::I32);
  const io::TensorView& qzeros = formats::Require(lookup, prefix + ".qzeros", DType::I32);
  const io::TensorView& scales = formats::RequireScales(lookup, prefix + ".scales");
  if (qweight.shape.size() != 2 || qzeros.shape.size() != 2 || scales.shape.size() != 2) {
    throw formats::FormatError(prefix + ": AWQ expects 2-D qweight, qzeros and scales");
  }
  const auto& qw = qweight.shape;
  const auto& qz = qzeros.shape;
  const auto& sc = scales.shape;
  // GEMM: qweight [in, out/8], qzeros [groups, out/8], scales [groups, out].
  if (qz[1] == qw[1] && sc[1] == 8 * qw[1] && sc[0] == qz[0] && qz[0] > 0 && qw[0] % qz[0] == 0) {
    const kernels::AwqPacked p{qweight.data, qzeros.data,   scales.data, qw[0],
                               8 * qw[1],    qw[0] / qz[0], 0,           scales.dtype};
    if (p.in % 8 != 0) {
      throw formats::FormatError(prefix + ".qweight: AWQ GEMM needs in_features a multiple of 8, got " +
                                 std::to_string(p.in));
    }
    auto linear = std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::AwqGemm).name,
                                                kernels::MakeAwqGemmMatrix(p), OptionalBias(weights, prefix, p.out));
    // The kernel keeps its own copy of the codes and zero points: their mapped pages leave the resident set.
    weights.ReleasePages(prefix + ".qweight");
    weights.ReleasePages(prefix + ".qzeros");
    return linear;
  }
  // GEMV: qweight [out, in/8], qzeros [out, width], scales [out, 8·width] (AutoAWQ writes them fp16 only).
  if (qz[0] == qw[0] && sc[0] == qw[0] && sc[1] == 8 * qz[1]) {
    if (scales.dtype != DType::F16) {
      throw formats::FormatError(prefix + ".scales: AWQ GEMV scales are F16, got " + DTypeName(scales.dtype));
    }
    const int64_t in = 8 * qw[1];
    const int64_t groupSize = GemvGroupSize(scales, in, qz[1], prefix);
    const kernels::AwqPacked p{qweight.data, qzeros.data, scales.data, in, qw[0], groupSize, qz[1]};
    return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::AwqGemv).name,
                                         kernels::MakeAwqGemvMatrix(p), OptionalBias(weights, prefix, p.out));
  }
  throw formats::FormatError(prefix + ": qweight " + formats::ShapeString(qw) + ", qzeros " + formats::ShapeString(qz) +
                             " and scales " + formats::ShapeString(sc) +
                             " fit neither AWQ GEMM nor GEMV (and there is no g_idx, so it is not GPTQ)");
}

}  // namespace quantstudio::runtime
