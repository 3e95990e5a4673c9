// The AWQ steps shared by dense and Mixture-of-Experts layers (awq_step.cc, awq_moe_step.cc): search a group's
// input-channel scales, fold them into the group and the op before it, and quantize one linear.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "pipeline/layer_step.h"
#include "quant/awq.h"

namespace quantstudio::pipeline {

/** The layer's view with `slots`' linears replaced by fp32 candidates (same biases), for a block's loss. */
struct Substituted {
  std::vector<std::unique_ptr<Fp32Linear>> owned;
  runtime::LayerLinears view;
};
Substituted Substitute(const WorkingLayer& layer, const std::vector<LinearSlot*>& slots,
                       const std::vector<std::vector<float>>& weights);

double MeanSquaredDiff(const std::vector<float>& a, const std::vector<float>& b);

/** The scales of `slots`, which share the input x [tokens × cols]; `loss` inspects a block (empty: the slots' own
 *  outputs). Throws quant::Cancelled or a QuantError naming the first slot. */
std::vector<float> SearchGroupScales(const LayerStep& step, const std::vector<LinearSlot*>& slots,
                                     const std::vector<float>& x, const quant::AwqOutputLoss& loss);

/** Folds s: every slot's columns × s, and the op before them ÷ s — rows [prevFrom, prevFrom + s.size()) of `prev`
 *  (and its bias), or the first / second norm when prev is null; changed tensors recorded. */
void FoldScales(const LayerStep& step, const std::vector<LinearSlot*>& slots, LinearSlot* prev, int64_t prevFrom,
                bool normIsFirst, const std::vector<float>& s);

/** AWQ's quantization of one linear (already scaled) with its input x (already ÷ s): with the clip search when
 *  `clip`, else round-to-nearest of its min/max (x unused). */
void QuantizeAwqSlot(const LayerStep& step, LinearSlot& slot, const std::vector<float>& x, bool clip);

/** The MoE block of an AWQ layer (awq_moe_step.cc): its scale groups, folds and quantization (GPTQModel 7.7's rule). */
void QuantizeMoeAwq(const LayerStep& step, runtime::LayerTaps& taps);

}  // namespace quantstudio::pipeline
