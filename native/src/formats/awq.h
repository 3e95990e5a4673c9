// AutoAWQ checkpoint formats (4-bit, zero point, groups in column order) for one Linear layer.
//   GEMM ("version": "gemm"): qweight int32 [in, out/8] packed along the output dim in AWQ's
//        interleaved nibble order, qzeros int32 [groups, out/8] the same way, scales fp16 [groups, out].
//   GEMV ("version": "gemv"): qweight int32 [out, in/8] packed along the input dim in natural order,
//        qzeros int32 [out, W] packed along the groups, scales fp16 [out, 8·W], with W the group count
//        rounded up to whole words (and to 2 or 4 words for group sizes 64 and 32) and zero padding.
#pragma once

#include <string>

#include "formats/layouts.h"
#include "formats/tensor_set.h"
#include "quant/group_quant.h"

namespace quantstudio::formats {

enum class AwqVersion { Gemm, Gemv };

/** "gemm" / "gemv": the layout's quantization_config version. */
const char* AwqVersionName(AwqVersion v);
LayoutId AwqLayout(AwqVersion v);

/** Throws FormatError naming the layer for anything AWQ cannot hold (bits ≠ 4, act-order groups,
 *  shapes not multiples of 8, GEMV group sizes other than 32, 64 or ≥ 128). */
TensorSet PackAwq(const std::string& prefix, const quant::GroupQuantized& q, AwqVersion version);

quant::GroupQuantized UnpackAwq(const TensorLookup& lookup, const std::string& prefix, int64_t groupSize,
                                AwqVersion version);

/** GEMV's qzeros width in words for a layer (AutoAWQ's calculate_zeros_width). */
int64_t AwqGemvZerosWidth(int64_t inFeatures, int64_t groupSize);

}  // namespace quantstudio::formats
