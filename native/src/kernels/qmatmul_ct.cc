#include "kernels/qmatmul_ct.h"

#include <vector>

#include "core/bitpack.h"
#include "kernels/qmatmul_group.h"
#include "kernels/qmatmul_rows.h"

namespace quantstudio::kernels {
namespace {

// Rows of codes along the input, one scale and zero per (row, group): the AWQ GEMV arrangement, so the
// same row kernels (qmatmul_rows.h) run it; 8-bit codes are plain bytes.
class CtPackedMatrix final : public RowCodesMatrix<CtPackedMatrix> {
 public:
  explicit CtPackedMatrix(const CtPacked& p)
      : p_(p), groupSize_(p.in / p.groups), rowWords_((p.in * p.bits + 31) / 32) {
    for (int s = 0; s < 31; ++s)
      if ((int64_t{1} << s) == groupSize_) groupShift_ = s;
    scale_.resize(static_cast<size_t>(p.out * p.groups));
    scaledZero_.resize(scale_.size());
    for (int64_t r = 0; r < p.out; ++r) {
      for (int64_t g = 0; g < p.groups; ++g) {
        const float s = LoadScale(p.scales, r * p.groups + g, p.scalesType);
        scale_[r * p.groups + g] = s;
        scaledZero_[r * p.groups + g] = s * static_cast<float>(Zero(r, g));
      }
    }
  }

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const int64_t g = c / groupSize_;
    const uint32_t u = GetBits(p_.packed + 4 * r * rowWords_, 1, c, p_.bits);
    return (static_cast<float>(u) - static_cast<float>(Zero(r, g))) * scale_[r * p_.groups + g];
  }

  // 8 inputs of one Dequant8 share a group when the group size is a multiple of 8.
  bool HasAvx2() const override { return groupSize_ % 8 == 0; }

#ifdef QS_X86
  QS_AVX2 __m256 Dequant8(int64_t r, int64_t c) const {
    const uint8_t* row = p_.packed + 4 * r * rowWords_;
    __m256i u;
    if (p_.bits == 8) {
      u = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + c)));
    } else {
      const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
      const __m256i w = _mm256_set1_epi32(static_cast<int>(LoadWord(row, c / 8)));
      u = _mm256_and_si256(_mm256_srlv_epi32(w, shifts), _mm256_set1_epi32(0xf));
    }
    const int64_t at = r * p_.groups + (groupShift_ >= 0 ? c >> groupShift_ : c / groupSize_);
    return _mm256_fmsub_ps(_mm256_cvtepi32_ps(u), _mm256_set1_ps(scale_[at]), _mm256_set1_ps(scaledZero_[at]));
  }
#endif

 private:
  int32_t Zero(int64_t r, int64_t g) const {
    if (!p_.zeroPoints) return int32_t{1} << (p_.bits - 1);
    return static_cast<int32_t>(GetBits(p_.zeroPoints + 4 * g, p_.groups, r, p_.bits));
  }

  CtPacked p_;
  int64_t groupSize_, rowWords_;
  int groupShift_ = -1;                    // log2(groupSize), −1 when not a power of two
  std::vector<float> scale_, scaledZero_;  // [out × groups]
};

}  // namespace

std::unique_ptr<QuantMatrix> MakeCtPackedMatrix(const CtPacked& packed) {
  return std::make_unique<CtPackedMatrix>(packed);
}

}  // namespace quantstudio::kernels
