// Group-wise integer formats whose codes for neighbouring outputs of one input column sit side by side
// (GPTQ v1, AWQ GEMM): W[j][c] = (q − zero[g][j]) · scale[g][j] with g = gIdx[c]. The kernels unpack
// 16 outputs' codes of one input column into two registers. Decode walks the packed data in storage
// order over a long range of outputs, sums x·q per run of columns sharing a group, and applies the group
// once per run: y += s·Σxq − s·z·Σx. Prefill writes the codes' dequantized values into the panel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/bitpack.h"
#include "core/dtype.h"
#include "kernels/qmatmul.h"
#include "kernels/qmatmul_simd.h"

namespace quantstudio::kernels {

inline uint16_t LoadHalf(const uint8_t* base, int64_t index) {
  uint16_t h;
  std::memcpy(&h, base + 2 * index, 2);
  return h;
}

/** Element `index` of a scales tensor stored as fp16, bf16 or fp32. */
inline float LoadScale(const uint8_t* base, int64_t index, DType type) {
  if (type == DType::F32) {
    float v;
    std::memcpy(&v, base + 4 * index, 4);
    return v;
  }
  const uint16_t h = LoadHalf(base, index);
  return type == DType::BF16 ? Bf16ToF32(h) : F16ToF32(h);
}

/** Decode over column-packed codes reads the span [j0, j1) of one packed row, then the same span of the next row
 *  one row stride further on: short runs, one or a few per 4 KiB page, that the hardware prefetchers do not follow
 *  across pages (the 349M Llama's 4-bit decode stalled on these loads for over half its time). The kernels ask for
 *  each 64-byte line this many packed rows ahead. */
constexpr int64_t kPrefetchRows = 4;

/** GroupGemv's lookahead in input columns: it asks for the lines of the input columns this far ahead, each a
 *  packed row (AWQ GEMM) or part of one (GPTQ's 3-bit streams and act-order runs). */
constexpr int64_t kPrefetchInputs = 16;

/** Whether GroupGemv asks for the line of Codes::Line(c, j) at output j (once per 64-byte line, and at j0). */
template <class Codes>
inline bool StartsLine(int64_t j, int64_t j0) {
  return j == j0 || j % Codes::kOutputsPerLine == 0;
}

/** Columns [begin, end) that share one group. */
struct GroupRun {
  int64_t begin, end;
  int32_t group;
};

/** The per-group factors in fp32, [groups × out], and the runs of equal groups in column order
 *  (one run per group when groups are in column order; short runs under GPTQ act-order). */
struct GroupFactors {
  int64_t out = 0;
  std::vector<float> scale;       // s
  std::vector<float> scaledZero;  // s · z
  std::vector<int32_t> gIdx;      // [in]
  std::vector<GroupRun> runs;

  void BuildRuns() {
    runs.clear();
    for (int64_t c = 0; c < static_cast<int64_t>(gIdx.size()); ++c) {
      if (runs.empty() || runs.back().group != gIdx[c])
        runs.push_back({c, c + 1, gIdx[c]});
      else
        runs.back().end = c + 1;
    }
  }
};

#ifdef QS_X86
/** Adds a run's partial sums into y[j0, j1): y += s·acc − s·z·Σx. */
QS_AVX2 inline void ApplyGroup(const GroupFactors& f, int32_t group, float xs, const float* acc, int64_t j0, int64_t j1,
                               float* y) {
  const float* s = f.scale.data() + group * f.out;
  const float* sz = f.scaledZero.data() + group * f.out;
  const __m256 xsb = _mm256_set1_ps(xs);
  for (int64_t j = j0; j < j1; j += 8) {
    const __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(s + j), _mm256_loadu_ps(acc + (j - j0)), _mm256_loadu_ps(y + j));
    _mm256_storeu_ps(y + j, _mm256_fnmadd_ps(_mm256_loadu_ps(sz + j), xsb, t));
  }
}

// Codes::Load16(c, j, &lo, &hi) yields the codes of outputs j..j+15 at input c as floats. Each input
// column's packed words for [j0, j1) are contiguous, so the loop walks the packed rows in order, asks for
// the lines kPrefetchInputs columns ahead (Codes::Line), and keeps the run's partial sums Σ x·q in a small
// L1 buffer.
template <class Codes>
QS_AVX2 void GroupGemv(const Codes& codes, const GroupFactors& f, const float* x, int64_t j0, int64_t j1, float* y) {
  const int64_t in = static_cast<int64_t>(f.gIdx.size());
  thread_local std::vector<float> acc;
  acc.assign(static_cast<size_t>(j1 - j0), 0.0f);
  for (int64_t j = j0; j < j1; ++j) y[j] = 0.0f;
  for (const GroupRun& run : f.runs) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    float xs = 0.0f;
    int64_t c = run.begin;
    for (; c < run.end; c += 4) {
      const int u = static_cast<int>(std::min<int64_t>(4, run.end - c));
      const int64_t ahead = std::min(c + kPrefetchInputs, in - u);
      for (int64_t j = j0; j < j1; j += 16) {
        if (StartsLine<Codes>(j, j0)) {
          for (int k = 0; k < u; ++k)
            _mm_prefetch(reinterpret_cast<const char*>(codes.Line(ahead + k, j)), _MM_HINT_T0);
        }
        float* a = acc.data() + (j - j0);
        __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
        for (int k = 0; k < u; ++k) {
          __m256 lo, hi;
          codes.Load16(c + k, j, &lo, &hi);
          const __m256 xb = _mm256_set1_ps(x[c + k]);
          a0 = _mm256_fmadd_ps(lo, xb, a0);
          a1 = _mm256_fmadd_ps(hi, xb, a1);
        }
        _mm256_storeu_ps(a, a0);
        _mm256_storeu_ps(a + 8, a1);
      }
      for (int k = 0; k < u; ++k) xs += x[c + k];
    }
    ApplyGroup(f, run.group, xs, acc.data(), j0, j1, y);
  }
}

/** `order` maps a stored column to its input column (null when stored in input order). */
template <class Codes>
QS_AVX2 void GroupDecodePanel(const Codes& codes, const GroupFactors& f, int64_t j0, float* panel,
                              const int32_t* order = nullptr) {
  const int64_t in = static_cast<int64_t>(f.gIdx.size());
  for (int64_t c = 0; c < in; ++c) {
    __m256 lo, hi;
    codes.Load16(c, j0, &lo, &hi);
    const float* s = f.scale.data() + f.gIdx[c] * f.out + j0;
    const float* sz = f.scaledZero.data() + f.gIdx[c] * f.out + j0;
    float* dst = panel + (order ? order[c] : c) * 16;
    _mm256_storeu_ps(dst, _mm256_fmsub_ps(lo, _mm256_loadu_ps(s), _mm256_loadu_ps(sz)));
    _mm256_storeu_ps(dst + 8, _mm256_fmsub_ps(hi, _mm256_loadu_ps(s + 8), _mm256_loadu_ps(sz + 8)));
  }
}
#endif

}  // namespace quantstudio::kernels
