// GPTQ for one decoder layer. With true_sequential (upstream's default) the linears are quantized in
// groups, q,k,v → o → gate,up → down (OPT: q,k,v → out_proj → fc1 → fc2), and each group's Hessian comes
// from its inputs with the groups before it already quantized, the inputs the linear will see at inference
// (GPTQModel 7.7 re-runs the whole layer before each group). Without it, one pass of fp inputs feeds every
// Hessian.
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "pipeline/gptq_dynamic.h"
#include "pipeline/layer_step.h"
#include "quant/hessian.h"
#include "quant/rtn.h"

namespace quantstudio::pipeline {
namespace {

const std::vector<std::vector<InputTap>> kSequentialGroups = {
    {InputTap::Attn}, {InputTap::O}, {InputTap::Mlp, InputTap::ExpertIn}, {InputTap::Down, InputTap::ExpertDown}};

void QuantizeSlot(const LayerStep& step, LinearSlot& slot, const quant::HessianAccumulator& hessian,
                  const quant::CrossMomentAccumulator* cross) {
  const Fp32Linear& l = *slot.linear;
  const auto hook = [&](int64_t, int64_t) { return !step.ctx.IsCancelled(); };
  const quant::GptqOptions options = GptqOptionsFor(step.options, slot.name);
  quant::GptqResult r = quant::QuantizeGptq(l.weight.data(), l.outFeatures(), l.inFeatures(), hessian.matrix(),
                                            hessian.samples(), options, hook, cross ? &cross->matrix() : nullptr);
  if (r.cancelled) throw quant::Cancelled();
  if (!r.ok) throw quant::QuantError(slot.name + ": " + r.error);
  if (step.report && r.dampPercent > options.dampPercent)
    step.report->raisedDamping.push_back({slot.name, r.dampPercent});
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
  const quant::GptqOptions g = GptqOptionsFor(step.options, slot.name);
  const quant::RtnOptions rtn{g.bits, g.groupSize, g.sym};
  StoreGroupQuantized(step, slot, quant::QuantizeRtn(w, rtn, step.ctx));
}

// Quantizes the linears reading `inputs`, with Hessians from `taps`: slots sharing a tap (q/k/v; one expert's
// gate/up) share one Hessian, and each expert's comes from the rows routed to it only. The inputs are freed once
// their Hessian is built unless `keep` (the next stage reads them). GPTAQ: `native` holds the same taps in the
// full-precision model, each freed once its cross moment is built.
void QuantizeInputs(const LayerStep& step, const std::vector<InputTap>& inputs, runtime::LayerTaps& taps,
                    runtime::LayerTaps* native, bool keep = false) {
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
      std::unique_ptr<quant::CrossMomentAccumulator> cross;
      if (native) {
        std::vector<float>& fp = TapOf(*native, *slots.front());
        if (fp.size() != x.size())  // Validate refuses GPTAQ where routing could make them differ (MoE)
          throw std::runtime_error(slots.front()->name + ": the full-precision inputs do not match the quantized ones");
        cross = std::make_unique<quant::CrossMomentAccumulator>(cols);
        cross->AddBatch(fp.data(), x.data(), rows);
        std::vector<float>().swap(fp);
      }
      if (!keep) std::vector<float>().swap(x);
      for (LinearSlot* s : slots) QuantizeSlot(step, *s, hessian, cross.get());
    }
  }
}

// MoE layers (each expert sees the tokens routed to it) and one pass without true_sequential: whole-layer runs.
void QuantizeLayerGptqReruns(const LayerStep& step, runtime::LayerTaps fpTaps, runtime::LayerTaps* native) {
  if (!step.options.trueSequential) {
    QuantizeInputs(
        step, {InputTap::Attn, InputTap::O, InputTap::Mlp, InputTap::ExpertIn, InputTap::Down, InputTap::ExpertDown},
        fpTaps, native);
    return;
  }
  for (size_t g = 0; g < kSequentialGroups.size(); ++g) {
    // The first group's inputs do not depend on any quantized linear: the fp pass already has them.
    runtime::LayerTaps taps;
    if (g == 0)
      taps = std::move(fpTaps);
    else
      RunOverCalibration(step, nullptr, &taps);
    QuantizeInputs(step, kSequentialGroups[g], taps, native);
  }
}

// Runs f(first row) for each calibration sequence, as RunLayer runs them (one sequence per call), so each
// product sees the rows a full re-run would give it and rounds the same.
template <typename F>
void ForEachSequence(const LayerStep& step, F f) {
  for (int64_t s = 0; s < step.inputs.samples; ++s) {
    step.ctx.CheckCancelled();
    f(s * step.inputs.seqLen);
  }
}

// Appends one sequence's rows; the first reserves all `samples` sequences' rows, so the capture never regrows (a
// doubling vector held up to twice its rows plus the copy: 50 MiB above the estimate on tiny-llama's down_proj input).
void Append(std::vector<float>& to, const std::vector<float>& part, int64_t samples) {
  if (to.empty()) to.reserve(part.size() * static_cast<size_t>(samples));
  to.insert(to.end(), part.begin(), part.end());
}

// true_sequential on a dense layer without re-running it per group: each group's inputs are computed from the
// previous group's through only the part of the layer between them (q/k/v + attention → o's input; o and the
// residual → gate/up's input; gate/up → down's input; down and the residual → the layer output), with the calls
// a full re-run makes, so every Hessian and the output are the numbers four re-runs gave, for about one forward
// pass instead of four. qOut receives the quantized layer's output.
void QuantizeSequentialDense(const LayerStep& step, runtime::LayerTaps taps, std::vector<float>& qOut,
                             runtime::LayerTaps* native) {
  const runtime::Model& model = step.model;
  const int64_t hidden = model.config().hiddenSize, seq = step.inputs.seqLen, tokens = step.inputs.tokens();
  for (std::vector<float>* later : {&taps.oIn, &taps.mlpIn, &taps.downIn}) std::vector<float>().swap(*later);
  runtime::LayerTaps one;
  QuantizeInputs(step, {InputTap::Attn}, taps, native, true);
  ForEachSequence(step, [&](int64_t row) {
    model.RunAttention(step.layer.index, step.layer.View(), step.layer.norms, &taps.attnIn[row * hidden], seq, nullptr,
                       &one);
    Append(taps.oIn, one.oIn, step.inputs.samples);
  });
  std::vector<float>().swap(taps.attnIn);
  QuantizeInputs(step, {InputTap::O}, taps, native, true);
  const int64_t oWidth = static_cast<int64_t>(taps.oIn.size()) / tokens;
  qOut = step.inputs.x;  // the residual stream: the layer output once the MLP's part is added
  taps.mlpIn.resize(static_cast<size_t>(tokens * hidden));
  ForEachSequence(step, [&](int64_t row) {
    model.FinishAttention(step.layer.View(), step.layer.norms, &taps.oIn[row * oWidth], seq, &qOut[row * hidden],
                          &taps.mlpIn[row * hidden]);
  });
  std::vector<float>().swap(taps.oIn);
  QuantizeInputs(step, {InputTap::Mlp}, taps, native, true);
  ForEachSequence(step, [&](int64_t row) {
    model.RunMlp(step.layer.View(), &taps.mlpIn[row * hidden], seq, nullptr, &one);
    Append(taps.downIn, one.downIn, step.inputs.samples);
  });
  std::vector<float>().swap(taps.mlpIn);
  QuantizeInputs(step, {InputTap::Down}, taps, native, true);
  const int64_t downWidth = static_cast<int64_t>(taps.downIn.size()) / tokens;
  ForEachSequence(step, [&](int64_t row) {
    model.FinishMlp(step.layer.View(), step.layer.norms, &taps.downIn[row * downWidth], seq, &qOut[row * hidden]);
  });
}

}  // namespace

void QuantizeLayerGptq(const LayerStep& step, runtime::LayerTaps fpTaps, std::vector<float>& qOut,
                       runtime::LayerTaps* native) {
  if (step.options.trueSequential && !step.layer.View().router) {
    QuantizeSequentialDense(step, std::move(fpTaps), qOut, native);
    return;
  }
  QuantizeLayerGptqReruns(step, std::move(fpTaps), native);
  RunOverCalibration(step, &qOut, nullptr);  // the quantized layer feeds the next one
}

}  // namespace quantstudio::pipeline
