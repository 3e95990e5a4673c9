// SignRound's learnable grid (AutoRound, Cheng et al. 2023; auto-round 0.16): each weight gets a rounding offset v in
// [−0.5, 0.5] and each group the fractions of its low and high range ends it keeps, in [0, 1]; a caller's block
// loss moves them by signed gradient steps, rounding passed straight through. The grid is GPTQ's (the range widened
// to include 0; sym: mirrored, zero point (maxq + 1) / 2; asym: zero = round(−low / scale)), so the result packs in
// the GPTQ layouts as any GPTQ result does.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/group_quant.h"

namespace quantstudio::quant {

/** A job's SignRound settings; iters 0: off. */
struct SignRoundOptions {
  int64_t iters = 0;
  double lr = 0.0;        // the step on the offsets at the first iteration, decaying linearly to 0
  double minmaxLr = 0.0;  // the step on the range fractions
  int64_t batchSize = 8;  // calibration windows per step
};

class LearnedGrid {
 public:
  /** Starts at round-to-nearest on the min/max grid (offsets 0, fractions 1); w [rows × cols] row-major. */
  LearnedGrid(const float* w, int64_t rows, int64_t cols, int bits, int64_t groupSize, bool sym);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  /** The weights rounded with the current parameters, dequantized: out [rows × cols]. */
  void Dequantize(float* out) const;
  /** The parameters' gradients from dL/dŴ [rows × cols] (rounding's derivative taken as 1), replacing the last. */
  void Backward(const float* gradW);
  /** One signed step: offsets by lr, fractions by minmaxLr, each clamped to its range. */
  void Step(float lr, float minmaxLr);
  /** Keeps the current parameters as the best so far / returns to the kept ones. */
  void KeepBest();
  void RestoreBest();
  /** Codes, scales and zero points of the current parameters. */
  GroupQuantized Quantize() const;

 private:
  struct GroupGrid {
    float scale, zero, low;
  };
  GroupGrid GridOf(int64_t group, int64_t row) const;

  const float* w_;
  int64_t rows_, cols_, groupSize_, groups_;
  int bits_;
  bool sym_;
  std::vector<float> low_, high_;  // [groups × rows]: each group's widened range
  std::vector<float> offset_, lowFrac_, highFrac_;
  std::vector<float> offsetGrad_, lowGrad_, highGrad_;
  std::vector<float> bestOffset_, bestLow_, bestHigh_;
};

}  // namespace quantstudio::quant
