// AutoGPTQ / GPTQModel checkpoint format v1 ("checkpoint_format": "gptq") for one Linear layer:
//   <prefix>.qweight int32 [in·bits/32, out]  codes packed along the input dim (bit stream per column)
//   <prefix>.qzeros  int32 [groups, out·bits/32]  zero points packed along the output dim, stored
//                    as zero − 1 (the v1 convention; a word-wise subtraction for 2/4/8 bits); GPTQModel's
//                    format v2 ("gptq_v2") stores the zero points as they are, the tensors otherwise the same
//   <prefix>.scales  fp16  [groups, out]
//   <prefix>.g_idx   int32 [in]  group of each input column (permuted under desc_act)
#pragma once

#include <string>

#include "formats/tensor_set.h"
#include "quant/group_quant.h"

namespace quantstudio::formats {

/** Throws FormatError naming the layer when the shapes cannot be packed at these bits. */
TensorSet PackGptq(const std::string& prefix, const quant::GroupQuantized& q, bool v2Zeros = false);

/** groupSize as in the config (−1 = per channel). Scales come back as the fp16 values stored. */
quant::GroupQuantized UnpackGptq(const TensorLookup& lookup, const std::string& prefix, int bits, int64_t groupSize,
                                 bool v2Zeros = false);

}  // namespace quantstudio::formats
