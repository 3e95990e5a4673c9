// Y = X · Wᵀ (+ bias) straight from quantized storage: the fused dequantize-multiply every quantized
// Linear runs. A format supplies three things over its packed data (read in place from the mapping):
//   Weight(r, c)      the plain scalar dequantization of one element: the reference every fast path is
//                     checked against, and the fallback on CPUs without AVX2;
//   GemvAvx2          decode (m == 1): y[j0, j1) with the packed words unpacked in registers, each
//                     weight read once per token;
//   DecodePanelAvx2   prefill (m > 1): 16 output rows dequantized into a small fp32 panel
//                     (panel[k·16 + c] = W[j0 + c][k]), swept by every row of X with a register-blocked
//                     kernel. The whole matrix is never dequantized at once.
#pragma once

#include <cstdint>

namespace quantstudio::kernels {

/** Output rows per prefill panel and the row alignment of GemvAvx2 ranges. */
constexpr int64_t kQPanelRows = 16;

class QuantMatrix {
 public:
  virtual ~QuantMatrix() = default;
  virtual int64_t rows() const = 0;  // out_features
  virtual int64_t cols() const = 0;  // in_features

  /** W[r][c] as the format's loader defines it, computed the plain way. */
  virtual float Weight(int64_t r, int64_t c) const = 0;

  /** Whether the AVX2 paths cover this matrix (shape constraints); otherwise the scalar ones run. */
  virtual bool HasAvx2() const = 0;

  /** y[j] = W[j] · x for j in [j0, j1); j0 is a multiple of kQPanelRows. Only called when HasAvx2(). */
  virtual void GemvAvx2(const float* x, int64_t j0, int64_t j1, float* y) const = 0;

  /** panel[k·16 + c] = W[j0 + c][k] for c < 16; j0 + 16 <= rows(). Only called when HasAvx2(). */
  virtual void DecodePanelAvx2(int64_t j0, float* panel) const = 0;
};

/** y[m, n] = x[m, k] · Wᵀ + bias (bias may be null): threaded over output rows, AVX2 when available. */
void QMatMul(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y);

/** Decode's product for outputs [j0, j1) only (j0 a multiple of kQPanelRows), on the calling thread: each output
 *  equals QMatMul's at m == 1, so a caller may cut several matrices' outputs into one parallel region. */
void QGemvRange(const QuantMatrix& w, const float* x, const float* bias, float* y, int64_t j0, int64_t j1);

/** The scalar reference: one thread, Weight(r, c) per element, straight fp32 loops. */
void QMatMulReference(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y);

}  // namespace quantstudio::kernels
