#include "runtime/rope.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace quantstudio::runtime {
namespace {

constexpr double kPi = 3.14159265358979323846;

// base^(2i/dim) in fp32, as torch computes `base ** (arange(0, dim, 2).float() / dim)`.
float Power(double base, int64_t i, int64_t dim) {
  const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
  return static_cast<float>(std::pow(base, static_cast<double>(exponent)));
}

std::vector<float> DefaultFrequencies(double base, int64_t dim) {
  std::vector<float> f(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) f[i] = 1.0f / Power(base, i, dim);
  return f;
}

// torch compares and divides in fp32, the Python scalars cast to fp32 first.
void Llama3(const RopeSettings& s, std::vector<float>& f) {
  if (s.originalMaxPositions <= 0) throw std::invalid_argument("llama3 RoPE needs original_max_position_embeddings");
  const double oldContext = static_cast<double>(s.originalMaxPositions);
  const float factor = static_cast<float>(s.factor);
  const float lowWavelen = static_cast<float>(oldContext / s.lowFreqFactor);
  const float highWavelen = static_cast<float>(oldContext / s.highFreqFactor);
  const float lowFactor = static_cast<float>(s.lowFreqFactor);
  const float span = static_cast<float>(s.highFreqFactor - s.lowFreqFactor);
  for (float& v : f) {
    const float wavelen = static_cast<float>(2 * kPi) / v;
    const float scaled = wavelen > lowWavelen ? v / factor : v;
    const bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (!medium) {
      v = scaled;
      continue;
    }
    const float smooth = (static_cast<float>(oldContext) / wavelen - lowFactor) / span;
    v = (1.0f - smooth) * scaled / factor + smooth * scaled;
  }
}

double YarnMscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

void Yarn(const RopeSettings& s, int64_t dim, RopeTable& t) {
  if (s.originalMaxPositions <= 0) throw std::invalid_argument("yarn RoPE needs original_max_position_embeddings");
  const double factor = s.factor > 0 ? s.factor : static_cast<double>(s.maxPositions) / s.originalMaxPositions;
  double attention = s.attentionFactor;
  if (attention <= 0) {
    attention = s.mscale != 0 && s.mscaleAllDim != 0 ? YarnMscale(factor, s.mscale) / YarnMscale(factor, s.mscaleAllDim)
                                                     : YarnMscale(factor, 1.0);
  }
  t.attentionScaling = static_cast<float>(attention);
  const auto correctionDim = [&](double rotations) {
    return dim * std::log(static_cast<double>(s.originalMaxPositions) / (rotations * 2 * kPi)) /
           (2 * std::log(s.theta));
  };
  double low = correctionDim(s.betaFast), high = correctionDim(s.betaSlow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float pos = Power(s.theta, i, dim);
    const float extrapolation = 1.0f / pos;
    const float interpolation = 1.0f / (static_cast<float>(factor) * pos);
    const float ramp =
        std::clamp((static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low), 0.0f, 1.0f);
    const float extrapolationFactor = 1.0f - ramp;
    t.invFreq[i] = interpolation * (1.0f - extrapolationFactor) + extrapolation * extrapolationFactor;
  }
}

void LongRope(const RopeSettings& s, int64_t dim, RopeTable& t) {
  const size_t half = static_cast<size_t>(dim / 2);
  if (s.originalMaxPositions <= 0) throw std::invalid_argument("longrope RoPE needs original_max_position_embeddings");
  if (s.shortFactor.size() != half || s.longFactor.size() != half) {
    throw std::invalid_argument("longrope short_factor and long_factor need " + std::to_string(half) + " values each");
  }
  const double factor = s.factor > 0 ? s.factor : static_cast<double>(s.maxPositions) / s.originalMaxPositions;
  double attention = s.attentionFactor;
  if (attention <= 0) {
    attention =
        factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(static_cast<double>(s.originalMaxPositions)));
  }
  t.attentionScaling = static_cast<float>(attention);
  t.invFreqLong.resize(half);
  for (size_t i = 0; i < half; ++i) {
    const float pos = Power(s.theta, static_cast<int64_t>(i), dim);
    t.invFreq[i] = 1.0f / (static_cast<float>(s.shortFactor[i]) * pos);
    t.invFreqLong[i] = 1.0f / (static_cast<float>(s.longFactor[i]) * pos);
  }
  t.longFrom = s.originalMaxPositions;
}

}  // namespace

RopeTable BuildRopeTable(const RopeSettings& s) {
  const int64_t dim = s.rotaryDim;
  if (dim <= 0 || dim % 2 != 0) throw std::invalid_argument("RoPE rotary dimension must be positive and even");
  RopeTable t;
  t.rotaryDim = dim;
  t.invFreq = DefaultFrequencies(s.theta, dim);
  if (s.type == "default" || s.type == "dynamic") {
    // dynamic equals default up to max_position_embeddings; the runtime stops there (Model::positionLimit).
  } else if (s.type == "linear") {
    for (float& v : t.invFreq) v /= static_cast<float>(s.factor);
  } else if (s.type == "llama3") {
    Llama3(s, t.invFreq);
  } else if (s.type == "yarn") {
    Yarn(s, dim, t);
  } else if (s.type == "longrope") {
    LongRope(s, dim, t);
  } else {
    throw std::invalid_argument("RoPE type \"" + s.type + "\" is not supported");
  }
  return t;
}

}  // namespace quantstudio::runtime
