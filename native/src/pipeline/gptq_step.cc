// GPTQ for one decoder layer. With true_sequential (upstream's default) the linears are quantized in
// groups, q,k,v → o → gate,up → down (OPT: q,k,v → out_proj → fc1 → fc2), and before each group the
// layer is re-run with the groups before it already quantized, so each Hessian comes from the inputs
// the linear will see at inference. Without it, one pass of fp inputs feeds every Hessian.
#include <vector>

#include "pipeline/layer_step.h"
#include "quant/hessian.h"

namespace quantstudio::pipeline {
namespace {

const std::vector<std::vector<InputTap>> kSequentialGroups = {
    {InputTap::Attn}, {InputTap::O}, {InputTap::Mlp}, {InputTap::Down}};

void QuantizeSlot(const LayerStep& step, LinearSlot& slot, const quant::HessianAccumulator& hessian) {
  const Fp32Linear& l = *slot.linear;
  const auto hook = [&](int64_t, int64_t) { return !step.ctx.IsCancelled(); };
  quant::GptqResult r = quant::QuantizeGptq(l.weight.data(), l.outFeatures(), l.inFeatures(), hessian.matrix(),
                                            hessian.samples(), step.options.gptq, hook);
  if (r.cancelled) throw quant::Cancelled();
  if (!r.ok) throw quant::QuantError(slot.name + ": " + r.error);
  StoreGroupQuantized(step, slot, r.quantized);
}

// Quantizes the linears reading `inputs`, with Hessians from `taps`.
void QuantizeInputs(const LayerStep& step, const std::vector<InputTap>& inputs, runtime::LayerTaps& taps) {
  for (InputTap input : inputs) {
    bool any = false;
    for (const LinearSlot& s : step.layer.slots) any = any || (s.input == input && !s.skipped);
    if (!any) continue;
    std::vector<float>& x = TapOf(taps, input);
    int64_t cols = 0;
    for (const LinearSlot& s : step.layer.slots)
      if (s.input == input) cols = s.linear->inFeatures();
    quant::HessianAccumulator hessian(cols);
    hessian.AddBatch(x.data(), static_cast<int64_t>(x.size()) / cols);
    std::vector<float>().swap(x);
    for (LinearSlot& s : step.layer.slots)
      if (s.input == input && !s.skipped) QuantizeSlot(step, s, hessian);
  }
}

}  // namespace

void QuantizeLayerGptq(const LayerStep& step, runtime::LayerTaps fpTaps) {
  if (!step.options.trueSequential) {
    QuantizeInputs(step, {InputTap::Attn, InputTap::O, InputTap::Mlp, InputTap::Down}, fpTaps);
    return;
  }
  for (size_t g = 0; g < kSequentialGroups.size(); ++g) {
    // The first group's inputs do not depend on any quantized linear: the fp pass already has them.
    runtime::LayerTaps taps;
    if (g == 0) taps = std::move(fpTaps);
    else RunOverCalibration(step, nullptr, &taps);
    QuantizeInputs(step, kSequentialGroups[g], taps);
  }
}

}  // namespace quantstudio::pipeline
