#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QS_X86 1
#endif

namespace quantstudio::kernels {

void RmsNorm(const float* x, int64_t rows, int64_t n, const float* weight, float eps, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    float sumSq = 0.0f;
    for (int64_t i = 0; i < n; ++i) sumSq += xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(sumSq / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) o[i] = weight[i] * (xr[i] * inv);
  }
}

void LayerNorm(const float* x, int64_t rows, int64_t n, const float* weight, const float* bias, float eps, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    float mean = 0.0f;
    for (int64_t i = 0; i < n; ++i) mean += xr[i];
    mean /= static_cast<float>(n);
    float var = 0.0f;
    for (int64_t i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) o[i] = (xr[i] - mean) * inv * weight[i] + bias[i];
  }
}

namespace {

float RowMax(const float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  return mx;
}

#ifdef QS_X86
#define QS_AVX2 __attribute__((target("avx2,fma")))

// exp(x) for 8 floats: range reduction by ln 2 and Cephes' degree-6 polynomial (relative error ~2e-7).
QS_AVX2 inline __m256 Exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.37f)), _mm256_set1_ps(-87.33f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
}

QS_AVX2 inline double Sum8(__m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  double s = 0.0;
  for (float f : lanes) s += f;
  return s;
}

// x[i] = exp(x[i] - mx) for all i; returns the sum (float lanes per 1024-block, blocks summed in double).
QS_AVX2 double ExpShiftedAvx2(float* x, int64_t n, float mx, bool store) {
  const __m256 shift = _mm256_set1_ps(mx);
  double total = 0.0;
  int64_t i = 0;
  while (i + 8 <= n) {
    __m256 acc = _mm256_setzero_ps();
    const int64_t blockEnd = std::min(n & ~int64_t{7}, i + 1024);
    for (; i < blockEnd; i += 8) {
      const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
      if (store) _mm256_storeu_ps(x + i, e);
      acc = _mm256_add_ps(acc, e);
    }
    total += Sum8(acc);
  }
  for (; i < n; ++i) {
    const float e = std::exp(x[i] - mx);
    if (store) x[i] = e;
    total += e;
  }
  return total;
}
#endif

}  // namespace

void SoftmaxReference(float* x, int64_t n) {
  const float mx = RowMax(x, n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void Softmax(float* x, int64_t n) {
#ifdef QS_X86
  if (UseAvx2()) {
    const float inv = static_cast<float>(1.0 / ExpShiftedAvx2(x, n, RowMax(x, n), true));
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
    return;
  }
#endif
  SoftmaxReference(x, n);
}

double NegLogLikelihoodReference(const float* logits, int64_t n, int32_t target) {
  const float mx = RowMax(logits, n);
  double sum = 0.0;  // double: 100k-entry vocabularies lose digits in a float sum
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  return std::log(sum) - static_cast<double>(logits[target] - mx);
}

double NegLogLikelihood(const float* logits, int64_t n, int32_t target) {
#ifdef QS_X86
  if (UseAvx2()) {
    const float mx = RowMax(logits, n);
    const double sum = ExpShiftedAvx2(const_cast<float*>(logits), n, mx, false);
    return std::log(sum) - static_cast<double>(logits[target] - mx);
  }
#endif
  return NegLogLikelihoodReference(logits, n, target);
}

void SiluMul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void GeluTanhMul(float* gate, const float* up, int64_t n) {
  const float beta = static_cast<float>(0.7978845608028654);  // sqrt(2 / pi)
  const float kappa = 0.044715f;
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    const float inner = beta * (x + kappa * x * x * x);
    gate[i] = 0.5f * x * (1.0f + std::tanh(inner)) * up[i];
  }
}

void Softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i] / cap) * cap;
}

void Relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.0f);
}

void AddInPlace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

#ifdef QS_X86
namespace {
__attribute__((target("avx2,f16c"))) int64_t NarrowToF16Avx2(const float* x, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i halves = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), halves);
  }
  return i;
}
}  // namespace
#endif

void NarrowToF16(const float* x, int64_t n, uint16_t* dst) {
  int64_t i = 0;
#ifdef QS_X86
  if (UseAvx2()) i = NarrowToF16Avx2(x, n, dst);
#endif
  for (; i < n; ++i) dst[i] = F32ToF16(x[i]);
}

void ApplyRope(float* x, int64_t heads, const RopeShape& shape, int64_t position, const float* invFreq) {
  const int64_t half = shape.rotaryDim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(position) * invFreq[i];
    const float c = std::cos(angle) * shape.scaling, s = std::sin(angle) * shape.scaling;
    for (int64_t h = 0; h < heads; ++h) {
      float* head = x + h * shape.headDim;
      const float a = head[i], b = head[i + half];
      head[i] = a * c - b * s;
      head[i + half] = b * c + a * s;
    }
  }
}

}  // namespace quantstudio::kernels
