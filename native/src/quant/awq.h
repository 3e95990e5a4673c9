// AWQ (Lin et al., 2023): activation-aware weight quantization. Input channels that carry large
// activations matter most, so each input channel c gets a scale s_c = mean|x_c|^ratio (normalised);
// the weight is quantized as W·diag(s) and the previous op absorbs 1/s (norm weight /= s, or the
// previous linear's rows). The ratio is grid-searched to minimise the inspected module's output error;
// an optional clip search then shrinks each group's range. Follows AutoAWQ's quantizer.py
// (_search_best_scale, _compute_best_scale, _compute_best_clip, pseudo_quantize_tensor).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/group_quant.h"

namespace quantstudio::quant {

struct AwqOptions {
  int bits = 4;
  int64_t groupSize = 128;         // −1: one group per row
  bool zeroPoint = true;           // asymmetric (AutoAWQ's default "GEMM" layout) or symmetric
  int scaleGrid = 20;              // ratios 0, 1/n, …, (n−1)/n
  bool duoScaling = true;          // s = x_mean^r / w_mean^(1−r) (AutoAWQ's default); false: s = x_mean^r
  int clipGrid = 20;               // clip search: shrink steps of 1/n …
  double clipMaxShrink = 0.5;      // … down to this fraction of the group's max |w|
  int64_t clipSampleTokens = 512;  // tokens the clip search strides down to
};

/** One linear whose input channels are scaled together (e.g. gate and up share the same input). */
struct AwqLinear {
  const float* weight;  // [rows × cols], row-major fp32
  int64_t rows;
};

/** Output error of the inspected module when its linears carry `candidates` (same order and shapes
 *  as the AwqLinear list, already fake-quantized and divided back by the scales): the mean squared
 *  difference to the fp output. Lets the pipeline inspect a whole block (e.g. self-attention). */
using AwqOutputLoss = std::function<double(const std::vector<std::vector<float>>& candidates)>;

/** Called after each grid point; return false to cancel. */
using AwqProgress = std::function<bool(int64_t done, int64_t total)>;

struct AwqScaleResult {
  bool ok = false;
  bool cancelled = false;
  std::string error;
  std::vector<float> scales;  // [cols], the chosen per-input-channel scales
  double bestRatio = -1.0;
  double bestLoss = 0.0;
  std::vector<double> lossByRatio;  // [scaleGrid]
};

std::string ValidateAwqOptions(const AwqOptions& options, int64_t cols);

/** Whether the linear-only scale search scores its grid through the Gram matrix XᵀX (tokens·cols² once, then
 *  rows·cols² a point) rather than the outputs (tokens·rows·cols for the fp outputs and again a point): whichever
 *  multiplies less. native/model/estimateQuantizeTime.ts prices the search by the same rule. */
bool UseAwqGram(int64_t tokens, int64_t rows, int64_t cols, int scaleGrid);

/** Searches the input-channel scales for linears sharing the input x [tokens × cols]. Without
 *  `evaluate` the inspected module is the linears themselves (outputs concatenated). */
AwqScaleResult SearchAwqScales(const std::vector<AwqLinear>& linears, int64_t cols, const float* x, int64_t tokens,
                               const AwqOptions& options, const AwqOutputLoss& evaluate = nullptr,
                               const AwqProgress& progress = nullptr);

/** AWQ's group rounding (pseudo_quantize_tensor) of w [rows × cols] as codes, scales and zeros. */
GroupQuantized PseudoQuantizeAwq(const float* w, int64_t rows, int64_t cols, const AwqOptions& options);

/** AutoAWQ's token stride for the clip search: every step-th of `tokens` rows, about clipSampleTokens of them. */
int64_t AwqClipStride(int64_t tokens, const AwqOptions& options);

/** Clip search: for w (already scaled) and the sampled rows of its input x (already strided by AwqClipStride and
 *  divided by the scales), the best max |w| per [row × group], row-major [rows × numGroups]. */
std::vector<float> SearchAwqClip(const float* w, int64_t rows, int64_t cols, const float* x, int64_t tokens,
                                 const AwqOptions& options);

struct AwqLinearResult {
  bool ok = false;
  std::string error;
  GroupQuantized quantized;    // of W·diag(scales), clipped when asked
  std::vector<float> clipMax;  // [rows × numGroups] when clipped, else empty
};

/** Scales w by `scales`, optionally clip-searches on x / scales, and quantizes. */
AwqLinearResult QuantizeAwqLinear(const float* w, int64_t rows, int64_t cols, const std::vector<float>& scales,
                                  const float* x, int64_t tokens, bool clip, const AwqOptions& options);

}  // namespace quantstudio::quant
