#include "runtime/linear_ct.h"

#include <cstring>

#include "formats/layouts.h"
#include "formats/tensor_set.h"
#include "kernels/qmatmul_ct.h"

namespace quantstudio::runtime {
namespace {

using formats::FormatError;

// weight_shape holds [out, in] as int64; the packed width leaves `in` open by up to 32/bits columns.
std::vector<int64_t> WeightShape(const formats::TensorLookup& lookup, const std::string& prefix) {
  const std::vector<int64_t> two{2};
  const io::TensorView& t = formats::Require(lookup, prefix + ".weight_shape", DType::I64, &two);
  std::vector<int64_t> shape(2);
  std::memcpy(shape.data(), t.data, 16);
  return shape;
}

}  // namespace

std::unique_ptr<QuantLinear> LoadCtPackedLinear(const io::ModelWeights& weights, const std::string& prefix,
                                                const LinearOptions&) {
  if (!weights.Find(prefix + ".weight_packed")) return nullptr;
  const formats::TensorLookup lookup = formats::LookupIn(weights);
  // actorder "group" (compressed-tensors 0.19) stores a column permutation the pack-quantized kernels here do not
  // apply; refused rather than misread.
  if (weights.Find(prefix + ".weight_g_idx")) {
    throw FormatError(prefix +
                      ".weight_g_idx: compressed-tensors activation ordering (actorder \"group\") is not "
                      "supported by the runtime; quantize with actorder \"weight\" or none");
  }
  const io::TensorView& packed = formats::Require(lookup, prefix + ".weight_packed", DType::I32);
  const io::TensorView& scales = formats::RequireScales(lookup, prefix + ".weight_scale");
  const std::vector<int64_t> shape = WeightShape(lookup, prefix);
  const int64_t out = shape[0], in = shape[1];
  if (packed.shape.size() != 2 || packed.shape[0] != out || out <= 0 || in <= 0) {
    throw FormatError(prefix + ".weight_packed: shape " + formats::ShapeString(packed.shape) +
                      " does not hold the rows of weight_shape " + formats::ShapeString(shape));
  }
  // A row of w words holds at most 32·w codes (1-bit); a larger `in` is a damaged weight_shape (and would overflow
  // below).
  if (in > 32 * packed.shape[1]) {
    throw FormatError(prefix + ".weight_shape: " + std::to_string(in) + " inputs do not fit " +
                      std::to_string(packed.shape[1]) + " words per row of weight_packed");
  }
  int bits = 0;
  for (int b : formats::LayoutOf(formats::LayoutId::CtPacked).bits)
    if ((in * b + 31) / 32 == packed.shape[1]) bits = b;
  if (bits == 0) {
    throw FormatError(prefix + ".weight_packed: " + std::to_string(packed.shape[1]) + " words per row for " +
                      std::to_string(in) + " inputs is not 4 or 8 bits; the runtime reads pack-quantized 4 and 8 bits");
  }
  if (scales.shape.size() != 2 || scales.shape[0] != out || scales.shape[1] <= 0 || in % scales.shape[1] != 0) {
    throw FormatError(prefix + ".weight_scale: shape " + formats::ShapeString(scales.shape) + " is not [" +
                      std::to_string(out) + ", groups] with groups dividing " + std::to_string(in) +
                      " inputs; the runtime reads the channel and group strategies");
  }
  const int64_t groups = scales.shape[1];
  const uint8_t* zeros = nullptr;
  if (weights.Find(prefix + ".weight_zero_point")) {
    const std::vector<int64_t> zerosShape{(out * bits + 31) / 32, groups};
    zeros = formats::Require(lookup, prefix + ".weight_zero_point", DType::I32, &zerosShape).data;
  }
  const kernels::CtPacked p{packed.data, scales.data, zeros, bits, in, out, groups, scales.dtype};
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::CtPacked).name,
                                       kernels::MakeCtPackedMatrix(p), OptionalBias(weights, prefix, out));
}

}  // namespace quantstudio::runtime
