// Sampling from NaN or infinite logits emits arbitrary tokens; generation (one sequence or a batch) stops with
// an error naming where the numbers first went bad instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace quantstudio::runtime {

/** Throws std::runtime_error when `logits` [vocab] hold NaN or Inf: "<subject> are not finite (<value> at
 *  vocabulary index <i>) after the prompt | after N generated tokens; first in <stage>; …". The stage costs one
 *  extra forward of the sequence (prompt + generated), only on failure. */
void CheckFiniteLogits(const Model& model, const float* logits, int64_t vocab, const std::string& subject,
                       const int32_t* prompt, int64_t promptLength, const std::vector<int32_t>& generated);

}  // namespace quantstudio::runtime
