#include "runtime/linear_gptq.h"

#include <cstring>

#include "formats/layouts.h"
#include "formats/tensor_set.h"
#include "kernels/qmatmul_gptq.h"

namespace quantstudio::runtime {

namespace {

bool GptqBits(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 8; }

// Checkpoints written without g_idx (groups in column order) are still GPTQ when the shapes say so:
// scales [groups, out] with out = qweight's columns, qzeros [groups, out·bits/32]. AWQ's layouts never
// match (GEMM's qzeros has as many columns as qweight, GEMV's tensors share their row count).
std::unique_ptr<QuantLinear> LoadWithoutGIdx(const io::ModelWeights& weights, const std::string& prefix,
                                             const LinearOptions& options) {
  const io::TensorView* qweight = weights.Find(prefix + ".qweight");
  const io::TensorView* qzeros = weights.Find(prefix + ".qzeros");
  const io::TensorView* scales = weights.Find(prefix + ".scales");
  if (!qzeros || !scales || qweight->dtype != DType::I32 || qzeros->dtype != DType::I32 ||
      (scales->dtype != DType::F16 && scales->dtype != DType::BF16 && scales->dtype != DType::F32) ||
      qweight->shape.size() != 2 || qzeros->shape.size() != 2 || scales->shape.size() != 2) {
    return nullptr;
  }
  const auto &qw = qweight->shape, &qz = qzeros->shape, &sc = scales->shape;
  const int64_t out = qw[1], groups = sc[0];
  if (sc[1] != out || qz[0] != groups || qz[1] == qw[1] || qz[0] == qw[0] || out <= 0 || groups <= 0 ||
      (qz[1] * 32) % out != 0) {
    return nullptr;
  }
  const int bits = static_cast<int>(qz[1] * 32 / out);
  if (!GptqBits(bits) || (qw[0] * 32) % bits != 0) return nullptr;
  const int64_t in = qw[0] * 32 / bits;
  if (in % groups != 0) {
    throw formats::FormatError(prefix + ".scales: " + std::to_string(groups) + " groups do not divide " +
                               std::to_string(in) + " inputs, and there is no " + prefix +
                               ".g_idx to say which column is in which group");
  }
  kernels::GptqPacked packed{qweight->data, qzeros->data,  scales->data,       nullptr, bits, in, out, groups,
                             in / groups,   scales->dtype, options.gptqV2Zeros};
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::Gptq).name, kernels::MakeGptqMatrix(packed),
                                       OptionalBias(weights, prefix, out));
}

}  // namespace

std::unique_ptr<QuantLinear> LoadGptqLinear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions& options) {
  if (!weights.Find(prefix + ".qweight")) return nullptr;
  if (!weights.Find(prefix + ".g_idx")) return LoadWithoutGIdx(weights, prefix, options);
  const formats::TensorLookup lookup = formats::LookupIn(weights);
  const io::TensorView& gIdx = formats::Require(lookup, prefix + ".g_idx", DType::I32);
  const io::TensorView& qweight = formats::Require(lookup, prefix + ".qweight", DType::I32);
  const io::TensorView& scales = formats::RequireScales(lookup, prefix + ".scales");
  if (gIdx.shape.size() != 1 || qweight.shape.size() != 2 || scales.shape.size() != 2) {
    throw formats::FormatError(prefix +
                               ": GPTQ expects g_idx [in], qweight [in·bits/32, out] and scales "
                               "[groups, out], found " +
                               formats::ShapeString(gIdx.shape) + ", " + formats::ShapeString(qweight.shape) + " and " +
                               formats::ShapeString(scales.shape));
  }
  const int64_t in = gIdx.shape[0], out = qweight.shape[1], groups = scales.shape[0];
  // qweight holds in·bits/32 rows: the only place the bit width shows.
  const int64_t bitsTimesIn = qweight.shape[0] * 32;
  const int bits = in > 0 && bitsTimesIn % in == 0 ? static_cast<int>(bitsTimesIn / in) : 0;
  if (!GptqBits(bits)) {
    throw formats::FormatError(prefix + ".qweight: " + std::to_string(qweight.shape[0]) + " rows for " +
                               std::to_string(in) + " inputs (g_idx) is not 2, 3, 4 or 8 bits; the checkpoint is " +
                               "damaged or not GPTQ v1");
  }
  if ((out * bits) % 32 != 0 || groups <= 0) {
    throw formats::FormatError(prefix + ".qweight: " + std::to_string(out) + " outputs do not fill whole words at " +
                               std::to_string(bits) + " bits");
  }
  const std::vector<int64_t> scalesShape{groups, out}, zerosShape{groups, out * bits / 32};
  formats::RequireScales(lookup, prefix + ".scales", &scalesShape);
  const io::TensorView& qzeros = formats::Require(lookup, prefix + ".qzeros", DType::I32, &zerosShape);
  for (int64_t c = 0; c < in; ++c) {
    int32_t g;
    std::memcpy(&g, gIdx.data + 4 * c, 4);
    if (g < 0 || g >= groups) {
      throw formats::FormatError(prefix + ".g_idx: column " + std::to_string(c) + " names group " + std::to_string(g) +
                                 " but scales has " + std::to_string(groups) + " groups");
    }
  }
  kernels::GptqPacked packed{qweight.data, qzeros.data, scales.data,  gIdx.data,          bits, in, out,
                             groups,       0,           scales.dtype, options.gptqV2Zeros};
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::Gptq).name, kernels::MakeGptqMatrix(packed),
                                       OptionalBias(weights, prefix, out));
}

}  // namespace quantstudio::runtime
