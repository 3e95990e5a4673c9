#include "quant/int8.h"

#include <algorithm>
#include <cmath>

namespace quantstudio::quant {

Int8Quantized QuantizeInt8(const WeightMatrix& w, const Int8Options& options, const JobContext& ctx) {
  if (!(options.threshold >= 0.0f)) {
    throw QuantError("tensor \"" + w.name + "\": llm_int8_threshold must be >= 0 (bitsandbytes uses 6.0)");
  }
  CheckFinite(w);
  Int8Quantized out;
  out.rows = w.rows;
  out.cols = w.cols;
  out.threshold = options.threshold;
  out.q.resize(static_cast<size_t>(w.rows * w.cols));
  out.scb.resize(static_cast<size_t>(w.rows));
  for (int64_t r = 0; r < w.rows; ++r) {
    ctx.CheckCancelled();
    const float* row = w.data + r * w.cols;
    float m = 0.0f;
    for (int64_t c = 0; c < w.cols; ++c) m = std::max(m, std::fabs(row[c]));
    out.scb[r] = m;
    // As bitsandbytes: round(x · (127 / absmax)), half to even; an all-zero row stays zero. torch
    // evaluates `127.0 / tensor` as reciprocal(tensor) · 127, two roundings, and so does this.
    const float factor = (1.0f / m) * 127.0f;
    for (int64_t c = 0; c < w.cols; ++c) {
      out.q[r * w.cols + c] = m == 0.0f ? 0 : static_cast<int8_t>(std::nearbyint(row[c] * factor));
    }
    if ((r & 63) == 63) ctx.Report(r + 1, w.rows);
  }
  ctx.Report(w.rows, w.rows);
  return out;
}

}  // namespace quantstudio::quant
