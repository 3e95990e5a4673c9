// Row-wise and element-wise kernels of a transformer block, fp32. These are memory-light next to the
// matmuls; plain loops that the compiler vectorises are both the fast path and the reference.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace quantstudio::kernels {

/** out[r] = x[r] / sqrt(mean(x[r]²) + eps) * weight, for each of `rows` rows of width n (Llama RMSNorm). */
void RmsNorm(const float* x, int64_t rows, int64_t n, const float* weight, float eps, float* out);

/** out[r] = (x[r] - mean) / sqrt(var + eps) * weight + bias (biased variance, as torch LayerNorm). */
void LayerNorm(const float* x, int64_t rows, int64_t n, const float* weight, const float* bias, float eps, float* out);

/** In place: x = softmax(x) over n values; stable (subtracts the max). AVX2 exp when available. */
void Softmax(float* x, int64_t n);
/** Scalar reference of Softmax (std::exp). */
void SoftmaxReference(float* x, int64_t n);

/** -log softmax(logits)[target] for one row of n logits; the sum of exponentials kept in double. */
double NegLogLikelihood(const float* logits, int64_t n, int32_t target);
/** Scalar reference of NegLogLikelihood (std::exp in double). */
double NegLogLikelihoodReference(const float* logits, int64_t n, int32_t target);

/** gate[i] = silu(gate[i]) * up[i] (Llama's gated MLP). */
void SiluMul(float* gate, const float* up, int64_t n);

/** x[i] = max(x[i], 0). */
void Relu(float* x, int64_t n);

/** x[i] += y[i]. */
void AddInPlace(float* x, const float* y, int64_t n);

/** Inverse frequencies of default RoPE: 1 / theta^(2i/dim), i < dim/2, in fp32, then rounded through
 *  `storage` (the checkpoint's dtype). transformers keeps them in a buffer that follows the model's dtype, so a
 *  model loaded in fp16 and evaluated in fp32 rotates by fp16-rounded frequencies; matching its logits
 *  (and its perplexity) to 1e-3 needs the same rounding. */
void RopeInverseFrequencies(double theta, int64_t dim, DType storage, float* out);

/** Rotates `heads` heads of width dim at one position in place (rotate-half layout, as Llama/Qwen2/Mistral). */
void ApplyRope(float* x, int64_t heads, int64_t dim, int64_t position, const float* invFreq);

}  // namespace quantstudio::kernels
