#include "quant/bnb4.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/thread_pool.h"

namespace quantstudio::quant {
namespace {

/** float32 linspace the way torch computes it on CPU: the first half counts up from start, the
 *  second half down from end (both endpoints exact), each value a single fused multiply-add. */
std::vector<float> Linspace(float start, float end, int steps) {
  std::vector<float> v(static_cast<size_t>(steps));
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int halfway = steps / 2;
  for (int i = 0; i < steps; ++i) {
    v[i] = i < halfway ? std::fma(step, static_cast<float>(i), start)
                       : std::fma(-step, static_cast<float>(steps - i - 1), end);
  }
  return v;
}

std::array<float, 256> BuildDynamicMap() {
  // Signed map, 7 exponent bits, 8 bits in all: for each decade 10^(i-6) the midpoints of an evenly
  // spaced fraction grid, mirrored for negatives, plus 0 and 1, sorted.
  constexpr int kExponentBits = 7;
  constexpr int kNonSignBits = 7;
  std::vector<float> data;
  for (int i = 0; i < kExponentBits; ++i) {
    const int fractionItems = (1 << (i + kNonSignBits - kExponentBits)) + 1;
    const std::vector<float> bounds = Linspace(0.1f, 1.0f, fractionItems);
    const float decade = static_cast<float>(std::pow(10.0, -(kExponentBits - 1) + i));
    for (int k = 0; k + 1 < fractionItems; ++k) {
      const float mean = (bounds[k] + bounds[k + 1]) / 2.0f;
      data.push_back(decade * mean);
      data.push_back(-decade * mean);
    }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  while (data.size() < 256) data.push_back(0.0f);
  std::sort(data.begin(), data.end());
  std::array<float, 256> out{};
  std::copy(data.begin(), data.end(), out.begin());
  return out;
}

/** bitsandbytes' 4-bit rule: the codes sorted by value (torch.argsort puts FP4's +0 before −0), the float midpoints
 *  between neighbours, and a value goes to the bucket of the midpoints below it (a tie goes down). */
struct Bnb4Buckets {
  std::array<int, 16> order;
  std::array<float, 16> bounds;  // ascending; bounds[15] = +inf pads the search

  // The number of bounds below x (a NaN compares below none: bucket 0), by a branch-free binary search: the
  // buckets of random weights defeat a branch predictor, and a linear scan was a third of an NF4 job's time.
  int Code(float x) const {
    int bucket = 0;
    bucket += (bounds[bucket + 7] < x) ? 8 : 0;
    bucket += (bounds[bucket + 3] < x) ? 4 : 0;
    bucket += (bounds[bucket + 1] < x) ? 2 : 0;
    bucket += (bounds[bucket] < x) ? 1 : 0;
    return order[bucket];
  }
};

Bnb4Buckets MakeBuckets(Bnb4Type type) {
  static const std::array<int, 16> kNf4Order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  static const std::array<int, 16> kFp4Order = {11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3};
  const auto& code = Bnb4Code(type);
  Bnb4Buckets b;
  b.order = type == Bnb4Type::NF4 ? kNf4Order : kFp4Order;
  for (int i = 0; i < 15; ++i) b.bounds[i] = (code[b.order[i]] + code[b.order[i + 1]]) / 2.0f;
  b.bounds[15] = std::numeric_limits<float>::infinity();
  return b;
}

/** Per-block absmax, each value scaled into [-1, 1] and coded by `pick`, multiplying by the
 *  reciprocal of the absmax. bitsandbytes' 4-bit path (fourBit) clamps the absmax to 1e-38 so an
 *  all-zero block scales to 0, and divides a trailing partial block by its clamped absmax, which it
 *  also stores; its 8-bit path codes an all-zero block as 0. */
template <typename Pick>
void QuantizeBlocks(const float* x, int64_t n, int64_t blocksize, bool fourBit, const JobContext& ctx, Pick pick,
                    std::vector<float>& absmax, std::vector<uint8_t>& codes) {
  constexpr float kMinAbsmax = 1e-38f;
  const int64_t blocks = (n + blocksize - 1) / blocksize;
  absmax.assign(static_cast<size_t>(blocks), 0.0f);
  codes.assign(static_cast<size_t>(n), 0);
  const auto quantizeBlock = [&](int64_t b) {
    const int64_t begin = b * blocksize;
    const int64_t end = std::min(begin + blocksize, n);
    float m = 0.0f;
    for (int64_t i = begin; i < end; ++i) m = std::max(m, std::fabs(x[i]));
    if (!fourBit && m == 0.0f) return;  // codes stay 0
    const float clamped = fourBit ? std::max(m, kMinAbsmax) : m;
    const bool partial = fourBit && end - begin < blocksize;
    absmax[b] = partial ? clamped : m;
    const float inv = 1.0f / clamped;
    for (int64_t i = begin; i < end; ++i) {
      const float scaled = std::clamp(partial ? x[i] / clamped : x[i] * inv, -1.0f, 1.0f);
      codes[i] = static_cast<uint8_t>(pick(scaled));
    }
  };
  // Blocks are independent, so they spread over the pool with results identical to one thread.
  DefaultThreadPool().ParallelFor(static_cast<size_t>(blocks), 256, [&](size_t first, size_t last) {
    ctx.CheckCancelled();
    for (size_t b = first; b < last; ++b) quantizeBlock(static_cast<int64_t>(b));
  });
}

}  // namespace

const char* Bnb4TypeName(Bnb4Type t) { return t == Bnb4Type::NF4 ? "nf4" : "fp4"; }

const std::array<float, 16>& Nf4Code() {
  // Quantiles of N(0, 1) normalised to [-1, 1] with an exact zero (QLoRA, appendix E).
  static const std::array<float, 16> kCode = {-1.0f,
                                              -0.6961928009986877f,
                                              -0.5250730514526367f,
                                              -0.39491748809814453f,
                                              -0.28444138169288635f,
                                              -0.18477343022823334f,
                                              -0.09105003625154495f,
                                              0.0f,
                                              0.07958029955625534f,
                                              0.16093020141124725f,
                                              0.24611230194568634f,
                                              0.33791524171829224f,
                                              0.44070982933044434f,
                                              0.5626170039176941f,
                                              0.7229568362236023f,
                                              1.0f};
  return kCode;
}

const std::array<float, 16>& Fp4Code() {
  // E2M1 with bitsandbytes' own code order (sign bit 3), normalised by the largest magnitude 12.
  static const std::array<float, 16> kCode = [] {
    const float raw[16] = {0.0f,  0.0625f,  8.0f,  12.0f,  4.0f,  6.0f,  2.0f,  3.0f,
                           -0.0f, -0.0625f, -8.0f, -12.0f, -4.0f, -6.0f, -2.0f, -3.0f};
    std::array<float, 16> c{};
    for (int i = 0; i < 16; ++i) c[i] = raw[i] / 12.0f;
    return c;
  }();
  return kCode;
}

const std::array<float, 256>& DynamicMap8() {
  static const std::array<float, 256> kMap = BuildDynamicMap();
  return kMap;
}

int NearestCode(const float* code, int n, float x) {
  int best = 0;
  float bestDiff = std::fabs(x - code[0]);
  for (int i = 1; i < n; ++i) {
    const float d = std::fabs(x - code[i]);
    if (d < bestDiff) {
      bestDiff = d;
      best = i;
    }
  }
  return best;
}

int64_t Bnb4Quantized::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> Bnb4Quantized::BlockAbsmax() const {
  if (!nested) return absmax;
  const auto& map = nestedCode;
  std::vector<float> out(absmaxCodes.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = map[absmaxCodes[i]] * nestedAbsmax[i / static_cast<size_t>(nestedBlocksize)] + offset;
  }
  return out;
}

std::vector<float> Bnb4Quantized::Dequantize() const {
  const std::vector<float> scale = BlockAbsmax();
  const int64_t n = numel();
  std::vector<float> out(static_cast<size_t>(n));
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n), size_t{1} << 16, [&](size_t b, size_t e) {
    for (int64_t i = static_cast<int64_t>(b); i < static_cast<int64_t>(e); ++i) {
      const uint8_t byte = packed[i / 2];
      const int q = (i & 1) ? (byte & 0x0f) : (byte >> 4);
      out[i] = code[q] * scale[i / blocksize];
    }
  });
  return out;
}

Bnb4Quantized QuantizeBnb4(const WeightMatrix& w, const Bnb4Options& options, const JobContext& ctx) {
  if (options.blocksize <= 0 || options.nestedBlocksize <= 0) {
    throw QuantError("tensor \"" + w.name + "\": blocksize must be positive (bitsandbytes uses 64)");
  }
  CheckFinite(w);
  Bnb4Quantized out;
  out.type = options.type;
  out.code = Bnb4Code(options.type);
  out.nestedCode = DynamicMap8();
  out.blocksize = options.blocksize;
  out.shape = {w.rows, w.cols};
  const int64_t n = w.rows * w.cols;
  std::vector<uint8_t> codes;
  const Bnb4Buckets buckets = MakeBuckets(options.type);
  QuantizeBlocks(
      w.data, n, options.blocksize, true, ctx, [&](float s) { return buckets.Code(s); }, out.absmax, codes);
  // An odd count is padded with a zero value, as bitsandbytes pads before packing pairs.
  if (n % 2 != 0) codes.push_back(static_cast<uint8_t>(buckets.Code(0.0f)));
  out.packed.assign(static_cast<size_t>((n + 1) / 2), 0);
  for (size_t i = 0; i < codes.size(); ++i) {
    out.packed[i / 2] |= static_cast<uint8_t>((i & 1) ? codes[i] : codes[i] << 4);
  }
  ctx.Report(9, 10);
  if (options.doubleQuant) {
    double sum = 0.0;
    for (float a : out.absmax) sum += a;
    out.offset = out.absmax.empty() ? 0.0f : static_cast<float>(sum / static_cast<double>(out.absmax.size()));
    std::vector<float> centred(out.absmax.size());
    for (size_t i = 0; i < centred.size(); ++i) centred[i] = out.absmax[i] - out.offset;
    const auto& map = DynamicMap8();
    QuantizeBlocks(
        centred.data(), static_cast<int64_t>(centred.size()), options.nestedBlocksize, false, ctx,
        [&](float s) { return NearestCode(map.data(), 256, s); }, out.nestedAbsmax, out.absmaxCodes);
    out.nested = true;
    out.nestedBlocksize = options.nestedBlocksize;
    out.absmax.clear();
  }
  ctx.Report(10, 10);
  return out;
}

}  // namespace quantstudio::quant
