#include "kernels/attention.h"

#include <vector>

#include "core/thread_pool.h"
#include "kernels/attention_decode.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"

namespace quantstudio::kernels {
namespace {

// Up to this many query rows the tile kernel (attention_decode.cc) is faster at 1, 2 and 16 threads (8 heads,
// 4 kv heads, 256 cached positions: ~1.5-2× at 8 rows, ~1.2× at 16). Past it results are mixed: prefill of
// tiny-llama runs level either way, and single-threaded on long caches with wide heads (128 rows over 384
// positions, headDim 64; 256 over 256, headDim 128) the matmul path is ~10% ahead, so prefill stays there.
constexpr int64_t kDecodeMaxRows = 16;

// The reference, one query row of one head: a dot product per visible key, softmax, weighted sum of values.
void AttendOneReference(const float* q, int64_t visible, const float* k, const float* v, int64_t dim, float scale,
                        float softcap, std::vector<float>& scores, float* out) {
  scores.resize(static_cast<size_t>(visible));
  for (int64_t t = 0; t < visible; ++t) {
    float dot = 0.0f;
    for (int64_t j = 0; j < dim; ++j) dot += q[j] * k[t * dim + j];
    scores[t] = dot * scale;
  }
  if (softcap > 0.0f) Softcap(scores.data(), visible, softcap);
  SoftmaxReference(scores.data(), visible);
  for (int64_t j = 0; j < dim; ++j) out[j] = 0.0f;
  for (int64_t t = 0; t < visible; ++t)
    for (int64_t j = 0; j < dim; ++j) out[j] += scores[t] * v[t * dim + j];
}

// vt[j][t] = v[t][j] as fp32 for t < visible: P·V's right-hand side, as MatMul takes it.
void TransposeValues(DType dtype, const uint8_t* v, int64_t visible, int64_t d, float* vt) {
  if (dtype == DType::F16) {
    const auto* halves = reinterpret_cast<const uint16_t*>(v);
    for (int64_t t = 0; t < visible; ++t)
      for (int64_t j = 0; j < d; ++j) vt[j * visible + t] = F16ToF32(halves[t * d + j]);
    return;
  }
  const auto* floats = reinterpret_cast<const float*>(v);
  for (int64_t t = 0; t < visible; ++t)
    for (int64_t j = 0; j < d; ++j) vt[j * visible + t] = floats[t * d + j];
}

// The whole cache of one layer as fp32 (the reference reads it so; halves widen exactly).
std::vector<float> WidenCache(DType dtype, const void* cache, const AttentionShape& s) {
  const size_t n = static_cast<size_t>(s.kvHeads * s.capacity * s.headDim);
  if (dtype == DType::F16) {
    std::vector<float> wide(n);
    F16ToF32(static_cast<const uint8_t*>(cache), static_cast<int64_t>(n), wide.data());
    return wide;
  }
  const auto* floats = static_cast<const float*>(cache);
  return std::vector<float>(floats, floats + n);
}

// Prefill path, one head at a time: scores = Q·Kᵀ and out = P·V as matmuls (the GEMM kernel), so many query
// rows run at matmul speed; the transposed copy of V it needs is small next to the P·V product at prefill
// sizes. Heads are spread over the pool; the matmuls inside run on the calling thread.
void RunAsMatMuls(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& s, float scale,
                  float* out) {
  const int64_t group = s.heads / s.kvHeads;
  const int64_t width = s.heads * s.headDim;
  const int64_t d = s.headDim;
  const int64_t visible = pos0 + m;
  const size_t element = DTypeSize(kv.dtype);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(s.heads), 1, [&](size_t begin, size_t end) {
    std::vector<float> qh(static_cast<size_t>(m * d)), scores(static_cast<size_t>(m * visible)),
        vt(static_cast<size_t>(d * visible)), oh(static_cast<size_t>(m * d));
    for (size_t hu = begin; hu < end; ++hu) {
      const int64_t h = static_cast<int64_t>(hu);
      const size_t base = static_cast<size_t>((h / group) * s.capacity * d) * element;
      const auto* keys = static_cast<const uint8_t*>(kv.keys) + base;
      const auto* values = static_cast<const uint8_t*>(kv.values) + base;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < d; ++j) qh[i * d + j] = q[i * width + h * d + j] * scale;
      MatMul(qh.data(), m, MatrixRef{kv.dtype, keys, visible, d}, nullptr, scores.data());
      for (int64_t i = 0; i < m; ++i) {
        float* row = scores.data() + i * visible;
        const int64_t seen = pos0 + i + 1;                      // causal: later positions get zero weight
        const int64_t from = FirstVisible(pos0 + i, s.window);  // and earlier ones outside the window
        if (s.softcap > 0.0f) Softcap(row + from, seen - from, s.softcap);
        Softmax(row + from, seen - from);
        for (int64_t t = 0; t < from; ++t) row[t] = 0.0f;
        for (int64_t t = seen; t < visible; ++t) row[t] = 0.0f;
      }
      TransposeValues(kv.dtype, values, visible, d, vt.data());
      MatMul(scores.data(), m, MatrixRef{DType::F32, vt.data(), d, visible}, nullptr, oh.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < d; ++j) out[i * width + h * d + j] = oh[i * d + j];
    }
  });
}

}  // namespace

void Attention(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& shape, float scale,
               float* out) {
  if (m <= kDecodeMaxRows) return AttentionDecode(q, m, pos0, kv, shape, scale, out);
  RunAsMatMuls(q, m, pos0, kv, shape, scale, out);
}

void AttentionReference(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& s, float scale,
                        float* out) {
  const int64_t group = s.heads / s.kvHeads;
  const int64_t width = s.heads * s.headDim;
  const std::vector<float> keys = WidenCache(kv.dtype, kv.keys, s), values = WidenCache(kv.dtype, kv.values, s);
  const float* kCache = keys.data();
  const float* vCache = values.data();
  std::vector<float> scores;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t h = 0; h < s.heads; ++h) {
      const int64_t from = FirstVisible(pos0 + i, s.window);
      const size_t base = static_cast<size_t>(((h / group) * s.capacity + from) * s.headDim);
      AttendOneReference(q + i * width + h * s.headDim, pos0 + i + 1 - from, kCache + base, vCache + base, s.headDim,
                         scale, s.softcap, scores, out + i * width + h * s.headDim);
    }
  }
}

}  // namespace quantstudio::kernels
