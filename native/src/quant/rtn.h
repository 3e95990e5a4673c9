// Round-to-nearest group quantization: the min/max → scale/zero rule of GPTQ's quantizer, without
// error feedback. Also the building block GPTQ and AWQ use for their scale/zero choice.
#pragma once

#include <cmath>
#include <cstdint>

#include "quant/group_quant.h"
#include "quant/job.h"

namespace quantstudio::quant {

struct RtnOptions {
  int bits = 4;             // 2, 3, 4 or 8
  int64_t groupSize = 128;  // input columns per group; -1 = one group per output channel
  bool sym = true;
};

/** Scale and integer zero of one row of one group, from its values' min and max. */
struct ScaleZero {
  float scale;
  int32_t zero;
};

/** GPTQ's range rule, shared by RTN and GPTQ: [min, max] widened to include 0; sym: mirrored to ±max|x|
 *  when negative; an all-zero range becomes [−1, 1]. */
void WidenRange(float& xmin, float& xmax, bool sym);

/** GPTQ's rule: range widened to include 0; sym: zero = (maxq+1)/2 and the range mirrored when
 *  negative; an all-zero range becomes [−1, 1]; asym: zero = round(−min/scale). */
ScaleZero FindScaleZero(float min, float max, int bits, bool sym);

/** q = clamp(round(x / scale) + zero, 0, maxq), rounding half to even as torch.round does. */
inline uint8_t QuantizeValue(float x, ScaleZero sz, int maxq) {
  float q = std::nearbyint(x / sz.scale) + static_cast<float>(sz.zero);
  q = q < 0.0f ? 0.0f : (q > static_cast<float>(maxq) ? static_cast<float>(maxq) : q);
  return static_cast<uint8_t>(q);
}

GroupQuantized QuantizeRtn(const WeightMatrix& w, const RtnOptions& options, const JobContext& ctx);

/** Validates bits and group size against the matrix; the message names the tensor. */
void CheckGroupOptions(const WeightMatrix& w, int bits, int64_t groupSize);

}  // namespace quantstudio::quant
