// GPTQ for one decoder layer. With true_sequential (upstream's default) the linears are quantized in
// groups, q,k,v → o → gate,up → down (OPT: q,k,v → out_proj → fc1 → fc2), and before each group the
// layer is re-run with the groups before it already quantized, so each Hessian comes from the inputs
// the linear will see at inference. Without it, one pass of fp inputs feeds every Hessian.
#include <map>
#include <vector>

#include "pipeline/layer_step.h"
#include "quant/hessian.h"
#include "quant/rtn.h"

namespace quantstudio::pipeline {
namespace {

const std::vector<std::vector<InputTap>> kSequentialGroups = {
    {InputTap::Attn}, {InputTap::O}, {InputTap::Mlp, InputTap::ExpertIn}, {InputTap::Down, InputTap::ExpertDown}};

void QuantizeSlot(const LayerStep& step, LinearSlot& slot, const quant::HessianAccumulator& hessian) {
  const Fp32Linear& l = *slot.linear;
  const auto hook = [&](int64_t, int64_t) { return !step.ctx.IsCancelled(); };
  quant::GptqResult r = quant::QuantizeGptq(l.weight.data(), l.outFeatures(), l.inFeatures(), hessian.matrix(),
                                            hessian.samples(), step.options.gptq, hook);
  if (r.cancelled) throw quant::Cancelled();
  if (!r.ok) throw quant::QuantError(slot.name + ": " + r.error);
  StoreGroupQuantized(step, slot, r.quantized);
}

// GPTQModel 7.7's low-sample fallback (gptqmodel/quantization/config.py `Fallback`: strategy "rtn", threshold "0.5%";
// applied per module in gptqmodel/quantization/gptq.py): a linear whose calibration inputs are fewer than 0.5% of the
// calibration tokens is quantized round-to-nearest (min/max) instead of from its Hessian. Only MoE experts, which
// see the tokens routed to them, can fall short.
constexpr double kFallbackFraction = 0.005;

void QuantizeRtnFallback(const LayerStep& step, LinearSlot& slot) {
  const Fp32Linear& l = *slot.linear;
  const quant::WeightMatrix w{slot.name + ".weight", l.weight.data(), l.outFeatures(), l.inFeatures()};
  const quant::RtnOptions rtn{step.options.gptq.bits, step.options.gptq.groupSize, step.options.gptq.sym};
  StoreGroupQuantized(step, slot, quant::QuantizeRtn(w, rtn, step.ctx));
}

// Quantizes the linears reading `inputs`, with Hessians from `taps`: slots sharing a tap (q/k/v; one expert's
// gate/up) share one Hessian, and each expert's comes from the rows routed to it only.
void QuantizeInputs(const LayerStep& step, const std::vector<InputTap>& inputs, runtime::LayerTaps& taps) {
  for (InputTap input : inputs) {
    std::map<int64_t, std::vector<LinearSlot*>> groups;  // by expert; -1: not an expert's
    for (LinearSlot& s : step.layer.slots)
      if (s.input == input && !s.skipped) groups[s.expert].push_back(&s);
    for (auto& [expert, slots] : groups) {
      std::vector<float>& x = TapOf(taps, *slots.front());
      const int64_t cols = slots.front()->linear->inFeatures(), rows = static_cast<int64_t>(x.size()) / cols;
      if (expert >= 0 && input == InputTap::ExpertIn && step.report) {
        step.report->expertTokens.resize(step.model.config().moe.experts);
        step.report->expertTokens[static_cast<size_t>(expert)] = rows;
      }
      if (expert >= 0 && static_cast<double>(rows) < kFallbackFraction * static_cast<double>(step.inputs.tokens())) {
        std::vector<float>().swap(x);
        for (LinearSlot* s : slots) QuantizeRtnFallback(step, *s);
        if (step.report && input == InputTap::ExpertIn) step.report->fallbackExperts.push_back(expert);
        continue;
      }
      quant::HessianAccumulator hessian(cols);
      hessian.AddBatch(x.data(), rows);
      std::vector<float>().swap(x);
      for (LinearSlot* s : slots) QuantizeSlot(step, *s, hessian);
    }
  }
}

}  // namespace

void QuantizeLayerGptq(const LayerStep& step, runtime::LayerTaps fpTaps) {
  if (!step.options.trueSequential) {
    QuantizeInputs(
        step, {InputTap::Attn, InputTap::O, InputTap::Mlp, InputTap::ExpertIn, InputTap::Down, InputTap::ExpertDown},
        fpTaps);
    return;
  }
  for (size_t g = 0; g < kSequentialGroups.size(); ++g) {
    // The first group's inputs do not depend on any quantized linear: the fp pass already has them.
    runtime::LayerTaps taps;
    if (g == 0)
      taps = std::move(fpTaps);
    else
      RunOverCalibration(step, nullptr, &taps);
    QuantizeInputs(step, kSequentialGroups[g], taps);
  }
}

}  // namespace quantstudio::pipeline
