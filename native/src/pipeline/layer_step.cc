#include "pipeline/layer_step.h"

#include <algorithm>

#include "formats/layout_pack.h"

namespace quantstudio::pipeline {

void RunOverCalibration(const LayerStep& step, std::vector<float>* out, runtime::LayerTaps* taps) {
  const int64_t hidden = step.model.config().hiddenSize, seq = step.inputs.seqLen;
  const runtime::LayerLinears view = step.layer.View();
  if (out) out->resize(step.inputs.x.size());
  std::vector<float> scratch(static_cast<size_t>(seq * hidden));
  runtime::LayerTaps one;
  if (taps) *taps = runtime::LayerTaps();
  for (int64_t s = 0; s < step.inputs.samples; ++s) {
    step.ctx.CheckCancelled();
    const float* x = step.inputs.x.data() + s * seq * hidden;
    float* y = out ? out->data() + s * seq * hidden : scratch.data();
    step.model.RunLayer(step.layer.index, view, step.layer.norms, x, seq, y, taps ? &one : nullptr);
    if (!taps) continue;
    taps->attnIn.insert(taps->attnIn.end(), one.attnIn.begin(), one.attnIn.end());
    taps->oIn.insert(taps->oIn.end(), one.oIn.begin(), one.oIn.end());
    taps->mlpIn.insert(taps->mlpIn.end(), one.mlpIn.begin(), one.mlpIn.end());
    taps->downIn.insert(taps->downIn.end(), one.downIn.begin(), one.downIn.end());
    taps->expertIn.resize(one.expertIn.size());
    taps->expertDownIn.resize(one.expertDownIn.size());
    taps->expertRowsBySequence.resize(one.expertIn.size());
    for (size_t e = 0; e < one.expertIn.size(); ++e) {
      taps->expertRowsBySequence[e].push_back(static_cast<int64_t>(one.expertIn[e].size()) / hidden);
      taps->expertIn[e].insert(taps->expertIn[e].end(), one.expertIn[e].begin(), one.expertIn[e].end());
      taps->expertDownIn[e].insert(taps->expertDownIn[e].end(), one.expertDownIn[e].begin(), one.expertDownIn[e].end());
    }
  }
}

std::vector<float>& TapOf(runtime::LayerTaps& taps, InputTap input) {
  switch (input) {
    case InputTap::Attn: return taps.attnIn;
    case InputTap::O: return taps.oIn;
    case InputTap::Mlp: return taps.mlpIn;
    default: return taps.downIn;
  }
}

std::vector<float>& TapOf(runtime::LayerTaps& taps, const LinearSlot& slot) {
  if (slot.input == InputTap::ExpertIn) return taps.expertIn.at(static_cast<size_t>(slot.expert));
  if (slot.input == InputTap::ExpertDown) return taps.expertDownIn.at(static_cast<size_t>(slot.expert));
  return TapOf(taps, slot.input);
}

void StoreGroupQuantized(const LayerStep& step, LinearSlot& slot, const quant::GroupQuantized& q) {
  formats::TensorSet packed = formats::PackGroupLayout(step.options.layout, slot.name, q, step.options.gptqV2);
  for (formats::OwnedTensor& t : packed) {
    std::string name = t.name;
    step.edits.added[name] = std::move(t);
  }
  step.edits.removed.insert(slot.SourceName() + ".weight");
  std::vector<float>& w = slot.linear->weight;
  for (int64_t r = 0; r < q.rows; ++r)
    for (int64_t c = 0; c < q.cols; ++c) w[r * q.cols + c] = q.Dequantize(r, c);
}

void StoreFloatTensor(const LayerStep& step, const std::string& name, const std::vector<float>& values) {
  const io::TensorView& source = step.model.weights().Get(name);
  step.edits.added[name] = formats::OwnedTensor{name, source.dtype, source.shape, EncodeFloats(values, source.dtype)};
}

}  // namespace quantstudio::pipeline
