// compressed-tensors "pack-quantized" weights read in place (compressed-tensors 0.19, as llm-compressor 0.14
// writes W4A16 / W8A16): weight_packed int32 [out, ceil(in·bits/32)], code c of row r at bits [c·bits, (c+1)·bits)
// of the row's words, stored as the signed code plus 2^(bits−1); weight_scale [out, groups] (fp16, bf16 or
// fp32); W[r][c] = (u − z) · scale[r][g], g = c / groupSize, z = 2^(bits−1) when symmetric, else the zero
// point stored the same way in weight_zero_point int32 [ceil(out·bits/32), groups] packed down the outputs.
#pragma once

#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "kernels/qmatmul.h"

namespace quantstudio::kernels {

struct CtPacked {
  const uint8_t* packed;
  const uint8_t* scales;
  const uint8_t* zeroPoints;  // null when symmetric
  int bits;                   // 4 or 8
  int64_t in, out, groups;
  DType scalesType;
};

std::unique_ptr<QuantMatrix> MakeCtPackedMatrix(const CtPacked& packed);

}  // namespace quantstudio::kernels
