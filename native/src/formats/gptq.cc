#include "formats/gptq.h"

#include "core/bitpack.h"

namespace quantstudio::formats {
namespace {

void CheckPackable(const std::string& prefix, const quant::GroupQuantized& q) {
  const int bits = q.bits;
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
    throw FormatError(prefix + ": GPTQ packs 2, 3, 4 or 8 bits, not " + std::to_string(bits));
  }
  if ((q.cols * bits) % 32 != 0 || (q.rows * bits) % 32 != 0) {
    throw FormatError(prefix + ": in_features " + std::to_string(q.cols) + " and out_features " +
                      std::to_string(q.rows) + " must fill whole 32-bit words at " + std::to_string(bits) +
                      " bits (multiples of " + std::to_string(bits == 3 ? 32 : 32 / bits) +
                      "); leave this layer unquantized");
  }
}

}  // namespace

TensorSet PackGptq(const std::string& prefix, const quant::GroupQuantized& q, bool v2Zeros) {
  CheckPackable(prefix, q);
  const int bits = q.bits;
  const int64_t rows = q.rows, cols = q.cols, groups = q.numGroups();
  // qweight: the codes of output column r form one bit stream down the input dim.
  std::vector<uint32_t> qweight(static_cast<size_t>(cols * bits / 32 * rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) PutBits(qweight.data() + r, rows, c, bits, q.q[r * cols + c]);
  }
  const int64_t zeroWords = rows * bits / 32;
  std::vector<uint32_t> qzeros(static_cast<size_t>(groups * zeroWords), 0);
  for (int64_t g = 0; g < groups; ++g) {
    uint32_t* line = qzeros.data() + g * zeroWords;
    for (int64_t r = 0; r < rows; ++r) {
      const uint32_t z = static_cast<uint32_t>(q.zeros[g * rows + r]);
      // 3-bit slots straddle words, so v1's −1 is applied per value there.
      PutBits(line, 1, r, bits, bits == 3 && !v2Zeros ? ((z - 1u) & 7u) : z);
    }
    // v1 stores packed(zeros) − OnesWord and loaders add it back, exact even where a zero of 0 borrows.
    if (bits != 3 && !v2Zeros) {
      for (int64_t k = 0; k < zeroWords; ++k) line[k] -= OnesWord(bits);
    }
  }
  TensorSet out;
  out.push_back(MakeTensor(prefix + ".qweight", DType::I32, {cols * bits / 32, rows}, qweight));
  out.push_back(MakeTensor(prefix + ".qzeros", DType::I32, {groups, zeroWords}, qzeros));
  out.push_back(MakeF16Tensor(prefix + ".scales", {groups, rows}, q.scales));
  out.push_back(MakeTensor(prefix + ".g_idx", DType::I32, {cols}, q.gIdx));
  return out;
}

quant::GroupQuantized UnpackGptq(const TensorLookup& lookup, const std::string& prefix, int bits, int64_t groupSize,
                                 bool v2Zeros) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
    throw FormatError(prefix + ": GPTQ checkpoints hold 2, 3, 4 or 8 bits, not " + std::to_string(bits));
  }
  const io::TensorView& gIdx = Require(lookup, prefix + ".g_idx", DType::I32);
  const io::TensorView& scales = Require(lookup, prefix + ".scales", DType::F16);
  if (gIdx.shape.size() != 1 || scales.shape.size() != 2) {
    throw FormatError(prefix + ": g_idx must be 1-D and scales 2-D, found " + ShapeString(gIdx.shape) + " and " +
                      ShapeString(scales.shape));
  }
  // Checked before any size is derived from them: a zero dimension lets the others be arbitrarily large.
  if (gIdx.numel() == 0 || scales.numel() == 0) {
    throw FormatError(prefix + ": g_idx " + ShapeString(gIdx.shape) + " and scales " + ShapeString(scales.shape) +
                      " describe an empty layer");
  }
  quant::GroupQuantized q;
  q.bits = bits;
  q.cols = gIdx.shape[0];
  q.rows = scales.shape[1];
  if ((q.cols * bits) % 32 != 0 || (q.rows * bits) % 32 != 0) {
    throw FormatError(prefix + ": in_features " + std::to_string(q.cols) + " and out_features " +
                      std::to_string(q.rows) + " (from g_idx and scales) do not fill whole 32-bit words at " +
                      std::to_string(bits) +
                      " bits, so qweight and qzeros cannot hold them; check bits in the quantization config");
  }
  q.groupSize = groupSize > 0 ? groupSize : q.cols;
  const int64_t groups = q.numGroups();
  const std::vector<int64_t> scalesShape{groups, q.rows};
  const std::vector<int64_t> qweightShape{q.cols * bits / 32, q.rows};
  const std::vector<int64_t> qzerosShape{groups, q.rows * bits / 32};
  Require(lookup, prefix + ".scales", DType::F16, &scalesShape);
  const auto qweight = CopyOut<uint32_t>(Require(lookup, prefix + ".qweight", DType::I32, &qweightShape));
  auto qzeros = CopyOut<uint32_t>(Require(lookup, prefix + ".qzeros", DType::I32, &qzerosShape));
  q.gIdx = CopyOut<int32_t>(gIdx);
  for (int64_t c = 0; c < q.cols; ++c) {
    if (q.gIdx[c] < 0 || q.gIdx[c] >= groups) {
      throw FormatError(prefix + ".g_idx: column " + std::to_string(c) + " names group " + std::to_string(q.gIdx[c]) +
                        " but there are " + std::to_string(groups) + " (group_size " + std::to_string(groupSize) + ")");
    }
  }
  q.scales = ReadFloats(scales);
  q.q.resize(static_cast<size_t>(q.rows * q.cols));
  for (int64_t r = 0; r < q.rows; ++r) {
    for (int64_t c = 0; c < q.cols; ++c)
      q.q[r * q.cols + c] = static_cast<uint8_t>(GetBits(qweight.data() + r, q.rows, c, bits));
  }
  const int64_t zeroWords = q.rows * bits / 32;
  q.zeros.resize(static_cast<size_t>(groups * q.rows));
  for (int64_t g = 0; g < groups; ++g) {
    uint32_t* line = qzeros.data() + g * zeroWords;
    if (bits != 3 && !v2Zeros) {
      for (int64_t k = 0; k < zeroWords; ++k) line[k] += OnesWord(bits);
    }
    for (int64_t r = 0; r < q.rows; ++r) {
      const uint32_t z = GetBits(line, 1, r, bits);
      q.zeros[g * q.rows + r] = static_cast<int32_t>(bits == 3 && !v2Zeros ? ((z + 1u) & 7u) : z);
    }
  }
  return q;
}

}  // namespace quantstudio::formats
