// Weight-only methods (RTN, bitsandbytes NF4/FP4, LLM.int8): each linear is quantized from its own
// weights; no calibration data is needed.
#include <cmath>
#include <utility>

#include "formats/layout_pack.h"
#include "core/thread_pool.h"
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

// Replaces the working weight by `dequantized` (taken); returns (Σ(w − ŵ)², Σw²), summed per row on the pool and
// then over the rows in order, so the figure does not depend on the thread count.
std::pair<double, double> Replace(LinearSlot& slot, std::vector<float>& dequantized) {
  std::vector<float>& w = slot.linear->weight;
  const int64_t rows = slot.linear->outFeatures(), cols = slot.linear->inFeatures();
  std::vector<std::pair<double, double>> perRow(static_cast<size_t>(rows));
  DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 16, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      double err = 0.0, norm = 0.0;
      for (size_t i = r * static_cast<size_t>(cols); i < (r + 1) * static_cast<size_t>(cols); ++i) {
        const double d = static_cast<double>(w[i]) - dequantized[i];
        err += d * d;
        norm += static_cast<double>(w[i]) * w[i];
      }
      perRow[r] = {err, norm};
    }
  });
  double err = 0.0, norm = 0.0;
  for (const auto& [e, n] : perRow) {
    err += e;
    norm += n;
  }
  w.swap(dequantized);
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
