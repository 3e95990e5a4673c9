// compressed-tensors "pack-quantized" tensors of one Linear (compressed-tensors 0.19, as llm-compressor 0.14 writes
// W4A16 / W8A16), pointers into the mapping: what the formats' reader checks (formats/compressed_tensors.h) and the
// kernel reads in place (kernels/qmatmul_ct.h). weight_packed int32 [out, ⌈in·bits/32⌉], code c of row r at bits
// [c·bits, (c+1)·bits) of the row's words, stored as the signed code plus 2^(bits−1); weight_scale [out, groups]
// (fp16, bf16 or fp32); W[r][c] = (u − z) · scale[r][g], g = c / (in / groups), z = 2^(bits−1) when symmetric, else
// the zero point stored the same way in weight_zero_point int32 [⌈out·bits/32⌉, groups] packed down the outputs.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace quantstudio {

struct CtPacked {
  const uint8_t* packed;
  const uint8_t* scales;
  const uint8_t* zeroPoints;  // null when symmetric
  int bits;                   // 4 or 8
  int64_t in, out, groups;
  DType scalesType;
};

}  // namespace quantstudio
