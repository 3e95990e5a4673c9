// AWQ for one decoder layer, in AutoAWQ's order: capture every linear's input with the fp layer, then per
// group of linears sharing an input search the input-channel scales s and fold them (the group's weights
// ×s, the op before them ÷s, the captured input ÷s — exact in fp), then clip-search (not for q/k, whose
// outputs meet in the attention product) and quantize with a zero point.
//   q,k,v    ← input_layernorm (OPT: self_attn_layer_norm),  loss: the attention block's output
//   o_proj   ← v_proj rows, only when v and o have the same shape (no GQA),  loss: o_proj's output
//   gate,up  ← post_attention_layernorm (OPT fc1 ← final_layer_norm),  loss: the MLP block's output
//   down     ← up_proj rows (OPT: fc2 ← fc1),  loss: down_proj's output
// A group with a skipped linear (or whose fold target is skipped) keeps s = 1 and is not folded.
// A Mixture-of-Experts block has its own groups (awq_moe_step.cc).
#include <memory>
#include <vector>

#include "pipeline/awq_scales.h"

namespace quantstudio::pipeline {

using Candidates = std::vector<std::vector<float>>;

double MeanSquaredDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return a.empty() ? 0.0 : sum / static_cast<double>(a.size());
}

namespace {

// Points every use of `from` in the view at `to`.
void Replace(runtime::LayerLinears& v, const runtime::Linear* from, const runtime::Linear* to) {
  for (const runtime::Linear** p : {&v.q, &v.k, &v.v, &v.o, &v.qkv, &v.gateUp, &v.gate, &v.up, &v.down})
    if (*p == from) *p = to;
  for (runtime::ExpertLinears& e : v.experts)
    for (const runtime::Linear** p : {&e.gate, &e.up, &e.down})
      if (*p == from) *p = to;
}

}  // namespace

Substituted Substitute(const WorkingLayer& layer, const std::vector<LinearSlot*>& slots, const Candidates& weights) {
  Substituted s{{}, layer.View()};
  for (size_t i = 0; i < slots.size(); ++i) {
    const Fp32Linear& l = *slots[i]->linear;
    s.owned.push_back(std::make_unique<Fp32Linear>(weights[i], l.bias, l.outFeatures(), l.inFeatures()));
    Replace(s.view, &l, s.owned.back().get());
  }
  return s;
}

std::vector<float> SearchGroupScales(const LayerStep& step, const std::vector<LinearSlot*>& slots,
                                     const std::vector<float>& x, const quant::AwqOutputLoss& loss) {
  const int64_t cols = slots[0]->linear->inFeatures();
  std::vector<quant::AwqLinear> linears;
  for (LinearSlot* s : slots) linears.push_back({s->linear->weight.data(), s->linear->outFeatures()});
  const auto hook = [&](int64_t, int64_t) { return !step.ctx.IsCancelled(); };
  const int64_t tokens = static_cast<int64_t>(x.size()) / cols;
  const quant::AwqScaleResult r = quant::SearchAwqScales(linears, cols, x.data(), tokens, step.options.awq, loss, hook);
  if (r.cancelled) throw quant::Cancelled();
  if (!r.ok) throw quant::QuantError(slots[0]->name + ": AWQ scale search: " + r.error);
  return r.scales;
}

void FoldScales(const LayerStep& step, const std::vector<LinearSlot*>& slots, LinearSlot* prev, int64_t prevFrom,
                bool normIsFirst, const std::vector<float>& s) {
  const int64_t cols = slots[0]->linear->inFeatures();
  for (LinearSlot* slot : slots) MultiplyColumns(slot->linear->weight, cols, s);
  if (prev) {
    Fp32Linear& l = *prev->linear;
    DivideRows(l.weight, l.inFeatures(), s, prevFrom);
    for (size_t i = 0; i < s.size() && !l.bias.empty(); ++i) l.bias[static_cast<size_t>(prevFrom) + i] /= s[i];
    if (!l.bias.empty()) StoreFloatTensor(step, prev->name + ".bias", l.bias);
    return;
  }
  WorkingLayer& layer = step.layer;
  std::vector<float>& weight = normIsFirst ? layer.norms.norm1Weight : layer.norms.norm2Weight;
  std::vector<float>& bias = normIsFirst ? layer.norms.norm1Bias : layer.norms.norm2Bias;
  for (size_t i = 0; i < weight.size(); ++i) weight[i] /= s[i];
  for (size_t i = 0; i < bias.size(); ++i) bias[i] /= s[i];
  const NormTensorNames& n = layer.normNames;
  if (step.model.config().normOffset) {
    // Gemma stores the offset from one: write back what the norm multiplies by, minus one.
    std::vector<float> stored(weight);
    for (float& v : stored) v -= 1.0f;
    StoreFloatTensor(step, normIsFirst ? n.norm1Weight : n.norm2Weight, stored);
  } else {
    StoreFloatTensor(step, normIsFirst ? n.norm1Weight : n.norm2Weight, weight);
  }
  if (!bias.empty()) StoreFloatTensor(step, normIsFirst ? n.norm1Bias : n.norm2Bias, bias);
}

void QuantizeAwqSlot(const LayerStep& step, LinearSlot& slot, const std::vector<float>& x, bool clip) {
  step.ctx.CheckCancelled();
  const int64_t cols = slot.linear->inFeatures();
  const std::vector<float> ones(static_cast<size_t>(cols), 1.0f);
  quant::AwqLinearResult r = quant::QuantizeAwqLinear(
      slot.linear->weight.data(), slot.linear->outFeatures(), cols, ones, clip ? x.data() : nullptr,
      clip ? static_cast<int64_t>(x.size()) / cols : 0, clip, step.options.awq);
  if (!r.ok) throw quant::QuantError(slot.name + ": " + r.error);
  StoreGroupQuantized(step, slot, r.quantized);
}

namespace {

// Output of the attention or MLP block on x, one calibration sequence at a time (attention is causal
// within each; the MLP's intermediate activations stay one sequence large).
std::vector<float> BlockOutput(const LayerStep& step, const runtime::LayerLinears& view, const std::vector<float>& x,
                               bool attention) {
  const int64_t hidden = step.model.config().hiddenSize, seq = step.inputs.seqLen;
  std::vector<float> out(x.size());
  for (int64_t s = 0; s < step.inputs.samples; ++s) {
    const float* in = x.data() + s * seq * hidden;
    float* y = out.data() + s * seq * hidden;
    if (attention)
      step.model.RunAttention(step.layer.index, view, step.layer.norms, in, seq, y);
    else
      step.model.RunMlp(view, in, seq, y);
  }
  return out;
}

struct ScaleGroup {
  std::vector<std::string> roles;  // linears sharing the input
  InputTap input;
  std::string foldRole;     // the previous linear whose rows absorb 1/s; empty: a norm
  bool normIsFirst = true;  // which norm absorbs 1/s when foldRole is empty
  bool blockLoss = false;   // inspect the attention / MLP block output
};

void SearchAndFold(const LayerStep& step, const ScaleGroup& g, runtime::LayerTaps& taps) {
  WorkingLayer& layer = step.layer;
  std::vector<LinearSlot*> slots;
  bool skip = false;
  for (const std::string& role : g.roles) {
    LinearSlot* s = layer.Find(role);
    if (!s) continue;  // OPT has no gate: fc1 alone takes the MLP input
    slots.push_back(s);
    skip = skip || s->skipped;
  }
  LinearSlot* fold = g.foldRole.empty() ? nullptr : layer.Find(g.foldRole);
  int64_t foldFrom = 0;  // the fold's first row that feeds the scaled input
  if (fold) {
    const int64_t width = slots[0]->linear->inFeatures(), rows = fold->linear->outFeatures();
    const runtime::ModelConfig& c = step.model.config();
    if (fold->role == "qkv") {
      // AutoAWQ folds into a fused projection's last rows: v, which feeds o only without grouped-query attention.
      if (c.kvHeads * c.headDim != width) return;
      foldFrom = rows - width;
    } else if (fold->role == "gate_up") {
      if (rows != 2 * width) return;
      foldFrom = width;  // the up half, which multiplies into down's input
    } else if (rows != width || fold->linear->inFeatures() != slots[0]->linear->outFeatures()) {
      // AutoAWQ scales o_proj from v_proj only when their shapes match (no grouped-query attention).
      return;
    }
    skip = skip || fold->skipped;
  }
  if (skip || slots.empty()) return;

  std::vector<float>& x = TapOf(taps, g.input);
  quant::AwqOutputLoss loss;
  std::vector<float> reference;
  if (g.blockLoss) {
    const bool attention = g.input == InputTap::Attn;
    reference = BlockOutput(step, layer.View(), x, attention);
    // attention by value: the lambda outlives this block (found by the sanitized test build).
    loss = [&, attention](const Candidates& candidates) {
      step.ctx.CheckCancelled();
      const Substituted sub = Substitute(layer, slots, candidates);
      return MeanSquaredDiff(BlockOutput(step, sub.view, x, attention), reference);
    };
  }
  const std::vector<float> scales = SearchGroupScales(step, slots, x, loss);
  FoldScales(step, slots, fold, foldFrom, g.normIsFirst, scales);
  DivideColumns(x, slots[0]->linear->inFeatures(), scales);
}

}  // namespace

void QuantizeLayerAwq(const LayerStep& step, runtime::LayerTaps taps) {
  const bool fused = step.layer.Find("qkv") != nullptr, moe = step.layer.Find("router") != nullptr;
  std::vector<ScaleGroup> groups = fused ? std::vector<ScaleGroup>{
      {{"qkv"}, InputTap::Attn, "", true, true},
      {{"o"}, InputTap::O, "qkv", true, false},
      {{"gate_up"}, InputTap::Mlp, "", false, true},
      {{"down"}, InputTap::Down, "gate_up", false, false},
  } : std::vector<ScaleGroup>{
      {{"q", "k", "v"}, InputTap::Attn, "", true, true},
      {{"o"}, InputTap::O, "v", true, false},
      {{"gate", "up"}, InputTap::Mlp, "", false, true},
      {{"down"}, InputTap::Down, "up", false, false},
  };
  if (moe) groups.resize(2);  // the MoE block's groups (a shared expert's gate/up/down among them) are its own
  for (const ScaleGroup& g : groups) SearchAndFold(step, g, taps);
  for (LinearSlot& s : step.layer.slots) {
    if (s.skipped || (moe && s.input != InputTap::Attn && s.input != InputTap::O)) continue;
    QuantizeAwqSlot(step, s, TapOf(taps, s.input), s.role != "q" && s.role != "k");
  }
  if (moe) QuantizeMoeAwq(step, taps);
}

}  // namespace quantstudio::pipeline
