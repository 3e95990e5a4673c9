#include "kernels/qmatmul_bnb.h"

#include <cstring>

#include "kernels/cpu.h"
#include "kernels/qmatmul_rows.h"
#include "kernels/simd_avx512.h"

namespace quantstudio::kernels {
namespace {

int Log2(int64_t n) {
  for (int s = 0; s < 62; ++s) {
    if ((int64_t{1} << s) == n) return s;
  }
  return -1;
}

class Bnb4Matrix final : public RowCodesMatrix<Bnb4Matrix> {
 public:
  explicit Bnb4Matrix(Bnb4Packed p) : p_(std::move(p)), blockShift_(Log2(p_.blocksize)) {}

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const int64_t i = r * p_.in + c;
    const uint8_t byte = p_.packed[i / 2];
    const int q = (i & 1) ? (byte & 0x0f) : (byte >> 4);
    return p_.code[q] * p_.absmax[i / p_.blocksize];
  }

  // 8 consecutive codes of a row then start on a whole 4-byte word and share one absmax block, found by
  // a shift (bitsandbytes' block sizes are powers of two).
  bool HasAvx2() const override { return p_.in % 8 == 0 && p_.blocksize >= 8 && blockShift_ >= 0; }

#ifdef QS_X86
  QS_AVX2 __m256 Dequant8(int64_t r, int64_t c) const {
    // Byte b of the word holds elements 2b (high nibble) and 2b + 1 (low nibble).
    const __m256i shifts = _mm256_setr_epi32(4, 0, 12, 8, 20, 16, 28, 24);
    const int64_t i = r * p_.in + c;
    uint32_t word;
    std::memcpy(&word, p_.packed + i / 2, 4);
    const __m256i idx =
        _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shifts), _mm256_set1_epi32(0xf));
    // A 16-entry table lookup: two 8-entry permutes, picked by bit 3 of the code (moved to the sign bit).
    const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p_.code.data()), idx);
    const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p_.code.data() + 8), idx);
    const __m256 value = _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
    return _mm256_mul_ps(value, _mm256_set1_ps(p_.absmax[i >> blockShift_]));
  }
  QS_AVX2 void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const override {
    if (p_.in % p_.blocksize == 0 && p_.blocksize % 32 == 0 && UseAvx512()) return GemvBlocksAvx512(x, j0, j1, y);
    if (p_.in % p_.blocksize == 0 && p_.blocksize % 16 == 0) return GemvBlocks(x, j0, j1, y);
    RowCodesMatrix::GemvAvx2(x, j0, j1, y);
  }
#endif

 private:
#ifdef QS_X86
  QS_AVX2 static __m256 Lookup(__m256 low, __m256 high, __m256i idx) {
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(low, idx), _mm256_permutevar8x32_ps(high, idx),
                            _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
  }

  // Decode when blocks tile the rows: 8 bytes give 16 codes, the high nibbles being the even elements and
  // the low ones the odd, so x is split into even/odd halves per 16 once per call; each block's sum is
  // scaled by its absmax once.
  QS_AVX2 void GemvBlocks(const float* x, int64_t j0, int64_t j1, float* y) const {
    thread_local std::vector<float> split;
    split.resize(static_cast<size_t>(p_.in));
    for (int64_t c = 0; c < p_.in; c += 16) {
      for (int e = 0; e < 8; ++e) {
        split[c + e] = x[c + 2 * e];
        split[c + 8 + e] = x[c + 2 * e + 1];
      }
    }
    const __m256 low = _mm256_loadu_ps(p_.code.data()), high = _mm256_loadu_ps(p_.code.data() + 8);
    const __m256i mask = _mm256_set1_epi32(0xf);
    const int64_t blocksPerRow = p_.in / p_.blocksize;
    for (int64_t r = j0; r < j1; ++r) {
      const uint8_t* row = p_.packed + r * p_.in / 2;
      __m256 total = _mm256_setzero_ps();
      for (int64_t b = 0; b < blocksPerRow; ++b) {
        __m256 even = _mm256_setzero_ps(), odd = _mm256_setzero_ps();
        for (int64_t c = b * p_.blocksize; c < (b + 1) * p_.blocksize; c += 16) {
          const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + c / 2)));
          even =
              _mm256_fmadd_ps(Lookup(low, high, _mm256_srli_epi32(bytes, 4)), _mm256_loadu_ps(split.data() + c), even);
          odd = _mm256_fmadd_ps(Lookup(low, high, _mm256_and_si256(bytes, mask)), _mm256_loadu_ps(split.data() + c + 8),
                                odd);
        }
        total = _mm256_fmadd_ps(_mm256_set1_ps(p_.absmax[r * blocksPerRow + b]), _mm256_add_ps(even, odd), total);
      }
      y[r] = HSum(total);
    }
  }

  // GemvBlocks with 16 lanes: 16 bytes give 32 codes, and the 16-entry code table fits one register, so
  // each lookup is a single permute. x is split into even/odd halves per 32.
  QS_AVX512 void GemvBlocksAvx512(const float* x, int64_t j0, int64_t j1, float* y) const {
    thread_local std::vector<float> split;
    split.resize(static_cast<size_t>(p_.in));
    for (int64_t c = 0; c < p_.in; c += 32) {
      for (int e = 0; e < 16; ++e) {
        split[c + e] = x[c + 2 * e];
        split[c + 16 + e] = x[c + 2 * e + 1];
      }
    }
    const __m512 table = _mm512_loadu_ps(p_.code.data());
    const __m512i mask = _mm512_set1_epi32(0xf);
    const int64_t blocksPerRow = p_.in / p_.blocksize;
    for (int64_t r = j0; r < j1; ++r) {
      const uint8_t* row = p_.packed + r * p_.in / 2;
      __m512 total = _mm512_setzero_ps();
      for (int64_t b = 0; b < blocksPerRow; ++b) {
        __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
        for (int64_t c = b * p_.blocksize; c < (b + 1) * p_.blocksize; c += 32) {
          const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c / 2)));
          even = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), table),
                                 _mm512_loadu_ps(split.data() + c), even);
          odd = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_and_si512(bytes, mask), table),
                                _mm512_loadu_ps(split.data() + c + 16), odd);
        }
        total = _mm512_fmadd_ps(_mm512_set1_ps(p_.absmax[r * blocksPerRow + b]), _mm512_add_ps(even, odd), total);
      }
      y[r] = HSum16(total);
    }
  }
#endif

  Bnb4Packed p_;
  int blockShift_;  // log2(blocksize), −1 when not a power of two
};

class Int8Matrix final : public RowCodesMatrix<Int8Matrix> {
 public:
  Int8Matrix(const Int8Packed& p, std::unique_ptr<const Int8Codes> kept)
      : kept_(std::move(kept)), p_(p), rowScale_(static_cast<size_t>(p.out)) {
    for (int64_t r = 0; r < p.out; ++r) rowScale_[r] = Scb(r) * kInv127;
  }

  int64_t rows() const override { return p_.out; }
  int64_t cols() const override { return p_.in; }

  float Weight(int64_t r, int64_t c) const override {
    const auto q = static_cast<int8_t>(p_.weight[r * p_.in + c]);
    return static_cast<float>(q) * Scb(r) * kInv127;
  }

  bool HasAvx2() const override { return p_.in % 8 == 0; }

#ifdef QS_X86
  QS_AVX2 __m256 Dequant8(int64_t r, int64_t c) const {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p_.weight + r * p_.in + c));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), _mm256_set1_ps(rowScale_[r]));
  }

  QS_AVX2 void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const override {
    if (UseAvx512() && p_.in % 16 == 0) return GemvAvx512(x, j0, j1, y);
    RowGemv(*this, p_.in, x, j0, j1, y);
  }

  // Decode at AVX-512: four rows per pass share each 16-float load of x; a row's codes widen to fp32 exactly and its
  // scale multiplies the row's sum once (Dequant8 scales every weight: the same product to float rounding), so a
  // weight costs a quarter of a load, a widening, a conversion and an FMA per 16, where one byte is read.
  QS_AVX512 static __m512 Widen16(const int8_t* at) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at))));
  }
  QS_AVX512 void GemvAvx512(const float* x, int64_t j0, int64_t j1, float* y) const {
    const auto* codes = reinterpret_cast<const int8_t*>(p_.weight);
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      const int8_t* row = codes + j * p_.in;
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
      for (int64_t c = 0; c < p_.in; c += 16) {
        const __m512 xv = _mm512_loadu_ps(x + c);
        a0 = _mm512_fmadd_ps(Widen16(row + c), xv, a0);
        a1 = _mm512_fmadd_ps(Widen16(row + p_.in + c), xv, a1);
        a2 = _mm512_fmadd_ps(Widen16(row + 2 * p_.in + c), xv, a2);
        a3 = _mm512_fmadd_ps(Widen16(row + 3 * p_.in + c), xv, a3);
      }
      y[j] = HSum16(a0) * rowScale_[j];
      y[j + 1] = HSum16(a1) * rowScale_[j + 1];
      y[j + 2] = HSum16(a2) * rowScale_[j + 2];
      y[j + 3] = HSum16(a3) * rowScale_[j + 3];
    }
    for (; j < j1; ++j) {
      __m512 a = _mm512_setzero_ps();
      for (int64_t c = 0; c < p_.in; c += 16)
        a = _mm512_fmadd_ps(Widen16(codes + j * p_.in + c), _mm512_loadu_ps(x + c), a);
      y[j] = HSum16(a) * rowScale_[j];
    }
  }
#endif

 private:
  // bitsandbytes' int8_vectorwise_dequant multiplies by this fp32 constant (1/127 rounded).
  static constexpr float kInv127 = 7.874015718698502e-3f;
  float Scb(int64_t r) const {
    float s;
    std::memcpy(&s, p_.scb + 4 * r, 4);
    return s;
  }

  std::unique_ptr<const Int8Codes> kept_;  // codes quantized at load, when p_ points into them
  Int8Packed p_;
  std::vector<float> rowScale_;
};

}  // namespace

std::unique_ptr<QuantMatrix> MakeBnb4Matrix(Bnb4Packed packed) {
  return std::make_unique<Bnb4Matrix>(std::move(packed));
}
std::unique_ptr<QuantMatrix> MakeInt8Matrix(const Int8Packed& packed) {
  return std::make_unique<Int8Matrix>(packed, nullptr);
}
std::unique_ptr<QuantMatrix> MakeInt8Matrix(const Int8Packed& packed, std::unique_ptr<const Int8Codes> codes) {
  return std::make_unique<Int8Matrix>(packed, std::move(codes));
}

}  // namespace quantstudio::kernels
