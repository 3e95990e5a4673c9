// SignRound for one decoder layer (auto-round 0.16's block-wise tuning, its defaults from the job): the layer's
// quantized weights are fitted to the full-precision layer's outputs on the full-precision model's own inputs, run
// from the inputs the quantized model gives the layer (AutoRound's enable_quanted_input). Each iteration draws
// batchSize calibration windows, runs the layer forward and backward on them and moves every rounding offset and
// range fraction one signed step, the step decaying linearly to 0; the parameters of the iteration with the least
// loss are the ones written.
#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "pipeline/block_gradient.h"
#include "pipeline/gptq_dynamic.h"
#include "pipeline/layer_step.h"
#include "quant/sign_round.h"

namespace quantstudio::pipeline {
namespace {

// Rows of windows `picked` (each seqLen rows of `width`) gathered into one batch.
void Gather(const std::vector<float>& from, const std::vector<int64_t>& picked, int64_t rowsPerWindow, int64_t width,
            std::vector<float>& to) {
  const size_t window = static_cast<size_t>(rowsPerWindow * width);
  to.resize(picked.size() * window);
  for (size_t i = 0; i < picked.size(); ++i)
    std::copy_n(from.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(picked[i]) * window), window,
                to.begin() + static_cast<std::ptrdiff_t>(i * window));
}

}  // namespace

SignRoundReport QuantizeLayerSignRound(const LayerStep& step, const std::vector<float>& target,
                                       std::vector<float>& qOut) {
  const quant::SignRoundOptions& o = step.options.signRound;
  const int64_t hidden = step.model.config().hiddenSize, seqLen = step.inputs.seqLen;
  BlockLinears linears;
  std::array<LinearSlot*, kBlockRoles> slots{};
  std::array<std::unique_ptr<quant::LearnedGrid>, kBlockRoles> grids;
  std::array<std::vector<float>, kBlockRoles> rounded, grads;
  for (int r = 0; r < kBlockRoles; ++r) {
    LinearSlot* s = step.layer.Find(BlockRoleName(static_cast<BlockRole>(r)));
    if (!s) throw std::runtime_error(step.layer.name + ": no " + BlockRoleName(static_cast<BlockRole>(r)) + " linear");
    slots[r] = s;
    Fp32Linear& l = *s->linear;
    linears[r] = {l.weight.data(), l.bias.empty() ? nullptr : l.bias.data(), l.outFeatures(), l.inFeatures()};
    if (s->skipped) continue;  // kept as stored: its weights stay fixed
    const quant::GptqOptions g = GptqOptionsFor(step.options, s->name);
    grids[r] = std::make_unique<quant::LearnedGrid>(l.weight.data(), l.outFeatures(), l.inFeatures(), g.bits,
                                                    g.groupSize, g.sym);
    rounded[r].resize(l.weight.size());
    linears[r].weight = rounded[r].data();
  }

  BlockGradient block(step.model, step.layer.index, step.layer.norms);
  const int64_t windows = step.inputs.samples, batch = std::min(o.batchSize, windows);
  std::vector<int64_t> order(static_cast<size_t>(windows));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(static_cast<uint64_t>(step.layer.index) + 1);
  std::vector<float> x, want, out, grad;
  SignRoundReport report;
  for (int64_t it = 0; it < o.iters; ++it) {
    step.ctx.CheckCancelled();
    // batch windows drawn without replacement (a partial shuffle)
    for (int64_t i = 0; i < batch; ++i) {
      std::uniform_int_distribution<int64_t> pick(i, windows - 1);
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(pick(random))]);
    }
    const std::vector<int64_t> picked(order.begin(), order.begin() + batch);
    Gather(step.inputs.x, picked, seqLen, hidden, x);
    Gather(target, picked, seqLen, hidden, want);
    for (int r = 0; r < kBlockRoles; ++r)
      if (grids[r]) grids[r]->Dequantize(rounded[r].data());
    out.resize(want.size());
    block.Forward(linears, x.data(), batch, seqLen, out.data());
    double loss = 0.0;
    grad.resize(out.size());
    const float twoOverN = 2.0f / static_cast<float>(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const float e = out[i] - want[i];
      loss += static_cast<double>(e) * e;
      grad[i] = twoOverN * e;
    }
    loss /= static_cast<double>(out.size());
    if (it == 0) report.firstLoss = loss;
    if (it == 0 || loss < report.bestLoss) {
      report.bestLoss = loss;
      report.bestIteration = it;
      for (auto& g : grids)
        if (g) g->KeepBest();
    }
    block.Backward(linears, grad.data(), grads);
    const double decay = 1.0 - static_cast<double>(it) / static_cast<double>(o.iters);
    for (int r = 0; r < kBlockRoles; ++r) {
      if (!grids[r]) continue;
      grids[r]->Backward(grads[r].data());
      grids[r]->Step(static_cast<float>(o.lr * decay), static_cast<float>(o.minmaxLr * decay));
    }
    step.ctx.Report(it + 1, o.iters);
  }
  for (int r = 0; r < kBlockRoles; ++r) {
    if (!grids[r]) continue;
    grids[r]->RestoreBest();
    const quant::GroupQuantized q = grids[r]->Quantize();
    grids[r].reset();
    StoreGroupQuantized(step, *slots[r], q);
  }
  RunOverCalibration(step, &qOut, nullptr);  // the quantized layer feeds the next one
  return report;
}

}  // namespace quantstudio::pipeline
