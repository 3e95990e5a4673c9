// Weight-only methods (RTN, bitsandbytes NF4/FP4, LLM.int8): each linear is quantized from its own
// weights; no calibration data is needed.
#include <cmath>
#include <utility>

#include "formats/layout_pack.h"
#include "pipeline/layer_step.h"
#include "quant/bnb4.h"
#include "quant/int8.h"
#include "pipeline/gptq_dynamic.h"
#include "quant/rtn.h"

namespace quantstudio::pipeline {
namespace {

void AddPacked(const LayerStep& step, formats::TensorSet packed) {
  for (formats::OwnedTensor& t : packed) {
    std::string name = t.name;
    step.edits.added[name] = std::move(t);
  }
}

// Replaces the working weight by `dequantized`; returns (Σ(w − ŵ)², Σw²).
std::pair<double, double> Replace(LinearSlot& slot, const std::vector<float>& dequantized) {
  std::vector<float>& w = slot.linear->weight;
  double err = 0.0, norm = 0.0;
  for (size_t i = 0; i < w.size(); ++i) {
    err += (static_cast<double>(w[i]) - dequantized[i]) * (static_cast<double>(w[i]) - dequantized[i]);
    norm += static_cast<double>(w[i]) * w[i];
  }
  w = dequantized;
  return {err, norm};
}

}  // namespace

double QuantizeLayerDirect(const LayerStep& step) {
  const PipelineOptions& o = step.options;
  double err = 0.0, norm = 0.0;
  for (LinearSlot& slot : step.layer.slots) {
    if (slot.skipped) continue;
    step.ctx.CheckCancelled();
    const Fp32Linear& l = *slot.linear;
    const quant::WeightMatrix w{slot.name + ".weight", l.weight.data(), l.outFeatures(), l.inFeatures()};
    std::vector<float> dequantized(l.weight.size());
    if (o.method == Method::Rtn) {
      // a layout that stores its own zero points (AWQ) takes asymmetric codes whatever sym says
      const quant::GptqOptions g = GptqOptionsFor(o, slot.name);
      const quant::RtnOptions rtn{g.bits, g.groupSize, formats::LayoutOf(o.layout).symmetric && g.sym};
      const quant::GroupQuantized q = quant::QuantizeRtn(w, rtn, step.ctx);
      for (int64_t r = 0; r < q.rows; ++r)
        for (int64_t c = 0; c < q.cols; ++c) dequantized[r * q.cols + c] = q.Dequantize(r, c);
      const std::pair<double, double> e = Replace(slot, dequantized);
      err += e.first;
      norm += e.second;
      StoreGroupQuantized(step, slot, q);
      continue;
    }
    quant::QuantResult result;
    if (o.method == Method::Int8) {
      quant::Int8Quantized q =
          quant::QuantizeInt8(w, quant::Int8Options{static_cast<float>(o.bnb.int8Threshold)}, step.ctx);
      for (int64_t r = 0; r < q.rows; ++r)
        for (int64_t c = 0; c < q.cols; ++c) dequantized[r * q.cols + c] = q.Dequantize(r, c);
      result = std::move(q);
    } else {
      quant::Bnb4Options b;
      b.type = o.method == Method::Nf4 ? quant::Bnb4Type::NF4 : quant::Bnb4Type::FP4;
      b.blocksize = o.bnbBlocksize;
      b.doubleQuant = o.bnb.doubleQuant;
      quant::Bnb4Quantized q = quant::QuantizeBnb4(w, b, step.ctx);
      dequantized = q.Dequantize();
      result = std::move(q);
    }
    AddPacked(step, formats::PackLayout(o.layout, slot.name, result, o.bnb.computeDtype));
    // bitsandbytes keeps the name `<prefix>.weight`: the packed tensor replaces the source one.
    const std::pair<double, double> e = Replace(slot, dequantized);
    err += e.first;
    norm += e.second;
  }
  return norm > 0.0 ? err / norm : 0.0;
}

}  // namespace quantstudio::pipeline
