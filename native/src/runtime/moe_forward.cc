// The Mixture-of-Experts block of Mixtral, Qwen2-MoE and Qwen3-MoE as transformers 5.23 computes it: router logits,
// softmax in fp32, the top-k experts per token (renormalised with norm_topk_prob; Mixtral always), each expert run on
// the rows routed to it only (so a decode step reads topK experts' weights, not all), their outputs weighted and
// summed in expert order; Qwen2-MoE adds its shared expert scaled by sigmoid(shared_expert_gate).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/elementwise.h"
#include "runtime/model.h"
#include "runtime/project.h"

namespace quantstudio::runtime {
namespace {

struct Routing {
  std::vector<std::vector<int64_t>> rows;   // per expert: the rows routed to it, ascending
  std::vector<std::vector<float>> weights;  // per expert: each routed row's weight
};

Routing Route(const std::vector<float>& logits, int64_t rows, const MoeSettings& moe) {
  const int64_t experts = moe.experts, k = moe.topK;
  Routing routing{std::vector<std::vector<int64_t>>(experts), std::vector<std::vector<float>>(experts)};
  std::vector<float> probs(static_cast<size_t>(experts));
  std::vector<int64_t> order(static_cast<size_t>(experts));
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(logits.begin() + r * experts, logits.begin() + (r + 1) * experts, probs.begin());
    kernels::Softmax(probs.data(), experts);
    std::iota(order.begin(), order.end(), 0);
    // torch.topk's order: largest first (ties to the lower index, which random weights never meet).
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); });
    float sum = 0.0f;
    for (int64_t j = 0; j < k; ++j) sum += probs[order[j]];
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = order[j];
      routing.rows[e].push_back(r);
      routing.weights[e].push_back(moe.normTopkProb ? probs[e] / sum : probs[e]);
    }
  }
  return routing;
}

}  // namespace

void Model::MoeBlock(const LayerLinears& layer, const float* h, int64_t rows, float* out, LayerTaps* taps) const {
  const MoeSettings& moe = config_.moe;
  const int64_t hidden = config_.hiddenSize;
  std::vector<float> logits(static_cast<size_t>(rows * moe.experts));
  Project(*layer.router, h, rows, logits.data());
  const Routing routing = Route(logits, rows, moe);
  std::fill(out, out + rows * hidden, 0.0f);
  if (taps) {
    taps->expertIn.assign(static_cast<size_t>(moe.experts), {});
    taps->expertDownIn.assign(static_cast<size_t>(moe.experts), {});
  }
  std::vector<float> x, y;
  for (int64_t e = 0; e < moe.experts; ++e) {
    const std::vector<int64_t>& routed = routing.rows[e];
    if (routed.empty()) continue;
    const int64_t n = static_cast<int64_t>(routed.size());
    x.resize(static_cast<size_t>(n * hidden));
    y.resize(static_cast<size_t>(n * hidden));
    for (int64_t i = 0; i < n; ++i)
      std::copy(h + routed[i] * hidden, h + (routed[i] + 1) * hidden, x.data() + i * hidden);
    LayerLinears expert;
    expert.gate = layer.experts[e].gate;
    expert.up = layer.experts[e].up;
    expert.down = layer.experts[e].down;
    MlpBlock(expert, x.data(), n, y.data(), taps ? &taps->expertDownIn[e] : nullptr);
    if (taps) taps->expertIn[e] = x;
    for (int64_t i = 0; i < n; ++i) {
      float* row = out + routed[i] * hidden;
      const float weight = routing.weights[e][i];
      for (int64_t j = 0; j < hidden; ++j) row[j] += y[i * hidden + j] * weight;
    }
  }
  if (!layer.sharedExpertGate) return;
  std::vector<float> shared(static_cast<size_t>(rows * hidden)), gate(static_cast<size_t>(rows));
  LayerLinears sharedExpert;
  sharedExpert.gate = layer.gate;
  sharedExpert.up = layer.up;
  sharedExpert.down = layer.down;
  MlpBlock(sharedExpert, h, rows, shared.data(), taps ? &taps->downIn : nullptr);
  Project(*layer.sharedExpertGate, h, rows, gate.data());
  for (int64_t r = 0; r < rows; ++r) {
    const float g = 1.0f / (1.0f + std::exp(-gate[r]));
    for (int64_t j = 0; j < hidden; ++j) out[r * hidden + j] += g * shared[r * hidden + j];
  }
}

}  // namespace quantstudio::runtime
