// Packing and unpacking by layout: the one dispatch from a row of the layouts table to its packer
// (gptq.cc, awq.cc, bnb.cc), for the pipeline's writers and the formats binding.
#pragma once

#include <string>

#include "core/dtype.h"
#include "formats/layouts.h"
#include "formats/tensor_set.h"
#include "quant/registry.h"

namespace quantstudio::formats {

/** The kind of quantizer result `r` holds. */
Feed FeedOf(const quant::QuantResult& r);

/** Throws FormatError naming the layer when the layout packs another kind of result or cannot hold it.
 *  computeDtype: the dtype bitsandbytes 4-bit loaders dequantize to (its quant state records it). gptqV2Zeros:
 *  the gptq layout in GPTQModel's format v2 (zero points stored as they are; the other layouts ignore it). */
TensorSet PackLayout(LayoutId id, const std::string& prefix, const quant::QuantResult& r, DType computeDtype,
                     bool gptqV2Zeros = false);
TensorSet PackGroupLayout(LayoutId id, const std::string& prefix, const quant::GroupQuantized& q,
                          bool gptqV2Zeros = false);

/** bits and groupSize as in the config (read by the group layouts only). */
quant::QuantResult UnpackLayout(LayoutId id, const TensorLookup& lookup, const std::string& prefix, int bits,
                                int64_t groupSize, bool gptqV2Zeros = false);

}  // namespace quantstudio::formats
