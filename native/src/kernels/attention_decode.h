// Attention for decode shapes: a few query rows against a long KV cache. The output accumulates p_t · v_t
// straight from the cached V rows (vectorised along headDim), so no per-step copy or transpose of the cache.
#pragma once

#include <cstdint>

#include "kernels/attention.h"

namespace quantstudio::kernels {

/** Same contract as Attention; Attention calls it when m is small (decode, short chunks). */
void AttentionDecode(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& shape,
                     float scale, float* out);

}  // namespace quantstudio::kernels
