// The forward pass of Model, for one sequence or a batch: the rows of every sequence go through each linear
// together ([batch·m × in] in one product), and only attention looks at each sequence's own KV cache.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>
#include <stdexcept>

#include "core/cancel.h"
#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "runtime/model.h"
#include "runtime/project.h"

namespace quantstudio::runtime {
namespace {

/** Decode (one row x) through linears that share their input: one parallel region over all their outputs, in
 *  16-output units, instead of one region per linear (a handoff to the workers costs about as much as a small
 *  linear's share of the work). Each output is the one Project computes. */
void ProjectShared(const float* x, std::initializer_list<std::pair<const Linear*, float*>> linears) {
  constexpr int64_t kUnit = 16;
  std::vector<std::pair<const Linear*, float*>> parts(linears);
  if (!std::all_of(parts.begin(), parts.end(), [](const auto& part) { return part.first->HasForwardRange(); })) {
    for (const auto& [linear, y] : parts) linear->Forward(x, 1, y);
    return;
  }
  std::vector<size_t> firstUnit{0};
  for (const auto& [linear, y] : parts)
    firstUnit.push_back(firstUnit.back() + static_cast<size_t>((linear->outFeatures() + kUnit - 1) / kUnit));
  ThreadPool& pool = DefaultThreadPool();
  // A few chunks per thread, as the single-linear GEMVs, to rebalance around a descheduled thread.
  const size_t grain = std::max<size_t>(4, firstUnit.back() / (4 * pool.size()));
  pool.ParallelFor(firstUnit.back(), grain, [&](size_t b, size_t e) {
    for (size_t i = 0; i < parts.size(); ++i) {
      const size_t from = std::max(b, firstUnit[i]), to = std::min(e, firstUnit[i + 1]);
      if (from >= to) continue;
      const Linear& linear = *parts[i].first;
      const int64_t j0 = static_cast<int64_t>(from - firstUnit[i]) * kUnit;
      const int64_t j1 = std::min(linear.outFeatures(), static_cast<int64_t>(to - firstUnit[i]) * kUnit);
      linear.ForwardRange(x, j0, j1, parts[i].second);
    }
  });
}

/** Copies the column blocks of x [rows × Σ width] into separate row-major outputs [rows × width]. */
void SplitColumns(const float* x, int64_t rows, std::initializer_list<std::pair<float*, int64_t>> parts) {
  int64_t total = 0;
  for (const auto& part : parts) total += part.second;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * total;
    for (const auto& [out, width] : parts) {
      std::copy(row, row + width, out + r * width);
      row += width;
    }
  }
}

}  // namespace

void Model::Norm(const std::vector<float>& weight, const std::vector<float>& bias, const float* x, int64_t m,
                 float* out) const {
  if (config_.family == Family::Llama)
    kernels::RmsNorm(x, m, config_.hiddenSize, weight.data(), config_.normEps, out);
  else
    kernels::LayerNorm(x, m, config_.hiddenSize, weight.data(), bias.data(), config_.normEps, out);
}

void Model::Embed(const int32_t* ids, int64_t batch, int64_t m, const int64_t* pos0, float* x) const {
  const int64_t rows = batch * m, width = embedTokens_.cols, hidden = config_.hiddenSize;
  std::vector<float> tokens(static_cast<size_t>(rows * width));
  for (int64_t i = 0; i < rows; ++i) kernels::WidenRow(embedTokens_, ids[i], tokens.data() + i * width);
  if (projectIn_)
    Project(*projectIn_, tokens.data(), rows, x);
  else
    std::copy(tokens.begin(), tokens.end(), x);
  if (config_.scaleEmbeddings) {
    for (int64_t i = 0; i < rows * hidden; ++i) x[i] *= embedScale_;
  }
  if (config_.family == Family::Llama) return;
  std::vector<float> position(static_cast<size_t>(hidden));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < m; ++i) {
      kernels::WidenRow(embedPositions_, pos0[b] + i + 2, position.data());  // OPT's learned positions start at 2
      kernels::AddInPlace(x + (b * m + i) * hidden, position.data(), hidden);
    }
  }
}

int64_t Model::windowOf(int64_t index) const {
  return static_cast<size_t>(index) < config_.layerWindows.size() ? config_.layerWindows[static_cast<size_t>(index)]
                                                                  : 0;
}

// Gemma 3: sliding layers rotate with their own RoPE.
const RopeTable& Model::ropeOf(int64_t index) const {
  return windowOf(index) > 0 && !slidingRope_.invFreq.empty() ? slidingRope_ : rope_;
}

void Model::AttentionBlock(const LayerLinears& layer, const LayerNorms& norms, int64_t layerIndex, int64_t slot,
                           const float* h, int64_t m, const std::vector<KvCache*>& caches, float* out,
                           std::vector<float>* tap) const {
  const ModelConfig& c = config_;
  const int64_t qWidth = c.heads * c.headDim, kvWidth = c.kvHeads * c.headDim;
  const int64_t rows = static_cast<int64_t>(caches.size()) * m;
  std::vector<float> q(static_cast<size_t>(rows * qWidth)), k(static_cast<size_t>(rows * kvWidth)),
      v(static_cast<size_t>(rows * kvWidth)), attended(static_cast<size_t>(rows * qWidth));
  if (layer.qkv) {
    // One product, then each row's q | k | v columns apart (Phi-3's qkv_proj stacks them in that order).
    std::vector<float> qkv(static_cast<size_t>(rows * (qWidth + 2 * kvWidth)));
    Project(*layer.qkv, h, rows, qkv.data());
    SplitColumns(qkv.data(), rows, {{q.data(), qWidth}, {k.data(), kvWidth}, {v.data(), kvWidth}});
  } else if (rows == 1) {
    ProjectShared(h, {{layer.q, q.data()}, {layer.k, k.data()}, {layer.v, v.data()}});
  } else {
    Project(*layer.q, h, rows, q.data());
    Project(*layer.k, h, rows, k.data());
    Project(*layer.v, h, rows, v.data());
  }
  const float scale =
      c.attentionScale > 0 ? static_cast<float>(c.attentionScale) : 1.0f / std::sqrt(static_cast<float>(c.headDim));
  const int64_t window = windowOf(layerIndex);
  const RopeTable& ropeTable = ropeOf(layerIndex);
  // Sequence after sequence, each spreading its heads over the pool (measured faster at batch 16 than one
  // region over the sequences).
  for (size_t b = 0; b < caches.size(); ++b) {
    KvCache& cache = *caches[b];
    const int64_t pos0 = cache.length(), row0 = static_cast<int64_t>(b) * m;
    float* qb = q.data() + row0 * qWidth;
    float* kb = k.data() + row0 * kvWidth;
    if (c.family == Family::Llama) {
      if (!norms.qNormWeight.empty()) {
        kernels::RmsNorm(qb, m * c.heads, c.headDim, norms.qNormWeight.data(), c.normEps, qb);
        kernels::RmsNorm(kb, m * c.kvHeads, c.headDim, norms.kNormWeight.data(), c.normEps, kb);
      }
      // One set of frequencies per call, picked by its last position (longrope switches there, as transformers).
      const float* freq = ropeTable.FrequenciesFor(pos0 + m - 1);
      const kernels::RopeShape rope{c.headDim, ropeTable.rotaryDim, ropeTable.attentionScaling};
      for (int64_t i = 0; i < m; ++i) {
        kernels::ApplyRope(qb + i * qWidth, c.heads, rope, pos0 + i, freq);
        kernels::ApplyRope(kb + i * kvWidth, c.kvHeads, rope, pos0 + i, freq);
      }
    }
    cache.Store(slot, kb, v.data() + row0 * kvWidth, m);
    const kernels::AttentionShape shape{c.heads,          c.kvHeads, c.headDim,
                                        cache.capacity(), window,    static_cast<float>(c.attentionSoftcap)};
    kernels::Attention(qb, m, pos0, cache.Layer(slot), shape, scale, attended.data() + row0 * qWidth);
  }
  if (out) Project(*layer.o, attended.data(), rows, out);
  if (tap) *tap = std::move(attended);
}

void Model::MlpBlock(const LayerLinears& layer, const float* h, int64_t m, float* out, std::vector<float>* tap) const {
  // From the linears: a dense MLP (intermediate_size), a MoE expert or Qwen2-MoE's shared expert differ in width.
  const int64_t width = layer.gateUp ? layer.gateUp->outFeatures() / 2 : layer.up->outFeatures();
  std::vector<float> up(static_cast<size_t>(m * width));
  if (layer.gateUp) {
    // Phi-3's gate_up_proj: each row's gate columns, then its up columns.
    std::vector<float> gate(static_cast<size_t>(m * width)), both(static_cast<size_t>(m * 2 * width));
    Project(*layer.gateUp, h, m, both.data());
    SplitColumns(both.data(), m, {{gate.data(), width}, {up.data(), width}});
    kernels::SiluMul(gate.data(), up.data(), m * width);
    if (out) Project(*layer.down, gate.data(), m, out);
    if (tap) *tap = std::move(gate);
    return;
  }
  if (config_.family == Family::Llama) {
    std::vector<float> gate(static_cast<size_t>(m * width));
    if (m == 1) {
      ProjectShared(h, {{layer.gate, gate.data()}, {layer.up, up.data()}});
    } else {
      Project(*layer.up, h, m, up.data());
      Project(*layer.gate, h, m, gate.data());
    }
    if (config_.geluTanh)
      kernels::GeluTanhMul(gate.data(), up.data(), m * width);
    else
      kernels::SiluMul(gate.data(), up.data(), m * width);
    if (out) Project(*layer.down, gate.data(), m, out);
    if (tap) *tap = std::move(gate);
  } else {
    Project(*layer.up, h, m, up.data());
    kernels::Relu(up.data(), m * width);
    if (out) Project(*layer.down, up.data(), m, out);
    if (tap) *tap = std::move(up);
  }
}

void Model::DecoderLayer(const LayerLinears& linears, const LayerNorms& norms, int64_t layerIndex, int64_t slot,
                         float* x, int64_t m, const std::vector<KvCache*>& caches, LayerTaps* taps) const {
  const int64_t rows = static_cast<int64_t>(caches.size()) * m, hidden = config_.hiddenSize;
  const size_t size = static_cast<size_t>(rows * hidden);
  std::vector<float> h(size), delta(size);
  const bool preNorm = config_.family == Family::Llama || config_.layerNormBefore;
  if (preNorm) Norm(norms.norm1Weight, norms.norm1Bias, x, rows, h.data());
  const float* attnIn = preNorm ? h.data() : x;
  if (taps) taps->attnIn.assign(attnIn, attnIn + size);
  AttentionBlock(linears, norms, layerIndex, slot, attnIn, m, caches, delta.data(), taps ? &taps->oIn : nullptr);
  const float* mlpIn = AttentionResidual(norms, delta.data(), x, rows, h.data());
  if (taps) taps->mlpIn.assign(mlpIn, mlpIn + size);
  if (linears.router)
    MoeBlock(linears, mlpIn, rows, delta.data(), taps);
  else
    MlpBlock(linears, mlpIn, rows, delta.data(), taps ? &taps->downIn : nullptr);
  MlpResidual(norms, delta.data(), x, rows);
}

const float* Model::AttentionResidual(const LayerNorms& norms, float* delta, float* x, int64_t rows, float* h) const {
  const bool preNorm = config_.family == Family::Llama || config_.layerNormBefore;
  if (!norms.postAttnWeight.empty()) Norm(norms.postAttnWeight, {}, delta, rows, delta);
  kernels::AddInPlace(x, delta, rows * config_.hiddenSize);
  if (!preNorm) Norm(norms.norm1Weight, norms.norm1Bias, x, rows, x);
  if (preNorm) Norm(norms.norm2Weight, norms.norm2Bias, x, rows, h);
  return preNorm ? h : x;
}

void Model::MlpResidual(const LayerNorms& norms, float* delta, float* x, int64_t rows) const {
  const bool preNorm = config_.family == Family::Llama || config_.layerNormBefore;
  if (!norms.postMlpWeight.empty()) Norm(norms.postMlpWeight, {}, delta, rows, delta);
  kernels::AddInPlace(x, delta, rows * config_.hiddenSize);
  if (!preNorm) Norm(norms.norm2Weight, norms.norm2Bias, x, rows, x);
}

void Model::CheckForward(const int32_t* ids, int64_t m, const std::vector<KvCache*>& caches) const {
  const ModelConfig& c = config_;
  if (m <= 0) throw std::runtime_error("forward needs at least one token");
  if (caches.empty()) throw std::runtime_error("forward needs at least one sequence");
  for (const KvCache* cache : caches) {
    const int64_t needed = cache->length() + m;
    if (needed > cache->capacity()) {
      throw std::runtime_error("the sequence needs " + std::to_string(needed) + " positions but the KV cache holds " +
                               std::to_string(cache->capacity()));
    }
    if (positionLimit() > 0 && needed > positionLimit()) {
      throw std::runtime_error(c.architecture + " runs at most " + std::to_string(positionLimit()) + " tokens (its " +
                               positionLimitReason() + "); the sequence needs " + std::to_string(needed));
    }
  }
  const int64_t count = static_cast<int64_t>(caches.size()) * m;
  for (int64_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocabSize) {
      throw std::runtime_error("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                               " is outside the vocabulary (vocab_size " + std::to_string(c.vocabSize) + ")");
    }
  }
}

void Model::Head(const float* x, int64_t rows, float* logits) const {
  std::vector<float> normed;
  if (!finalNormWeight_.empty()) {
    normed.resize(static_cast<size_t>(rows * config_.hiddenSize));
    Norm(finalNormWeight_, finalNormBias_, x, rows, normed.data());
    x = normed.data();
  }
  if (projectOut_) {
    std::vector<float> projected(static_cast<size_t>(rows * projectOut_->outFeatures()));
    Project(*projectOut_, x, rows, projected.data());
    Project(*lmHead_, projected.data(), rows, logits);
    return;
  }
  Project(*lmHead_, x, rows, logits);
  if (config_.finalSoftcap > 0)
    kernels::Softcap(logits, rows * config_.vocabSize, static_cast<float>(config_.finalSoftcap));
}

void Model::Forward(const int32_t* ids, int64_t m, const std::vector<KvCache*>& caches, float* logits, bool allRows,
                    const int32_t* cancel) const {
  CheckForward(ids, m, caches);
  const int64_t batch = static_cast<int64_t>(caches.size()), rows = batch * m, hidden = config_.hiddenSize;
  std::vector<int64_t> pos0(caches.size());
  for (size_t b = 0; b < caches.size(); ++b) pos0[b] = caches[b]->length();
  std::vector<float> x(static_cast<size_t>(rows * hidden));
  Embed(ids, batch, m, pos0.data(), x.data());
  for (int64_t l = 0; l < config_.layers; ++l) {
    if (CancelRaised(cancel)) throw std::runtime_error("cancelled");
    const Layer& layer = layers_[static_cast<size_t>(l)];
    DecoderLayer(LinearsOf(layer), layer.norms, l, l, x.data(), m, caches, nullptr);
  }
  for (KvCache* cache : caches) cache->Advance(m);
  if (allRows) return Head(x.data(), rows, logits);
  // Only each sequence's last position is predicted from: gather those rows so the head runs on batch rows.
  std::vector<float> last(static_cast<size_t>(batch * hidden));
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = x.data() + ((b + 1) * m - 1) * hidden;
    std::copy(row, row + hidden, last.data() + b * hidden);
  }
  Head(last.data(), batch, logits);
}

void Model::Forward(const int32_t* ids, int64_t m, KvCache& cache, float* logits, bool allRows) const {
  Forward(ids, m, std::vector<KvCache*>{&cache}, logits, allRows);
}

int64_t Model::FirstNonFiniteStage(const int32_t* ids, int64_t m) const {
  const auto finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float f) { return std::isfinite(f); });
  };
  KvCache cache = NewCache(m);
  const std::vector<KvCache*> caches{&cache};
  CheckForward(ids, m, caches);
  std::vector<float> x(static_cast<size_t>(m * config_.hiddenSize));
  const int64_t pos0 = 0;
  Embed(ids, 1, m, &pos0, x.data());
  if (!finite(x)) return -1;
  for (int64_t l = 0; l < config_.layers; ++l) {
    const Layer& layer = layers_[static_cast<size_t>(l)];
    DecoderLayer(LinearsOf(layer), layer.norms, l, l, x.data(), m, caches, nullptr);
    if (!finite(x)) return l;
  }
  std::vector<float> logits(static_cast<size_t>(m * config_.vocabSize));
  Head(x.data(), m, logits.data());
  return finite(logits) ? config_.layers + 1 : config_.layers;
}

}  // namespace quantstudio::runtime
