#include "kernels/qmatmul_awq.h"

#include <stdexcept>

#include "core/bitpack.h"
#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/qmatmul_group.h"
#include "kernels/qmatmul_gptq.h"
#include "kernels/qmatmul_rows.h"

namespace quantstudio::kernels {
namespace {

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

std::unique_ptr<QuantMatrix> MakeAwqGemmMatrix(const AwqPacked& p) {
  if (p.in % 8 != 0 || p.out % 8 != 0 || p.groupSize <= 0 || p.in % p.groupSize != 0) {
    throw std::invalid_argument("AWQ GEMM: in and out must be multiples of 8 and in a multiple of the group size");
  }
  const int64_t words = p.out / 8, groups = p.in / p.groupSize;
  auto codes = std::make_unique<GptqCodes>();
  // qweight: AWQ word (c, w) nibble i is output 8w + kAwqOrder[i] at input c; GPTQ word (c / 8, o) nibble c % 8.
  codes->qweight.assign(static_cast<size_t>(p.in / 8 * p.out), 0u);
  uint32_t* qweight = codes->qweight.data();
  DefaultThreadPool().ParallelFor(static_cast<size_t>(p.in / 8), 16, [&](size_t begin, size_t end) {
    for (auto block = static_cast<int64_t>(begin); block < static_cast<int64_t>(end); ++block) {
      uint32_t* out = qweight + block * p.out;
      for (int64_t c = 8 * block; c < 8 * block + 8; ++c) {
        const int shift = static_cast<int>(4 * (c % 8));
        for (int64_t w = 0; w < words; ++w) {
          const uint32_t word = LoadWord(p.qweight, c * words + w);
          for (int i = 0; i < 8; ++i) out[8 * w + kAwqOrder[i]] |= Nibble(word, i) << shift;
        }
      }
    }
  });
  // qzeros: the same words per group, put in output order (GPTQ's word-wise zeros, kept as is: v2Zeros).
  codes->qzeros.assign(static_cast<size_t>(groups * words), 0u);
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t w = 0; w < words; ++w) {
      const uint32_t word = LoadWord(p.qzeros, g * words + w);
      uint32_t ordered = 0;
      for (int i = 0; i < 8; ++i) ordered |= Nibble(word, i) << (4 * kAwqOrder[i]);
      codes->qzeros[g * words + w] = ordered;
    }
  }
  const GptqPacked gptq{reinterpret_cast<const uint8_t*>(codes->qweight.data()),
                        reinterpret_cast<const uint8_t*>(codes->qzeros.data()),
                        p.scales,
                        nullptr,
                        4,
                        p.in,
                        p.out,
                        groups,
                        p.groupSize,
                        p.scalesType,
                        true};
  return MakeGptqMatrix(gptq, std::move(codes));
}
std::unique_ptr<QuantMatrix> MakeAwqGemvMatrix(const AwqPacked& packed) {
  return std::make_unique<AwqGemvMatrix>(packed);
}

}  // namespace quantstudio::kernels
