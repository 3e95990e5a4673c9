// AWQ on a Mixture-of-Experts block (Mixtral, Qwen2-MoE, Qwen3-MoE) as GPTQModel 7.7 does it
// (models/base.py awq_get_modules_for_scaling over the module trees of models/definitions/{mixtral,qwen2_moe,
// qwen3_moe}.py; looper/awq_processor.py _quantize_layer, _layer_input_features, _should_fallback_group):
//  - gate/up: ONE scale group, post_attention_layernorm → every routed expert's gate_proj and up_proj (and Qwen2-MoE's
//    shared expert's), searched on the MoE block's input (all tokens) with the whole block's output as the loss
//    (router, top-k, shared expert and its gate run with the candidates). The router and shared_expert_gate are not
//    in the group: they keep their weights and read the norm ÷ s, so the quantized model routes on scaled inputs.
//  - down: per expert (and the shared expert), up_proj → down_proj, searched on that expert's own down_proj input
//    (the tokens routed to it), loss: down_proj's output.
//  - inputs: the calibration sequences are GPTQModel's batches (quantize(batch_size=1)); every feature of the MoE
//    block is packed as "token_rows" (awq_input_feature_aggregation): at most max(largest batch, batches) rows, one
//    per batch and the rest shared by batch length, spread evenly in each batch (PackTokenRows). The clip search
//    reads each linear's own packed feature ÷ s.
//  - fallback (Fallback "0.5%", strategy rtn): a group with a member that received no token, or whose members' routed
//    tokens sum below 0.5 % of the calibration tokens, is not scaled nor clipped and quantizes round-to-nearest —
//    so one expert that calibration never reached sends the whole gate/up group (every expert) to RTN.
#include <algorithm>
#include <vector>

#include "pipeline/awq_scales.h"

namespace quantstudio::pipeline {
namespace {

constexpr double kFallbackFraction = 0.005;

// GPTQModel 7.7's AWQProcessor._token_row_budget and _pack_token_rows: rows [Σ counts × cols], batch b's
// counts[b] rows after the batches before it.
std::vector<float> PackTokenRows(const std::vector<float>& x, int64_t cols, const std::vector<int64_t>& counts) {
  std::vector<int64_t> lengths, starts;
  int64_t total = 0, largest = 0;
  for (int64_t n : counts) {
    if (n > 0) {
      lengths.push_back(n);
      starts.push_back(total);
      largest = std::max(largest, n);
    }
    total += n;
  }
  const int64_t batches = static_cast<int64_t>(lengths.size());
  const int64_t retained = std::min(total, std::max(largest, batches));
  if (retained == total) return x;
  // retained ≥ batches here: one row each, the remainder by length (largest remainder, ties by order).
  std::vector<int64_t> quotas(static_cast<size_t>(batches), 1);
  const int64_t remaining = retained - batches;
  if (remaining > 0) {
    std::vector<double> exact(quotas.size()), fraction(quotas.size());
    int64_t given = batches;
    for (size_t b = 0; b < quotas.size(); ++b) {
      exact[b] = static_cast<double>(lengths[b] * remaining) / static_cast<double>(total);
      const int64_t floor = static_cast<int64_t>(exact[b]);
      quotas[b] += floor;
      given += floor;
      fraction[b] = exact[b] - static_cast<double>(floor);
    }
    std::vector<size_t> order(quotas.size());
    for (size_t b = 0; b < order.size(); ++b) order[b] = b;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fraction[a] > fraction[b]; });
    for (int64_t leftover = retained - given; leftover > 0;) {
      bool distributed = false;
      for (size_t b : order) {
        if (leftover <= 0) break;
        if (quotas[b] < lengths[b]) {
          ++quotas[b];
          --leftover;
          distributed = true;
        }
      }
      if (!distributed) break;
    }
  }
  std::vector<float> packed;
  packed.reserve(static_cast<size_t>(retained * cols));
  for (size_t b = 0; b < quotas.size(); ++b) {
    const int64_t quota = std::min(quotas[b], lengths[b]), length = lengths[b];
    for (int64_t i = 0; i < quota; ++i) {
      const int64_t row = starts[b] + (quota == length ? i : quota == 1 ? 0 : i * (length - 1) / (quota - 1));
      packed.insert(packed.end(), x.begin() + row * cols, x.begin() + (row + 1) * cols);
    }
  }
  return packed;
}

struct Member {
  LinearSlot* slot;
  std::vector<float> feature;  // packed; ÷ s once the group is folded
  int64_t rawTokens;
};

// A group's scales searched and folded unless it falls back; returns whether it fell back.
bool ScaleGroup(const LayerStep& step, std::vector<Member>& members, LinearSlot* prev, const std::vector<float>& x,
                bool blockLoss) {
  int64_t tokens = 0;
  bool empty = false;
  for (const Member& m : members) {
    tokens += m.rawTokens;
    empty = empty || m.rawTokens == 0;
  }
  if (empty || static_cast<double>(tokens) < kFallbackFraction * static_cast<double>(step.inputs.tokens())) return true;
  std::vector<LinearSlot*> slots;
  bool skipped = prev && prev->skipped;
  for (Member& m : members) {
    slots.push_back(m.slot);
    skipped = skipped || m.slot->skipped;
  }
  if (skipped) return false;  // as a dense group with a skipped linear: s = 1
  quant::AwqOutputLoss loss;
  std::vector<float> reference;
  const int64_t rows = static_cast<int64_t>(x.size()) / step.model.config().hiddenSize;
  if (blockLoss) {
    reference.resize(x.size());
    step.model.RunMlp(step.layer.View(), x.data(), rows, reference.data());
    loss = [&](const std::vector<std::vector<float>>& candidates) {
      step.ctx.CheckCancelled();
      const Substituted sub = Substitute(step.layer, slots, candidates);
      std::vector<float> out(x.size());
      step.model.RunMlp(sub.view, x.data(), rows, out.data());
      return MeanSquaredDiff(out, reference);
    };
  }
  const std::vector<float> s = SearchGroupScales(step, slots, x, loss);
  FoldScales(step, slots, prev, 0, false, s);
  for (Member& m : members) DivideColumns(m.feature, m.slot->linear->inFeatures(), s);
  return false;
}

void QuantizeMembers(const LayerStep& step, std::vector<Member>& members, bool fallback) {
  for (Member& m : members)
    if (!m.slot->skipped) QuantizeAwqSlot(step, *m.slot, m.feature, !fallback);
}

}  // namespace

void QuantizeMoeAwq(const LayerStep& step, runtime::LayerTaps& taps) {
  WorkingLayer& layer = step.layer;
  const int64_t hidden = step.model.config().hiddenSize, experts = step.model.config().moe.experts;
  const std::vector<int64_t> sequences(static_cast<size_t>(step.inputs.samples), step.inputs.seqLen);
  const auto width = [](const LinearSlot* s) { return s->linear->inFeatures(); };
  const auto expertSlot = [&](const char* role, int64_t e) {
    for (LinearSlot& s : layer.slots)
      if (s.expert == e && s.role == role) return &s;
    return static_cast<LinearSlot*>(nullptr);
  };
  std::vector<int64_t> routed(static_cast<size_t>(experts), 0);
  for (int64_t e = 0; e < experts; ++e)
    for (int64_t n : taps.expertRowsBySequence.at(static_cast<size_t>(e))) routed[static_cast<size_t>(e)] += n;

  // gate/up: the shared expert's (Qwen2-MoE runs it first), then every routed expert's.
  const std::vector<float> blockInput = PackTokenRows(taps.mlpIn, hidden, sequences);
  std::vector<Member> gateUp;
  for (const char* role : {"gate", "up"})
    if (LinearSlot* s = layer.Find(role)) gateUp.push_back({s, blockInput, step.inputs.tokens()});
  for (int64_t e = 0; e < experts; ++e) {
    const std::vector<int64_t>& counts = taps.expertRowsBySequence[static_cast<size_t>(e)];
    const std::vector<float> feature = PackTokenRows(taps.expertIn[static_cast<size_t>(e)], hidden, counts);
    for (const char* role : {"expert_gate", "expert_up"})
      gateUp.push_back({expertSlot(role, e), feature, routed[static_cast<size_t>(e)]});
  }
  std::vector<float>().swap(taps.mlpIn);
  const bool gateUpFallback = ScaleGroup(step, gateUp, nullptr, blockInput, true);

  // down, one group per expert: the shared expert's, then each routed expert's.
  std::vector<std::vector<Member>> downs;
  std::vector<LinearSlot*> prevs;
  if (LinearSlot* down = layer.Find("down")) {
    downs.push_back({{down, PackTokenRows(taps.downIn, width(down), sequences), step.inputs.tokens()}});
    prevs.push_back(layer.Find("up"));
  }
  for (int64_t e = 0; e < experts; ++e) {
    LinearSlot* down = expertSlot("expert_down", e);
    const std::vector<int64_t>& counts = taps.expertRowsBySequence[static_cast<size_t>(e)];
    downs.push_back({{down, PackTokenRows(taps.expertDownIn[static_cast<size_t>(e)], width(down), counts),
                      routed[static_cast<size_t>(e)]}});
    prevs.push_back(expertSlot("expert_up", e));
  }
  std::vector<bool> downFallback;
  for (size_t i = 0; i < downs.size(); ++i)
    downFallback.push_back(ScaleGroup(step, downs[i], prevs[i], downs[i][0].feature, false));

  QuantizeMembers(step, gateUp, gateUpFallback);
  for (size_t i = 0; i < downs.size(); ++i) QuantizeMembers(step, downs[i], downFallback[i]);
  if (!step.report) return;
  step.report->expertTokens = routed;
  const size_t firstExpertDown = downs.size() - static_cast<size_t>(experts);
  for (int64_t e = 0; e < experts; ++e)
    if (gateUpFallback || downFallback[firstExpertDown + static_cast<size_t>(e)])
      step.report->fallbackExperts.push_back(e);
}

}  // namespace quantstudio::pipeline
