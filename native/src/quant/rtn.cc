#include "quant/rtn.h"

#include <algorithm>
#include <cmath>

namespace quantstudio::quant {

void WidenRange(float& xmin, float& xmax, bool sym) {
  xmin = std::min(xmin, 0.0f);
  xmax = std::max(xmax, 0.0f);
  if (sym) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0.0f) xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
}

ScaleZero FindScaleZero(float min, float max, int bits, bool sym) {
  const float maxq = static_cast<float>((1 << bits) - 1);
  float xmin = min;
  float xmax = max;
  WidenRange(xmin, xmax, sym);
  ScaleZero sz;
  sz.scale = (xmax - xmin) / maxq;
  sz.zero = sym ? (1 << bits) / 2 : static_cast<int32_t>(std::nearbyint(-xmin / sz.scale));
  return sz;
}

void CheckGroupOptions(const WeightMatrix& w, int bits, int64_t groupSize) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
    throw QuantError("tensor \"" + w.name + "\": bits " + std::to_string(bits) + " is not supported; use 2, 3, 4 or 8");
  }
  if (groupSize == 0 || groupSize < -1) {
    throw QuantError("tensor \"" + w.name + "\": group_size " + std::to_string(groupSize) +
                     " is invalid; use -1 (per channel) or a positive size such as 128");
  }
  if (groupSize > 0 && w.cols % groupSize != 0) {
    throw QuantError("tensor \"" + w.name + "\": in_features " + std::to_string(w.cols) +
                     " is not divisible by group_size " + std::to_string(groupSize) +
                     "; choose a group size that divides it or -1");
  }
}

GroupQuantized QuantizeRtn(const WeightMatrix& w, const RtnOptions& options, const JobContext& ctx) {
  CheckGroupOptions(w, options.bits, options.groupSize);
  CheckFinite(w);
  GroupQuantized out;
  out.rows = w.rows;
  out.cols = w.cols;
  out.bits = options.bits;
  out.groupSize = options.groupSize > 0 ? options.groupSize : w.cols;
  const int64_t groups = out.numGroups();
  const int maxq = (1 << options.bits) - 1;
  out.q.resize(static_cast<size_t>(w.rows * w.cols));
  out.scales.resize(static_cast<size_t>(groups * w.rows));
  out.zeros.resize(static_cast<size_t>(groups * w.rows));
  out.gIdx.resize(static_cast<size_t>(w.cols));
  for (int64_t c = 0; c < w.cols; ++c) out.gIdx[c] = static_cast<int32_t>(c / out.groupSize);
  for (int64_t r = 0; r < w.rows; ++r) {
    ctx.CheckCancelled();
    const float* row = w.data + r * w.cols;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * out.groupSize;
      const int64_t end = std::min(begin + out.groupSize, w.cols);
      const auto [mn, mx] = std::minmax_element(row + begin, row + end);
      const ScaleZero sz = FindScaleZero(*mn, *mx, options.bits, options.sym);
      out.scales[g * w.rows + r] = sz.scale;
      out.zeros[g * w.rows + r] = sz.zero;
      for (int64_t c = begin; c < end; ++c) out.q[r * w.cols + c] = QuantizeValue(row[c], sz, maxq);
    }
    if ((r & 63) == 63) ctx.Report(r + 1, w.rows);
  }
  ctx.Report(w.rows, w.rows);
  return out;
}

}  // namespace quantstudio::quant
