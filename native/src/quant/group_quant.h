// The result every group-wise integer quantizer (RTN, GPTQ, AWQ) produces, and every group format
// (GPTQ v1, AWQ GEMM/GEMV) packs: W[r][c] ≈ (q[r][c] − zero[g][r]) · scale[g][r] with g = gIdx[c].
// Shapes follow the Hugging Face Linear convention: rows = out_features, cols = in_features.
#pragma once

#include <cstdint>
#include <vector>

namespace quantstudio::quant {

struct GroupQuantized {
  int64_t rows = 0;            // out_features
  int64_t cols = 0;            // in_features
  int bits = 4;                // 2, 3, 4 or 8
  int64_t groupSize = 0;       // input columns per group; equals cols for per-channel (group_size −1)
  std::vector<uint8_t> q;      // [rows × cols], codes in [0, 2^bits)
  std::vector<float> scales;   // [numGroups × rows]
  std::vector<int32_t> zeros;  // [numGroups × rows], integer zero points in [0, 2^bits)
  std::vector<int32_t> gIdx;   // [cols], the group of each input column (not monotonic under act-order)

  int64_t numGroups() const { return groupSize > 0 ? (cols + groupSize - 1) / groupSize : 1; }

  float Dequantize(int64_t r, int64_t c) const {
    const int64_t g = gIdx[c];
    return static_cast<float>(static_cast<int32_t>(q[r * cols + c]) - zeros[g * rows + r]) * scales[g * rows + r];
  }
};

}  // namespace quantstudio::quant
