#include "pipeline/block_gradient_check.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "pipeline/block_gradient.h"
#include "pipeline/working_layer.h"
#include "runtime/model.h"

namespace quantstudio::pipeline {
namespace {

double Loss(const std::vector<float>& out, const std::vector<float>& target) {
  double sum = 0.0;
  for (size_t i = 0; i < out.size(); ++i) sum += (static_cast<double>(out[i]) - target[i]) * (out[i] - target[i]);
  return sum / static_cast<double>(out.size());
}

}  // namespace

BlockGradientCheck CheckBlockGradient(const PipelineOptions& options, int64_t layerIndex) {
  std::unique_ptr<runtime::Model> model = runtime::Model::Load(options.source, options.model);
  const std::string why = BlockGradientUnsupported(*model, layerIndex);
  if (!why.empty()) throw std::runtime_error(why);
  const int64_t hidden = model->config().hiddenSize, seq = options.seqLen;
  const int64_t windows = static_cast<int64_t>(options.calibration.size()) / seq, rows = windows * seq;
  WorkingLayer layer = LoadLayer(*model, layerIndex);
  std::vector<float> x(static_cast<size_t>(rows * hidden)), reference(x.size()), out(x.size());
  for (int64_t w = 0; w < windows; ++w) {
    model->EmbedSequence(options.calibration.data() + w * seq, seq, &x[static_cast<size_t>(w * seq * hidden)]);
    model->RunLayer(layerIndex, layer.View(), layer.norms, &x[static_cast<size_t>(w * seq * hidden)], seq,
                    &reference[static_cast<size_t>(w * seq * hidden)]);
  }
  BlockLinears linears;
  for (int r = 0; r < kBlockRoles; ++r) {
    Fp32Linear& l = *layer.Find(BlockRoleName(static_cast<BlockRole>(r)))->linear;
    linears[r] = {l.weight.data(), l.bias.empty() ? nullptr : l.bias.data(), l.outFeatures(), l.inFeatures()};
  }
  BlockGradient block(*model, layerIndex, layer.norms);
  block.Forward(linears, x.data(), windows, seq, out.data());
  BlockGradientCheck check;
  for (size_t i = 0; i < out.size(); ++i) {
    check.forwardMaxDiff = std::max(check.forwardMaxDiff, std::fabs(static_cast<double>(out[i]) - reference[i]));
    check.outputMaxAbs = std::max(check.outputMaxAbs, std::fabs(static_cast<double>(reference[i])));
  }
  std::vector<float> target(out.size());
  for (size_t i = 0; i < out.size(); ++i) target[i] = out[i] + 0.5f * std::sin(static_cast<float>(i % 97));
  check.loss = Loss(out, target);
  std::vector<float> gradOut(out.size());
  for (size_t i = 0; i < out.size(); ++i) gradOut[i] = 2.0f * (out[i] - target[i]) / static_cast<float>(out.size());
  std::array<std::vector<float>, kBlockRoles> grads;
  block.Backward(linears, gradOut.data(), grads);

  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  for (int r = 0; r < kBlockRoles; ++r) {
    Fp32Linear& l = *layer.Find(BlockRoleName(static_cast<BlockRole>(r)))->linear;
    double sumSq = 0.0;
    for (float v : l.weight) sumSq += static_cast<double>(v) * v;
    const float eps = static_cast<float>(1e-2 * std::sqrt(sumSq / static_cast<double>(l.weight.size())));
    std::vector<float> direction(l.weight.size());
    for (float& v : direction) v = normal(random);
    RoleGradientCheck c;
    c.role = BlockRoleName(static_cast<BlockRole>(r));
    for (size_t i = 0; i < direction.size(); ++i) c.analytic += static_cast<double>(grads[r][i]) * direction[i];
    const std::vector<float> original = l.weight;
    double at[2];
    for (int side = 0; side < 2; ++side) {
      const float step = side == 0 ? eps : -eps;
      for (size_t i = 0; i < direction.size(); ++i) l.weight[i] = original[i] + step * direction[i];
      block.Forward(linears, x.data(), windows, seq, out.data());
      at[side] = Loss(out, target);
    }
    l.weight = original;
    c.numeric = (at[0] - at[1]) / (2.0 * static_cast<double>(eps));
    check.roles.push_back(c);
  }
  return check;
}

}  // namespace quantstudio::pipeline
