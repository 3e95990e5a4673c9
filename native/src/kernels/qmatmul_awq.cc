#include "kernels/qmatmul_awq.h"

#include "core/bitpack.h"
#include "core/dtype.h"
#include "kernels/cpu.h"
#include "kernels/qmatmul_group.h"
#include "kernels/qmatmul_group_avx512.h"
#include "kernels/qmatmul_rows.h"

namespace quantstudio::kernels {
namespace {

class AwqGemmMatrix final : public QuantMatrix {
 public:
  explicit AwqGemmMatrix(const AwqPacked& p) : p_(p) {
    const int64_t groups = p.in / p.groupSize;
    f_.out = p.out;
    f_.gIdx.resize(static_cast<size_t>(p.in));
    for (int64_t c = 0; c < p.in; ++c) f_.gIdx[c] = static_cast<int32_t>(c / p.groupSize);
    f_.BuildRuns();
    f_.scale.resize(static_cast<size_t>(groups * p.out));
    f_.scaledZero.resize(f_.scale.size());
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t j = 0; j < p.out; ++j) {
        f_.scale[g * p.out + j] = Scale(g, j);
        f_.scaledZero[g * p.out + j] = Scale(g, j) * static_cast<float>(Zero(g, j));
      }
    }
  }

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const int64_t g = c / p_.groupSize;
    const uint32_t q = Nibble(LoadWord(p_.qweight, c * (p_.out / 8) + r / 8), kAwqNibbleOf[r % 8]);
    return (static_cast<float>(q) - static_cast<float>(Zero(g, r))) * Scale(g, r);
  }

  bool HasAvx2() const override { return true; }

  // Where the codes of input c, outputs j.. sit, and how many outputs one 64-byte line holds (GroupGemv's prefetch).
  static constexpr int64_t kOutputsPerLine = 128;
  const uint8_t* Line(int64_t c, int64_t j) const { return p_.qweight + 4 * (c * (p_.out / 8) + j / 8); }

#ifdef QS_X86
  // The bit offset of each lane's nibble when lanes 0–7 and 8–15 hold outputs j..j+7 and j+8..j+15.
  QS_AVX512 static __m512i kShifts16() {
    return _mm512_setr_epi32(0, 16, 4, 20, 8, 24, 12, 28, 0, 16, 4, 20, 8, 24, 12, 28);
  }
  QS_AVX2 void Load16(int64_t c, int64_t j, __m256* lo, __m256* hi) const {
    const __m256i shifts = _mm256_setr_epi32(0, 16, 4, 20, 8, 24, 12, 28);
    const __m256i mask = _mm256_set1_epi32(0xf);
    const int64_t word = c * (p_.out / 8) + j / 8;
    const __m256i w0 = _mm256_set1_epi32(static_cast<int>(LoadWord(p_.qweight, word)));
    const __m256i w1 = _mm256_set1_epi32(static_cast<int>(LoadWord(p_.qweight, word + 1)));
    *lo = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w0, shifts), mask));
    *hi = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w1, shifts), mask));
  }
  // Load16 with one 16-lane register, each code kept in place: words j/8 and j/8 + 1 in one 8-byte load, spread by
  // one cross-lane permute (word j/8 into the low eight lanes, the next into the high eight), each lane masked to its
  // nibble and converted unsigned: q·2^shift, exact in fp32. X16 scales x by 2^−shift per lane to match, so each
  // product is exactly q·x (for |x| ≥ 2^−98, where the scaled x stays normal).
  QS_AVX512 __m512 Load16x16(int64_t c, int64_t j) const {
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i words = _mm512_permutexvar_epi32(
        spread, _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(Line(c, j)))));
    const __m512i masks = _mm512_sllv_epi32(_mm512_set1_epi32(0xf), kShifts16());
    return _mm512_cvtepu32_ps(_mm512_and_si512(words, masks));
  }
  QS_AVX512 __m512 X16(float x) const {
    const __m512i exponent = _mm512_sub_epi32(_mm512_set1_epi32(127), kShifts16());
    return _mm512_mul_ps(_mm512_set1_ps(x), _mm512_castsi512_ps(_mm512_slli_epi32(exponent, 23)));
  }
  QS_AVX2 void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const override {
    if (UseAvx512()) return GroupGemvAvx512(*this, f_, x, j0, j1, y);
    GroupGemv(*this, f_, x, j0, j1, y);
  }
  QS_AVX2 void DecodePanelAvx2(int64_t j0, float* panel) const override { GroupDecodePanel(*this, f_, j0, panel); }
#else
  void GemvAvx2(const float*, int64_t, int64_t, float*) const override {}
  void DecodePanelAvx2(int64_t, float*) const override {}
#endif

 private:
  float Scale(int64_t g, int64_t r) const { return LoadScale(p_.scales, g * p_.out + r, p_.scalesType); }
  int32_t Zero(int64_t g, int64_t r) const {
    return static_cast<int32_t>(Nibble(LoadWord(p_.qzeros, g * (p_.out / 8) + r / 8), kAwqNibbleOf[r % 8]));
  }

  AwqPacked p_;
  GroupFactors f_;
};

class AwqGemvMatrix final : public RowCodesMatrix<AwqGemvMatrix> {
 public:
  explicit AwqGemvMatrix(const AwqPacked& p) : p_(p), groups_(p.in / p.groupSize) {
    for (int s = 0; s < 31; ++s) {
      if ((int64_t{1} << s) == p.groupSize) groupShift_ = s;
    }
    scale_.resize(static_cast<size_t>(p.out * groups_));
    scaledZero_.resize(scale_.size());
    for (int64_t r = 0; r < p.out; ++r) {
      for (int64_t g = 0; g < groups_; ++g) {
        scale_[r * groups_ + g] = Scale(r, g);
        scaledZero_[r * groups_ + g] = Scale(r, g) * static_cast<float>(Zero(r, g));
      }
    }
  }

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const int64_t g = c / p_.groupSize;
    const uint32_t q = GetBits(p_.qweight + 4 * r * (p_.in / 8), 1, c, 4);
    return (static_cast<float>(q) - static_cast<float>(Zero(r, g))) * Scale(r, g);
  }

  // 8 inputs of one word share a group when the group size is a multiple of 8; the group is found by a
  // shift (AWQ's group sizes are powers of two).
  bool HasAvx2() const override { return p_.groupSize >= 8 && groupShift_ >= 0; }

#ifdef QS_X86
  QS_AVX2 __m256 Dequant8(int64_t r, int64_t c) const {
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    const __m256i w = _mm256_set1_epi32(static_cast<int>(LoadWord(p_.qweight, r * (p_.in / 8) + c / 8)));
    const __m256 q = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, shifts), _mm256_set1_epi32(0xf)));
    const int64_t at = r * groups_ + (c >> groupShift_);
    return _mm256_fmsub_ps(q, _mm256_set1_ps(scale_[at]), _mm256_set1_ps(scaledZero_[at]));
  }
#endif

 private:
  float Scale(int64_t r, int64_t g) const { return F16ToF32(LoadHalf(p_.scales, r * p_.zerosWidth * 8 + g)); }
  int32_t Zero(int64_t r, int64_t g) const {
    return static_cast<int32_t>(GetBits(p_.qzeros + 4 * r * p_.zerosWidth, 1, g, 4));
  }

  AwqPacked p_;
  int64_t groups_;
  int groupShift_ = -1;                    // log2(groupSize), −1 when not a power of two
  std::vector<float> scale_, scaledZero_;  // [out × groups]
};

}  // namespace

std::unique_ptr<QuantMatrix> MakeAwqGemmMatrix(const AwqPacked& packed) {
  return std::make_unique<AwqGemmMatrix>(packed);
}
std::unique_ptr<QuantMatrix> MakeAwqGemvMatrix(const AwqPacked& packed) {
  return std::make_unique<AwqGemvMatrix>(packed);
}

}  // namespace quantstudio::kernels
