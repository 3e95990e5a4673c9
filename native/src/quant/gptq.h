// GPTQ (Frantar et al., 2022): quantizes a linear layer's weight column by column, feeding each
// column's rounding error forward into the not-yet-quantized columns through the inverse Hessian of
// the layer's calibration inputs, so ‖WX − ŴX‖² stays small. Follows the reference `fasterquant`
// (IST-DASLab gptq, AutoGPTQ/GPTQModel gptq.py + quantizer.py) step for step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/group_quant.h"

namespace quantstudio::quant {

struct GptqOptions {
  int bits = 4;                // 2, 3, 4 or 8
  int64_t groupSize = 128;     // −1: one group per row (per-channel)
  bool sym = true;             // symmetric: zero point fixed at 2^(bits−1)
  bool descAct = false;        // act-order: quantize columns by descending Hessian diagonal
  bool staticGroups = false;   // group scales from the unpermuted weights, before any update
  bool actGroupAware = false;  // GAR: groups quantized by their largest diag H (not with descAct / staticGroups)
  double mse = 0.0;            // > 0: search each grid's range shrink under this norm (GPTQModel's mse); 0: min/max
  /** > 0: GPTAQ (GPTQModel 7.7 gptaq.alpha): the error feedback also steers the weights toward the full-precision
   *  model's outputs, weighted by this; needs the cross moment of the inputs. Columns then go in plain or desc_act
   *  order (GPTQModel's GPTAQ quantizer has no group-aware order). */
  double gptaqAlpha = 0.0;
  // transformers GPTQConfig defaults (native/model/quantConfig.ts QUANT_DEFAULTS, from schemas/gptq.schema.json)
  double dampPercent = 0.1;           // damping added to diag H, as a fraction of its mean
  double dampAutoIncrement = 0.0025;  // on a failed factorisation retry with more damping; 0: fail
  int64_t blockSize = 128;            // lazy-update block width
};

/** Called after each lazy block with the columns done so far; return false to cancel. */
using GptqProgress = std::function<bool(int64_t done, int64_t total)>;

struct GptqResult {
  bool ok = false;
  std::string error;  // set when !ok: what went wrong and what to change
  bool cancelled = false;
  GroupQuantized quantized;
  double loss = 0.0;         // upstream's avg_loss: Σ (w − q)² / (2·d²) / calibration tokens
  double dampPercent = 0.0;  // the damping that made H factorisable
};

/** Checks options against the weight shape; returns an empty string when valid. */
std::string ValidateGptqOptions(const GptqOptions& options, int64_t cols);

/** Quantizes w [rows × cols] (row-major fp32) with the Hessian h [cols × cols] of `samples` tokens. With
 *  options.gptaqAlpha > 0, crossMoment is GPTAQ's D (CrossMomentAccumulator, same tokens and scale as h). */
GptqResult QuantizeGptq(const float* w, int64_t rows, int64_t cols, const std::vector<double>& h, int64_t samples,
                        const GptqOptions& options, const GptqProgress& progress = nullptr,
                        const std::vector<double>* crossMoment = nullptr);

/** w rounded to nearest on GPTQ's grid of `options` (bits, group size, sym, mse range search), dequantized: GPTQ
 *  without error feedback. A quick stand-in for a width's error, e.g. to rank layers by sensitivity. */
std::vector<float> RoundToGrid(const float* w, int64_t rows, int64_t cols, const GptqOptions& options);

}  // namespace quantstudio::quant
