#include "formats/awq.h"

#include "core/bitpack.h"

namespace quantstudio::formats {
namespace {

uint32_t PackInterleaved(const int32_t* values8) {
  uint32_t w = 0;
  for (int i = 0; i < 8; ++i) w |= (static_cast<uint32_t>(values8[kAwqOrder[i]]) & 0xfu) << (4 * i);
  return w;
}

void UnpackInterleaved(uint32_t w, int32_t* values8) {
  for (int i = 0; i < 8; ++i) values8[kAwqOrder[i]] = static_cast<int32_t>(Nibble(w, i));
}

void CheckPackable(const std::string& prefix, const quant::GroupQuantized& q, AwqVersion version) {
  if (q.bits != 4) throw FormatError(prefix + ": AWQ checkpoints hold 4-bit weights, not " + std::to_string(q.bits));
  if (q.rows % 8 != 0 || q.cols % 8 != 0) {
    throw FormatError(prefix + ": AWQ needs in_features and out_features divisible by 8 (got " +
                      std::to_string(q.cols) + " and " + std::to_string(q.rows) + "); leave this layer unquantized");
  }
  for (int64_t c = 0; c < q.cols; ++c) {
    if (q.gIdx[c] != c / q.groupSize) {
      throw FormatError(prefix + ": AWQ stores groups in column order; act-order (desc_act) groups cannot be packed");
    }
  }
  if (version == AwqVersion::Gemv && q.cols % q.groupSize != 0) {
    throw FormatError(prefix + ": GEMV needs in_features divisible by the group size");
  }
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

LayoutId AwqLayout(AwqVersion v) { return v == AwqVersion::Gemm ? LayoutId::AwqGemm : LayoutId::AwqGemv; }

const char* AwqVersionName(AwqVersion v) { return LayoutOf(AwqLayout(v)).version; }

int64_t AwqGemvZerosWidth(int64_t inFeatures, int64_t groupSize) {
  int64_t multiplier;
  if (groupSize >= 128)
    multiplier = 1;
  else if (groupSize == 64)
    multiplier = 2;
  else if (groupSize == 32)
    multiplier = 4;
  else
    throw FormatError("AWQ GEMV supports group sizes 32, 64 and >= 128, not " + std::to_string(groupSize));
  return CeilDiv(CeilDiv(inFeatures / groupSize, 8), multiplier) * multiplier;
}

TensorSet PackAwq(const std::string& prefix, const quant::GroupQuantized& q, AwqVersion version) {
  CheckPackable(prefix, q, version);
  const int64_t rows = q.rows, cols = q.cols, groups = q.numGroups();
  TensorSet out;
  if (version == AwqVersion::Gemm) {
    std::vector<uint32_t> qweight(static_cast<size_t>(cols * rows / 8));
    int32_t eight[8];
    for (int64_t c = 0; c < cols; ++c) {
      for (int64_t w = 0; w < rows / 8; ++w) {
        for (int i = 0; i < 8; ++i) eight[i] = q.q[(w * 8 + i) * cols + c];
        qweight[c * (rows / 8) + w] = PackInterleaved(eight);
      }
    }
    std::vector<uint32_t> qzeros(static_cast<size_t>(groups * rows / 8));
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t w = 0; w < rows / 8; ++w) qzeros[g * (rows / 8) + w] = PackInterleaved(&q.zeros[g * rows + w * 8]);
    }
    out.push_back(MakeTensor(prefix + ".qweight", DType::I32, {cols, rows / 8}, qweight));
    out.push_back(MakeTensor(prefix + ".qzeros", DType::I32, {groups, rows / 8}, qzeros));
    out.push_back(MakeF16Tensor(prefix + ".scales", {groups, rows}, q.scales));
    return out;
  }
  const int64_t width = AwqGemvZerosWidth(cols, q.groupSize);
  std::vector<uint32_t> qweight(static_cast<size_t>(rows * cols / 8), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) PutBits(qweight.data() + r * (cols / 8), 1, c, 4, q.q[r * cols + c]);
  }
  std::vector<uint32_t> qzeros(static_cast<size_t>(rows * width), 0);
  std::vector<float> scales(static_cast<size_t>(rows * width * 8), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      PutBits(qzeros.data() + r * width, 1, g, 4, static_cast<uint32_t>(q.zeros[g * rows + r]) & 0xfu);
      scales[r * width * 8 + g] = q.scales[g * rows + r];
    }
  }
  out.push_back(MakeTensor(prefix + ".qweight", DType::I32, {rows, cols / 8}, qweight));
  out.push_back(MakeTensor(prefix + ".qzeros", DType::I32, {rows, width}, qzeros));
  out.push_back(MakeF16Tensor(prefix + ".scales", {rows, width * 8}, scales));
  return out;
}

quant::GroupQuantized UnpackAwq(const TensorLookup& lookup, const std::string& prefix, int64_t groupSize,
                                AwqVersion version) {
  const io::TensorView& qweightView = Require(lookup, prefix + ".qweight", DType::I32);
  if (qweightView.shape.size() != 2 || qweightView.numel() == 0) {
    throw FormatError(prefix + ".qweight: expected a non-empty 2-D tensor, found " + ShapeString(qweightView.shape));
  }
  quant::GroupQuantized q;
  q.bits = 4;
  if (version == AwqVersion::Gemm) {
    q.cols = qweightView.shape[0];
    q.rows = qweightView.shape[1] * 8;
  } else {
    q.rows = qweightView.shape[0];
    q.cols = qweightView.shape[1] * 8;
  }
  q.groupSize = groupSize > 0 ? groupSize : q.cols;
  if (q.cols % q.groupSize != 0) {
    throw FormatError(prefix + ": in_features " + std::to_string(q.cols) + " is not divisible by group_size " +
                      std::to_string(q.groupSize) + "; check the quantization config");
  }
  const int64_t rows = q.rows, cols = q.cols, groups = q.numGroups();
  q.gIdx.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) q.gIdx[c] = static_cast<int32_t>(c / q.groupSize);
  q.q.resize(static_cast<size_t>(rows * cols));
  q.zeros.resize(static_cast<size_t>(groups * rows));
  q.scales.resize(static_cast<size_t>(groups * rows));
  const auto qweight = CopyOut<uint32_t>(qweightView);
  if (version == AwqVersion::Gemm) {
    const std::vector<int64_t> zShape{groups, rows / 8}, sShape{groups, rows};
    const auto qzeros = CopyOut<uint32_t>(Require(lookup, prefix + ".qzeros", DType::I32, &zShape));
    q.scales = ReadFloats(Require(lookup, prefix + ".scales", DType::F16, &sShape));
    int32_t eight[8];
    for (int64_t c = 0; c < cols; ++c) {
      for (int64_t w = 0; w < rows / 8; ++w) {
        UnpackInterleaved(qweight[c * (rows / 8) + w], eight);
        for (int i = 0; i < 8; ++i) q.q[(w * 8 + i) * cols + c] = static_cast<uint8_t>(eight[i]);
      }
    }
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t w = 0; w < rows / 8; ++w) UnpackInterleaved(qzeros[g * (rows / 8) + w], &q.zeros[g * rows + w * 8]);
    }
    return q;
  }
  const int64_t width = AwqGemvZerosWidth(cols, q.groupSize);
  const std::vector<int64_t> zShape{rows, width}, sShape{rows, width * 8};
  const auto qzeros = CopyOut<uint32_t>(Require(lookup, prefix + ".qzeros", DType::I32, &zShape));
  const std::vector<float> scales = ReadFloats(Require(lookup, prefix + ".scales", DType::F16, &sShape));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      q.q[r * cols + c] = static_cast<uint8_t>(GetBits(qweight.data() + r * (cols / 8), 1, c, 4));
    for (int64_t g = 0; g < groups; ++g) {
      q.zeros[g * rows + r] = static_cast<int32_t>(GetBits(qzeros.data() + r * width, 1, g, 4));
      q.scales[g * rows + r] = scales[r * width * 8 + g];
    }
  }
  return q;
}

}  // namespace quantstudio::formats
