// Causal multi-head attention over a KV cache, GQA-aware: query head h reads kv head h / (heads / kvHeads).
// A few query rows (decode) accumulate straight over the cached V rows; many rows (prefill) run as matmuls.
#pragma once

#include <cstdint>

namespace quantstudio::kernels {

struct AttentionShape {
  int64_t heads;
  int64_t kvHeads;
  int64_t headDim;
  int64_t capacity;  // positions per kv head in the cache
};

/** q: [m, heads*headDim] for the tokens at positions pos0 .. pos0+m-1; kCache/vCache: [kvHeads][capacity][headDim]
 *  already holding positions 0 .. pos0+m-1. Token i attends to positions 0 .. pos0+i. out: [m, heads*headDim]. */
void Attention(const float* q, int64_t m, int64_t pos0, const float* kCache, const float* vCache,
               const AttentionShape& shape, float scale, float* out);

/** Scalar, single-threaded reference of Attention. */
void AttentionReference(const float* q, int64_t m, int64_t pos0, const float* kCache, const float* vCache,
                        const AttentionShape& shape, float scale, float* out);

}  // namespace quantstudio::kernels
