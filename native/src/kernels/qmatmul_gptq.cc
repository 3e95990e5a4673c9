#include "kernels/qmatmul_gptq.h"

#include <algorithm>
#include <cmath>

#include "core/bitpack.h"
#include "core/dtype.h"
#include "kernels/cpu.h"
#include "kernels/qmatmul_group.h"
#include "kernels/qmatmul_group_avx512.h"
#include "kernels/simd_avx512.h"

namespace quantstudio::kernels {
namespace {

class GptqMatrix final : public QuantMatrix {
 public:
  GptqMatrix(const GptqPacked& p, std::unique_ptr<const GptqCodes> kept) : kept_(std::move(kept)), p_(p) {
    f_.out = p.out;
    f_.gIdx.resize(static_cast<size_t>(p.in));
    for (int64_t c = 0; c < p.in; ++c) f_.gIdx[c] = Group(c);
    f_.BuildRuns();
    if (static_cast<int64_t>(f_.runs.size()) > p.groups) SortColumnsByGroup();
    const int64_t perWord = 32 / p.bits;
    wordAligned_ = p.bits != 3;
    for (const GroupRun& run : f_.runs) {
      if (run.begin % perWord != 0 || run.end % perWord != 0) wordAligned_ = false;
    }
    f_.scale.resize(static_cast<size_t>(p.groups * p.out));
    f_.scaledZero.resize(f_.scale.size());
    for (int64_t g = 0; g < p.groups; ++g) {
      for (int64_t j = 0; j < p.out; ++j) {
        const float s = LoadScale(p.scales, g * p.out + j, p.scalesType);
        f_.scale[g * p.out + j] = s;
        f_.scaledZero[g * p.out + j] = s * static_cast<float>(Zero(g, j));
      }
    }
  }

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const int64_t g = Group(c);
    const uint32_t q = GetBits(p_.qweight + 4 * r, p_.out, c, p_.bits);
    const float s = LoadScale(p_.scales, g * p_.out + r, p_.scalesType);
    return (static_cast<float>(q) - static_cast<float>(Zero(g, r))) * s;
  }

  bool HasAvx2() const override { return true; }

  // Where the codes of input c, outputs j.. start, and how many outputs one 64-byte line holds (GroupGemv's prefetch).
  static constexpr int64_t kOutputsPerLine = 16;
  const uint8_t* Line(int64_t c, int64_t j) const { return codes_ + 4 * ((c * p_.bits >> 5) * p_.out + j); }

#ifdef QS_X86
  // The codes of outputs j..j+15 at input c: one shift of 16 words (two when the value straddles).
  QS_AVX2 void Load16(int64_t c, int64_t j, __m256* lo, __m256* hi) const {
    const int64_t bit = c * p_.bits;
    const int shift = static_cast<int>(bit & 31);
    const auto* row = reinterpret_cast<const __m256i*>(codes_ + 4 * ((bit >> 5) * p_.out + j));
    const __m128i count = _mm_cvtsi32_si128(shift);
    __m256i v0 = _mm256_srl_epi32(_mm256_loadu_si256(row), count);
    __m256i v1 = _mm256_srl_epi32(_mm256_loadu_si256(row + 1), count);
    if (shift + p_.bits > 32) {
      const auto* next = reinterpret_cast<const __m256i*>(codes_ + 4 * (((bit >> 5) + 1) * p_.out + j));
      const __m128i back = _mm_cvtsi32_si128(32 - shift);
      v0 = _mm256_or_si256(v0, _mm256_sll_epi32(_mm256_loadu_si256(next), back));
      v1 = _mm256_or_si256(v1, _mm256_sll_epi32(_mm256_loadu_si256(next + 1), back));
    }
    const __m256i mask = _mm256_set1_epi32((1 << p_.bits) - 1);
    *lo = _mm256_cvtepi32_ps(_mm256_and_si256(v0, mask));
    *hi = _mm256_cvtepi32_ps(_mm256_and_si256(v1, mask));
  }

  // Load16 with one 16-lane register.
  QS_AVX512 __m512 Load16x16(int64_t c, int64_t j) const {
    const int64_t bit = c * p_.bits;
    const int shift = static_cast<int>(bit & 31);
    __m512i v = _mm512_srl_epi32(_mm512_loadu_si512(codes_ + 4 * ((bit >> 5) * p_.out + j)), _mm_cvtsi32_si128(shift));
    if (shift + p_.bits > 32) {
      const __m512i next = _mm512_loadu_si512(codes_ + 4 * (((bit >> 5) + 1) * p_.out + j));
      v = _mm512_or_si512(v, _mm512_sll_epi32(next, _mm_cvtsi32_si128(32 - shift)));
    }
    return _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32((1 << p_.bits) - 1)));
  }
  QS_AVX512 __m512 X16(float x) const { return _mm512_set1_ps(x); }

  QS_AVX2 void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const override {
    if (!order_.empty()) {
      // Columns are stored sorted by group: x follows them.
      thread_local std::vector<float> sortedX;
      sortedX.resize(static_cast<size_t>(p_.in));
      for (int64_t i = 0; i < p_.in; ++i) sortedX[i] = x[order_[i]];
      x = sortedX.data();
    }
    if (wordAligned_ && UseAvx512()) {
      switch (p_.bits) {
        case 2: return GemvWordsAvx512<2>(x, j0, j1, y);
        case 4: return GemvWordsAvx512<4>(x, j0, j1, y);
        case 8: return GemvWordsAvx512<8>(x, j0, j1, y);
        default: break;
      }
    }
    switch (wordAligned_ ? p_.bits : 0) {
      case 2: return GemvWords<2>(x, j0, j1, y);
      case 4: return GemvWords<4>(x, j0, j1, y);
      case 8: return GemvWords<8>(x, j0, j1, y);
      default: return UseAvx512() ? GroupGemvAvx512(*this, f_, x, j0, j1, y) : GroupGemv(*this, f_, x, j0, j1, y);
    }
  }
  QS_AVX2 void DecodePanelAvx2(int64_t j0, float* panel) const override {
    GroupDecodePanel(*this, f_, j0, panel, order_.empty() ? nullptr : order_.data());
  }
#else
  void GemvAvx2(const float*, int64_t, int64_t, float*) const override {}
  void DecodePanelAvx2(int64_t, float*) const override {}
#endif

 private:
  // Act-order (desc_act) permutes g_idx, which would cut decode into one group run per column or two.
  // A copy of qweight with the columns sorted by group (the bit streams repacked) restores one run per
  // group; x is gathered into the same order per call. The reference Weight() keeps reading the original.
  void SortColumnsByGroup() {
    order_.resize(static_cast<size_t>(p_.in));
    for (int64_t c = 0; c < p_.in; ++c) order_[c] = static_cast<int32_t>(c);
    std::stable_sort(order_.begin(), order_.end(), [&](int32_t a, int32_t b) { return f_.gIdx[a] < f_.gIdx[b]; });
    sorted_.assign(static_cast<size_t>(p_.in * p_.bits / 32 * p_.out), 0u);
    for (int64_t j = 0; j < p_.out; ++j) {
      for (int64_t i = 0; i < p_.in; ++i) {
        const uint32_t v = GetBits(p_.qweight + 4 * j, p_.out, order_[i], p_.bits);
        const int64_t bit = i * p_.bits;
        const int shift = static_cast<int>(bit % 32);
        sorted_[(bit / 32) * p_.out + j] |= v << shift;
        if (shift + p_.bits > 32) sorted_[(bit / 32 + 1) * p_.out + j] |= v >> (32 - shift);
      }
    }
    std::vector<int32_t> sortedGroups(static_cast<size_t>(p_.in));
    for (int64_t i = 0; i < p_.in; ++i) sortedGroups[i] = f_.gIdx[order_[i]];
    f_.gIdx = std::move(sortedGroups);
    f_.BuildRuns();
    codes_ = reinterpret_cast<const uint8_t*>(sorted_.data());
  }

  int32_t Group(int64_t c) const {
    return p_.gIdx ? static_cast<int32_t>(LoadWord(p_.gIdx, c)) : static_cast<int32_t>(c / p_.groupSize);
  }

  // v1 stores zero − 1: add the ones back word-wise (exact even where a zero of 0 borrowed), or per
  // value for 3 bits, whose slots straddle words. v2 stores the zero as is.
  int32_t Zero(int64_t g, int64_t r) const {
    const int64_t words = p_.out * p_.bits / 32;
    const uint8_t* line = p_.qzeros + 4 * g * words;
    const uint32_t offset = p_.v2Zeros ? 0u : 1u;
    if (p_.bits == 3) return static_cast<int32_t>((GetBits(line, 1, r, 3) + offset) & 7u);
    const int64_t bit = r * p_.bits;
    const uint32_t word = LoadWord(line, bit / 32) + (p_.v2Zeros ? 0u : OnesWord(p_.bits));
    return static_cast<int32_t>((word >> (bit % 32)) & ((1u << p_.bits) - 1u));
  }

#ifdef QS_X86
  // Decode when every group run covers whole words (2, 4, 8 bits, groups in column order): each pair of
  // 16-output word loads serves 32/BITS input columns; packed rows are read in order and the run's partial
  // sums stay in a small L1 buffer. Code i < 32/BITS − 1 is masked in place (q·2^(BITS·i), exact in fp32) and
  // meets x scaled by 2^−BITS·i (exact: see InPlaceX), so each product is exactly q·x without a shift; the top
  // code is shifted down (in place it would read as negative) and meets x as is.
  template <int BITS>
  static int32_t InPlaceMask(int i) {
    return static_cast<int32_t>(((1u << BITS) - 1) << (i * BITS));
  }
  template <int BITS>
  static const float* InPlaceX(const float* x, int64_t in) {
    constexpr int kPer = 32 / BITS;
    float factor[kPer];
    for (int i = 0; i < kPer; ++i) factor[i] = i == kPer - 1 ? 1.0f : std::ldexp(1.0f, -BITS * i);
    thread_local std::vector<float> scaled;
    scaled.resize(static_cast<size_t>(in));
    for (int64_t c = 0; c < in; c += kPer) {
      for (int i = 0; i < kPer; ++i) scaled[c + i] = x[c + i] * factor[i];
    }
    return scaled.data();
  }

  template <int BITS>
  QS_AVX2 void GemvWords(const float* x, int64_t j0, int64_t j1, float* y) const {
    constexpr int kPer = 32 / BITS;
    const int64_t words = p_.in / kPer;
    const float* xin = InPlaceX<BITS>(x, p_.in);
    thread_local std::vector<float> acc;
    acc.assign(static_cast<size_t>(j1 - j0), 0.0f);
    for (int64_t j = j0; j < j1; ++j) y[j] = 0.0f;
    for (const GroupRun& run : f_.runs) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      float xs = 0.0f;
      for (int64_t word = run.begin / kPer; word < run.end / kPer; ++word) {
        const uint8_t* row = codes_ + 4 * word * p_.out;
        const uint8_t* ahead = word + kPrefetchRows < words ? row + 4 * kPrefetchRows * p_.out : nullptr;
        const float* xw = xin + word * kPer;
        for (int64_t j = j0; j < j1; j += 16) {
          if (ahead) _mm_prefetch(reinterpret_cast<const char*>(ahead + 4 * j), _MM_HINT_T0);
          const auto* w = reinterpret_cast<const __m256i*>(row + 4 * j);
          const __m256i v0 = _mm256_loadu_si256(w), v1 = _mm256_loadu_si256(w + 1);
          float* a = acc.data() + (j - j0);
          // Two chains per half: even and odd inputs.
          __m256 e0 = _mm256_loadu_ps(a), e1 = _mm256_loadu_ps(a + 8);
          __m256 o0 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps();
#pragma GCC unroll 16
          for (int i = 0; i < kPer; i += 2) {
            const __m256 xe = _mm256_broadcast_ss(xw + i), xo = _mm256_broadcast_ss(xw + i + 1);
            const __m256i even = _mm256_set1_epi32(InPlaceMask<BITS>(i));
            e0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v0, even)), xe, e0);
            e1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v1, even)), xe, e1);
            if (i + 1 < kPer - 1) {
              const __m256i odd = _mm256_set1_epi32(InPlaceMask<BITS>(i + 1));
              o0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v0, odd)), xo, o0);
              o1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v1, odd)), xo, o1);
            } else {
              o0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v0, (kPer - 1) * BITS)), xo, o0);
              o1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v1, (kPer - 1) * BITS)), xo, o1);
            }
          }
          _mm256_storeu_ps(a, _mm256_add_ps(e0, o0));
          _mm256_storeu_ps(a + 8, _mm256_add_ps(e1, o1));
        }
        for (int i = 0; i < kPer; ++i) xs += x[word * kPer + i];
      }
      ApplyGroup(f_, run.group, xs, acc.data(), j0, j1, y);
    }
  }

  // GemvWords with 16 outputs per register: one 64-byte load of packed words serves 16 outputs × 32/BITS inputs.
  template <int BITS>
  QS_AVX512 void GemvWordsAvx512(const float* x, int64_t j0, int64_t j1, float* y) const {
    constexpr int kPer = 32 / BITS;
    const int64_t words = p_.in / kPer;
    const float* xin = InPlaceX<BITS>(x, p_.in);
    thread_local std::vector<float> acc;
    acc.assign(static_cast<size_t>(j1 - j0), 0.0f);
    for (int64_t j = j0; j < j1; ++j) y[j] = 0.0f;
    for (const GroupRun& run : f_.runs) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      float xs = 0.0f;
      for (int64_t word = run.begin / kPer; word < run.end / kPer; ++word) {
        const uint8_t* row = codes_ + 4 * word * p_.out;
        const uint8_t* ahead = word + kPrefetchRows < words ? row + 4 * kPrefetchRows * p_.out : nullptr;
        const float* xw = xin + word * kPer;
        for (int64_t j = j0; j < j1; j += 16) {
          if (ahead) _mm_prefetch(reinterpret_cast<const char*>(ahead + 4 * j), _MM_HINT_T0);
          const __m512i v = _mm512_loadu_si512(row + 4 * j);
          float* a = acc.data() + (j - j0);
          // Two chains: even and odd inputs.
          __m512 e = _mm512_loadu_ps(a), o = _mm512_setzero_ps();
#pragma GCC unroll 16
          for (int i = 0; i < kPer; i += 2) {
            const __m512i even = _mm512_set1_epi32(InPlaceMask<BITS>(i));
            e = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, even)), _mm512_set1_ps(xw[i]), e);
            const __m512i odd = i + 1 < kPer - 1 ? _mm512_and_si512(v, _mm512_set1_epi32(InPlaceMask<BITS>(i + 1)))
                                                 : _mm512_srli_epi32(v, (kPer - 1) * BITS);
            o = _mm512_fmadd_ps(_mm512_cvtepi32_ps(odd), _mm512_set1_ps(xw[i + 1]), o);
          }
          _mm512_storeu_ps(a, _mm512_add_ps(e, o));
        }
        for (int i = 0; i < kPer; ++i) xs += x[word * kPer + i];
      }
      ApplyGroupAvx512(f_, run.group, xs, acc.data(), j0, j1, y);
    }
  }
#endif

  std::unique_ptr<const GptqCodes> kept_;  // codes repacked from another layout, when p_ points into them
  GptqPacked p_;
  GroupFactors f_;
  const uint8_t* codes_ = p_.qweight;  // what the fast paths read: the mapping (or kept_), or sorted_
  std::vector<uint32_t> sorted_;       // act-order only: qweight with columns sorted by group
  std::vector<int32_t> order_;         // act-order only: storage position → original column
  bool wordAligned_ = false;
};

}  // namespace

std::unique_ptr<QuantMatrix> MakeGptqMatrix(const GptqPacked& packed) {
  return std::make_unique<GptqMatrix>(packed, nullptr);
}

std::unique_ptr<QuantMatrix> MakeGptqMatrix(const GptqPacked& packed, std::unique_ptr<const GptqCodes> codes) {
  return std::make_unique<GptqMatrix>(packed, std::move(codes));
}

}  // namespace quantstudio::kernels
