// Formats stored row by row along the input dim (AWQ GEMV, bitsandbytes 4-bit and 8-bit): the kernels
// dequantize 8 consecutive weights of one output row into a register (Codes::Dequant8(r, c), c a
// multiple of 8) and either dot them with x (decode, four rows sharing each load of x) or scatter them
// into the transposed prefill panel.
#pragma once

#include <cstdint>

#include "kernels/qmatmul.h"
#include "kernels/qmatmul_simd.h"

namespace quantstudio::kernels {

#ifdef QS_X86
template <class Codes>
QS_AVX2 void RowGemv(const Codes& codes, int64_t k, const float* x, int64_t j0, int64_t j1, float* y) {
  for (int64_t j = j0; j < j1; j += 4) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t c = 0; c < k; c += 8) {
      const __m256 xv = _mm256_loadu_ps(x + c);
      a0 = _mm256_fmadd_ps(codes.Dequant8(j, c), xv, a0);
      a1 = _mm256_fmadd_ps(codes.Dequant8(j + 1, c), xv, a1);
      a2 = _mm256_fmadd_ps(codes.Dequant8(j + 2, c), xv, a2);
      a3 = _mm256_fmadd_ps(codes.Dequant8(j + 3, c), xv, a3);
    }
    y[j] = HSum(a0);
    y[j + 1] = HSum(a1);
    y[j + 2] = HSum(a2);
    y[j + 3] = HSum(a3);
  }
}

template <class Codes>
QS_AVX2 void RowDecodePanel(const Codes& codes, int64_t k, int64_t j0, float* panel) {
  alignas(32) float eight[8];
  for (int64_t r = 0; r < 16; ++r) {
    for (int64_t c = 0; c < k; c += 8) {
      _mm256_store_ps(eight, codes.Dequant8(j0 + r, c));
      for (int e = 0; e < 8; ++e) panel[(c + e) * 16 + r] = eight[e];
    }
  }
}
#endif

// The QuantMatrix side of a row-stored format: both AVX2 entry points served by Derived::Dequant8, so a
// format class says only how it decodes 8 weights (and may still override GemvAvx2 with a faster path).
template <class Derived>
class RowCodesMatrix : public QuantMatrix {
 public:
#ifdef QS_X86
  QS_AVX2 void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const override {
    RowGemv(Self(), Self().cols(), x, j0, j1, y);
  }
  QS_AVX2 void DecodePanelAvx2(int64_t j0, float* panel) const override {
    RowDecodePanel(Self(), Self().cols(), j0, panel);
  }
#else
  void GemvAvx2(const float*, int64_t, int64_t, float*) const override {}
  void DecodePanelAvx2(int64_t, float*) const override {}
#endif

 private:
  const Derived& Self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace quantstudio::kernels
