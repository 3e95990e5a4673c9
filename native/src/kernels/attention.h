// Causal multi-head attention over a KV cache, GQA-aware: query head h reads kv head h / (heads / kvHeads).
// A few query rows (decode) accumulate straight over the cached V rows; many rows (prefill) run as matmuls.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace quantstudio::kernels {

/** One layer's cached keys and values, each [kvHeads][capacity][headDim]: fp32, or fp16 (IEEE half bits, as
 *  llama.cpp's default cache and transformers' fp16 models keep them) at half the bytes each decode step reads. */
struct KvRows {
  DType dtype = DType::F32;  // F32 or F16
  const void* keys = nullptr;
  const void* values = nullptr;
};

struct AttentionShape {
  int64_t heads;
  int64_t kvHeads;
  int64_t headDim;
  int64_t capacity;      // positions per kv head in the cache
  int64_t window = 0;    // sliding window: a token sees itself and the window − 1 positions before it; 0 = all
  float softcap = 0.0f;  // scores → softcap · tanh(scores / softcap) before the softmax (Gemma 2); 0 = none
};

/** The first position the token at `position` sees (transformers' sliding-window mask: kv > q − window). */
inline int64_t FirstVisible(int64_t position, int64_t window) {
  return window > 0 && position + 1 > window ? position + 1 - window : 0;
}

/** q: [m, heads*headDim] for the tokens at positions pos0 .. pos0+m-1; kv: [kvHeads][capacity][headDim] already
 *  holding positions 0 .. pos0+m-1. Token i attends to positions FirstVisible(pos0+i) .. pos0+i. Products and sums
 *  are fp32 whatever the cache's type. out: [m, heads*headDim]. */
void Attention(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& shape, float scale,
               float* out);

/** Scalar, single-threaded reference of Attention. */
void AttentionReference(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& shape,
                        float scale, float* out);

}  // namespace quantstudio::kernels
