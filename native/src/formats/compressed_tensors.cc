#include "formats/compressed_tensors.h"

#include <cstring>
#include <vector>

#include "formats/layouts.h"

namespace quantstudio::formats {
namespace {

// weight_shape holds [out, in] as int64; the packed width leaves `in` open by up to 32/bits columns.
std::vector<int64_t> WeightShape(const TensorLookup& lookup, const std::string& prefix) {
  const std::vector<int64_t> two{2};
  const io::TensorView& t = Require(lookup, prefix + ".weight_shape", DType::I64, &two);
  std::vector<int64_t> shape(2);
  std::memcpy(shape.data(), t.data, 16);
  return shape;
}

}  // namespace

CtPacked ReadCtPacked(const TensorLookup& lookup, const std::string& prefix) {
  // actorder "group" (compressed-tensors 0.19) stores a column permutation the pack-quantized kernels here do not
  // apply; refused rather than misread.
  if (lookup(prefix + ".weight_g_idx")) {
    throw FormatError(prefix +
                      ".weight_g_idx: compressed-tensors activation ordering (actorder \"group\") is not "
                      "supported by the runtime; quantize with actorder \"weight\" or none");
  }
  const io::TensorView& packed = Require(lookup, prefix + ".weight_packed", DType::I32);
  const io::TensorView& scales = RequireScales(lookup, prefix + ".weight_scale");
  const std::vector<int64_t> shape = WeightShape(lookup, prefix);
  const int64_t out = shape[0], in = shape[1];
  if (packed.shape.size() != 2 || packed.shape[0] != out || out <= 0 || in <= 0) {
    throw FormatError(prefix + ".weight_packed: shape " + ShapeString(packed.shape) +
                      " does not hold the rows of weight_shape " + ShapeString(shape));
  }
  // A row of w words holds at most 32·w codes (1-bit); a larger `in` is a damaged weight_shape (and would overflow
  // below).
  if (in > 32 * packed.shape[1]) {
    throw FormatError(prefix + ".weight_shape: " + std::to_string(in) + " inputs do not fit " +
                      std::to_string(packed.shape[1]) + " words per row of weight_packed");
  }
  int bits = 0;
  for (int b : LayoutOf(LayoutId::CtPacked).bits)
    if ((in * b + 31) / 32 == packed.shape[1]) bits = b;
  if (bits == 0) {
    throw FormatError(prefix + ".weight_packed: " + std::to_string(packed.shape[1]) + " words per row for " +
                      std::to_string(in) + " inputs is not 4 or 8 bits; the runtime reads pack-quantized 4 and 8 bits");
  }
  if (scales.shape.size() != 2 || scales.shape[0] != out || scales.shape[1] <= 0 || in % scales.shape[1] != 0) {
    throw FormatError(prefix + ".weight_scale: shape " + ShapeString(scales.shape) + " is not [" + std::to_string(out) +
                      ", groups] with groups dividing " + std::to_string(in) +
                      " inputs; the runtime reads the channel and group strategies");
  }
  const int64_t groups = scales.shape[1];
  const uint8_t* zeros = nullptr;
  if (lookup(prefix + ".weight_zero_point")) {
    const std::vector<int64_t> zerosShape{(out * bits + 31) / 32, groups};
    zeros = Require(lookup, prefix + ".weight_zero_point", DType::I32, &zerosShape).data;
  }
  return {packed.data, scales.data, zeros, bits, in, out, groups, scales.dtype};
}

}  // namespace quantstudio::formats
