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

/** gate[i] = gelu_tanh(gate[i]) · up[i] (Gemma's GeGLU; torch's gelu(approximate="tanh")). */
void GeluTanhMul(float* gate, const float* up, int64_t n);

/** x[i] = cap · tanh(x[i] / cap) (Gemma 2's attention and final logit soft-capping). */
void Softcap(float* x, int64_t n, float cap);

/** x[i] = max(x[i], 0). */
void Relu(float* x, int64_t n);

/** x[i] += y[i]. */
void AddInPlace(float* x, const float* y, int64_t n);

/** dst[i] = the IEEE half nearest x[i], ties to even, as torch's .half() (F16C at the AVX2 level). */
void NarrowToF16(const float* x, int64_t n, uint16_t* dst);

/** One head's RoPE geometry: the first rotaryDim of headDim values rotate (partial_rotary_factor), cos and
 *  sin multiplied by scaling (yarn's and longrope's attention factor). */
struct RopeShape {
  int64_t headDim;
  int64_t rotaryDim;
  float scaling;
};

/** Rotates `heads` heads at one position in place (rotate-half layout over the rotary part, as transformers'
 *  Llama family); invFreq holds rotaryDim / 2 frequencies. */
void ApplyRope(float* x, int64_t heads, const RopeShape& shape, int64_t position, const float* invFreq);

}  // namespace quantstudio::kernels
