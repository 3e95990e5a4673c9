#include "quant/sign_round.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "quant/rtn.h"

namespace quantstudio::quant {
namespace {

constexpr float kMinScale = 1e-9f;  // a group whose fractions both reach 0 keeps a usable scale

inline float Sign(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }

// Rows in parallel: each row's groups are independent.
template <typename F>
void ForRows(int64_t rows, F f) {
  DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 4, [&](size_t b, size_t e) {
    for (int64_t r = static_cast<int64_t>(b); r < static_cast<int64_t>(e); ++r) f(r);
  });
}

}  // namespace

LearnedGrid::LearnedGrid(const float* w, int64_t rows, int64_t cols, int bits, int64_t groupSize, bool sym)
    : w_(w),
      rows_(rows),
      cols_(cols),
      groupSize_(groupSize == -1 ? cols : groupSize),
      groups_((cols + (groupSize == -1 ? cols : groupSize) - 1) / (groupSize == -1 ? cols : groupSize)),
      bits_(bits),
      sym_(sym) {
  const size_t perGroup = static_cast<size_t>(groups_ * rows_), perWeight = static_cast<size_t>(rows_ * cols_);
  low_.resize(perGroup);
  high_.resize(perGroup);
  ForRows(rows_, [&](int64_t r) {
    for (int64_t g = 0; g < groups_; ++g) {
      const float* x = w_ + r * cols_ + g * groupSize_;
      const int64_t n = std::min(groupSize_, cols_ - g * groupSize_);
      float lo = 0.0f, hi = 0.0f;
      for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      WidenRange(lo, hi, sym_);
      low_[g * rows_ + r] = lo;
      high_[g * rows_ + r] = hi;
    }
  });
  offset_.assign(perWeight, 0.0f);
  offsetGrad_.assign(perWeight, 0.0f);
  lowFrac_.assign(perGroup, 1.0f);
  highFrac_.assign(perGroup, 1.0f);
  lowGrad_.assign(perGroup, 0.0f);
  highGrad_.assign(perGroup, 0.0f);
  KeepBest();
}

LearnedGrid::GroupGrid LearnedGrid::GridOf(int64_t group, int64_t row) const {
  const size_t i = static_cast<size_t>(group * rows_ + row);
  const float maxq = static_cast<float>((1 << bits_) - 1);
  // sym: one fraction of the mirrored range (its high end's), so the grid stays symmetric about the fixed zero
  const float lo = low_[i] * (sym_ ? highFrac_[i] : lowFrac_[i]), hi = high_[i] * highFrac_[i];
  const float scale = std::max((hi - lo) / maxq, kMinScale);
  const float zero = sym_ ? std::floor((maxq + 1.0f) / 2.0f) : std::clamp(std::nearbyint(-lo / scale), 0.0f, maxq);
  return {scale, zero, lo};
}

void LearnedGrid::Dequantize(float* out) const {
  const float maxq = static_cast<float>((1 << bits_) - 1);
  ForRows(rows_, [&](int64_t r) {
    for (int64_t c0 = 0, g = 0; c0 < cols_; c0 += groupSize_, ++g) {
      const GroupGrid grid = GridOf(g, r);
      const int64_t end = std::min(cols_, c0 + groupSize_);
      for (int64_t c = c0; c < end; ++c) {
        const size_t i = static_cast<size_t>(r * cols_ + c);
        const float q = std::clamp(std::nearbyint(w_[i] / grid.scale + offset_[i]) + grid.zero, 0.0f, maxq);
        out[i] = grid.scale * (q - grid.zero);
      }
    }
  });
}

// With ŵ = s·(clamp(round(w/s + v) + z, 0, maxq) − z), s = (hi·b − lo·a)/maxq and z = round(−lo·a/s), rounding's
// derivative taken as 1: inside the code range ŵ = s·round(w/s + v), so dŵ/dv = s and dŵ/ds = round(·) − w/s; at a
// clamped end c, ŵ = s·(c − z), so dŵ/ds = c − z and dŵ/dz = −s.
void LearnedGrid::Backward(const float* gradW) {
  const float maxq = static_cast<float>((1 << bits_) - 1);
  ForRows(rows_, [&](int64_t r) {
    for (int64_t c0 = 0, g = 0; c0 < cols_; c0 += groupSize_, ++g) {
      const GroupGrid grid = GridOf(g, r);
      const int64_t end = std::min(cols_, c0 + groupSize_);
      double gradScale = 0.0, gradZero = 0.0;
      for (int64_t c = c0; c < end; ++c) {
        const size_t i = static_cast<size_t>(r * cols_ + c);
        const float t = w_[i] / grid.scale + offset_[i];
        const float rounded = std::nearbyint(t), q = rounded + grid.zero;
        if (q >= 0.0f && q <= maxq) {
          offsetGrad_[i] = gradW[i] * grid.scale;
          gradScale += static_cast<double>(gradW[i]) * (rounded - w_[i] / grid.scale);
        } else {
          offsetGrad_[i] = 0.0f;
          const float clamped = q < 0.0f ? 0.0f : maxq;
          gradScale += static_cast<double>(gradW[i]) * (clamped - grid.zero);
          gradZero -= static_cast<double>(gradW[i]) * grid.scale;
        }
      }
      const size_t k = static_cast<size_t>(g * rows_ + r);
      if (sym_) {  // s = (hi − lo)·b / maxq, z fixed
        highGrad_[k] = static_cast<float>(gradScale * (high_[k] - low_[k]) / maxq);
        lowGrad_[k] = 0.0f;
        continue;
      }
      // z = round(−lo'/s) with lo' = lo·a: dz/dlo' = −1/s, dz/ds = lo'/s²; ds/dlo' = −1/maxq, ds/dhi' = 1/maxq
      const double s = grid.scale;
      const double viaScale = gradScale + gradZero * grid.low / (s * s);
      const double gradLow = -viaScale / maxq - gradZero / s, gradHigh = viaScale / maxq;
      lowGrad_[k] = static_cast<float>(gradLow * low_[k]);
      highGrad_[k] = static_cast<float>(gradHigh * high_[k]);
    }
  });
}

void LearnedGrid::Step(float lr, float minmaxLr) {
  for (size_t i = 0; i < offset_.size(); ++i)
    offset_[i] = std::clamp(offset_[i] - lr * Sign(offsetGrad_[i]), -0.5f, 0.5f);
  for (size_t i = 0; i < lowFrac_.size(); ++i) {
    lowFrac_[i] = std::clamp(lowFrac_[i] - minmaxLr * Sign(lowGrad_[i]), 0.0f, 1.0f);
    highFrac_[i] = std::clamp(highFrac_[i] - minmaxLr * Sign(highGrad_[i]), 0.0f, 1.0f);
  }
}

void LearnedGrid::KeepBest() {
  bestOffset_ = offset_;
  bestLow_ = lowFrac_;
  bestHigh_ = highFrac_;
}

void LearnedGrid::RestoreBest() {
  offset_ = bestOffset_;
  lowFrac_ = bestLow_;
  highFrac_ = bestHigh_;
}

GroupQuantized LearnedGrid::Quantize() const {
  GroupQuantized out;
  out.rows = rows_;
  out.cols = cols_;
  out.bits = bits_;
  out.groupSize = groupSize_;
  out.q.resize(static_cast<size_t>(rows_ * cols_));
  out.scales.resize(static_cast<size_t>(groups_ * rows_));
  out.zeros.resize(static_cast<size_t>(groups_ * rows_));
  out.gIdx.resize(static_cast<size_t>(cols_));
  for (int64_t c = 0; c < cols_; ++c) out.gIdx[c] = static_cast<int32_t>(c / groupSize_);
  const float maxq = static_cast<float>((1 << bits_) - 1);
  ForRows(rows_, [&](int64_t r) {
    for (int64_t c0 = 0, g = 0; c0 < cols_; c0 += groupSize_, ++g) {
      const GroupGrid grid = GridOf(g, r);
      out.scales[g * rows_ + r] = grid.scale;
      out.zeros[g * rows_ + r] = static_cast<int32_t>(grid.zero);
      const int64_t end = std::min(cols_, c0 + groupSize_);
      for (int64_t c = c0; c < end; ++c) {
        const size_t i = static_cast<size_t>(r * cols_ + c);
        out.q[i] =
            static_cast<uint8_t>(std::clamp(std::nearbyint(w_[i] / grid.scale + offset_[i]) + grid.zero, 0.0f, maxq));
      }
    }
  });
  return out;
}

}  // namespace quantstudio::quant
