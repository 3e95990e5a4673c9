// compressed-tensors "pack-quantized" tensors of one Linear (compressed-tensors 0.19, as llm-compressor 0.14 writes
// W4A16 / W8A16), checked against each other before any kernel reads them: weight_packed int32 [out, ⌈in·bits/32⌉],
// weight_scale [out, groups] (fp16, bf16 or fp32) with groups dividing in, weight_shape int64 [out, in], and for an
// asymmetric scheme weight_zero_point int32 [⌈out·bits/32⌉, groups] packed down the outputs.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "formats/tensor_set.h"

namespace quantstudio::formats {

struct CtPackedTensors {
  const uint8_t* packed;
  const uint8_t* scales;
  const uint8_t* zeroPoints;  // null when symmetric
  int bits;                   // 4 or 8
  int64_t in, out, groups;
  DType scalesType;
};

/** The tensors under `prefix`, every size consistent; FormatError naming the tensor that is not. */
CtPackedTensors ReadCtPacked(const TensorLookup& lookup, const std::string& prefix);

}  // namespace quantstudio::formats
