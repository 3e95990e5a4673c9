// compressed-tensors "pack-quantized" tensors of one Linear (core/ct_packed.h), checked against each other before any
// kernel reads them: weight_packed int32 [out, ⌈in·bits/32⌉], weight_scale [out, groups] (fp16, bf16 or fp32) with
// groups dividing in, weight_shape int64 [out, in], and for an asymmetric scheme weight_zero_point int32
// [⌈out·bits/32⌉, groups] packed down the outputs.
#pragma once

#include <cstdint>
#include <string>

#include "core/ct_packed.h"
#include "formats/tensor_set.h"

namespace quantstudio::formats {

/** The tensors under `prefix`, every size consistent; FormatError naming the tensor that is not. */
CtPacked ReadCtPacked(const TensorLookup& lookup, const std::string& prefix);

}  // namespace quantstudio::formats
