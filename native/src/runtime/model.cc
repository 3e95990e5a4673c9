#include "runtime/model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/attention.h"
#include "kernels/elementwise.h"

namespace quantstudio::runtime {
namespace {

std::string LayerPrefix(const std::string& base, int64_t index) { return base + std::to_string(index) + "."; }

}  // namespace

std::unique_ptr<Model> Model::Load(const std::string& folder, const ModelConfig& config) {
  if (config.hiddenSize <= 0 || config.layers <= 0 || config.heads <= 0 || config.kvHeads <= 0 ||
      config.headDim <= 0 || config.vocabSize <= 0) {
    throw std::runtime_error(folder + "/config.json: hidden_size, num_hidden_layers, num_attention_heads, "
                             "num_key_value_heads, head_dim and vocab_size must all be positive");
  }
  if (config.heads % config.kvHeads != 0) {
    throw std::runtime_error(folder + "/config.json: num_attention_heads (" + std::to_string(config.heads) +
                             ") must be a multiple of num_key_value_heads (" + std::to_string(config.kvHeads) + ")");
  }
  std::unique_ptr<Model> model(new Model());
  model->config_ = config;
  model->weights_ = io::ModelWeights::Open(folder);
  if (config.family == Family::Llama) model->LoadLlama();
  else model->LoadOpt();
  return model;
}

void Model::LoadLlama() {
  const ModelConfig& c = config_;
  const io::ModelWeights& w = *weights_;
  const int64_t qWidth = c.heads * c.headDim, kvWidth = c.kvHeads * c.headDim;
  embedTokens_ = DenseMatrix(w.Get("model.embed_tokens.weight"), c.vocabSize, c.hiddenSize);
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix("model.layers.", i);
    Layer layer;
    layer.norm1Weight = WidenVector(w.Get(p + "input_layernorm.weight"), c.hiddenSize);
    layer.norm2Weight = WidenVector(w.Get(p + "post_attention_layernorm.weight"), c.hiddenSize);
    layer.q = LoadLinear(w, p + "self_attn.q_proj", c.hiddenSize, qWidth);
    layer.k = LoadLinear(w, p + "self_attn.k_proj", c.hiddenSize, kvWidth);
    layer.v = LoadLinear(w, p + "self_attn.v_proj", c.hiddenSize, kvWidth);
    layer.o = LoadLinear(w, p + "self_attn.o_proj", qWidth, c.hiddenSize);
    layer.gate = LoadLinear(w, p + "mlp.gate_proj", c.hiddenSize, c.intermediateSize);
    layer.up = LoadLinear(w, p + "mlp.up_proj", c.hiddenSize, c.intermediateSize);
    layer.down = LoadLinear(w, p + "mlp.down_proj", c.intermediateSize, c.hiddenSize);
    layers_.push_back(std::move(layer));
  }
  finalNormWeight_ = WidenVector(w.Get("model.norm.weight"), c.hiddenSize);
  // Tied (or lm_head.weight absent): the head is the embedding matrix.
  if (!c.tieWordEmbeddings && (w.Find("lm_head.weight") || w.Find("lm_head.qweight"))) {
    lmHead_ = LoadLinear(w, "lm_head", c.hiddenSize, c.vocabSize);
  } else {
    lmHead_ = std::make_unique<DenseLinear>(embedTokens_, std::vector<float>());
  }
  ropeInvFreq_.resize(static_cast<size_t>(c.headDim / 2));
  kernels::RopeInverseFrequencies(c.ropeTheta, c.headDim, embedTokens_.dtype, ropeInvFreq_.data());
}

void Model::LoadOpt() {
  const ModelConfig& c = config_;
  const io::ModelWeights& w = *weights_;
  // Checkpoints name the decoder "model.decoder." (transformers) or "decoder." (early facebook/opt-* files).
  const std::string root = w.Find("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
  const int64_t projDim = c.wordEmbedProjDim > 0 ? c.wordEmbedProjDim : c.hiddenSize;
  embedTokens_ = DenseMatrix(w.Get(root + "embed_tokens.weight"), c.vocabSize, projDim);
  embedPositions_ = DenseMatrix(w.Get(root + "embed_positions.weight"), c.maxPositions + 2, c.hiddenSize);
  if (projDim != c.hiddenSize) {
    projectIn_ = LoadLinear(w, root + "project_in", projDim, c.hiddenSize);
    projectOut_ = LoadLinear(w, root + "project_out", c.hiddenSize, projDim);
  }
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix(root + "layers.", i);
    Layer layer;
    layer.norm1Weight = WidenVector(w.Get(p + "self_attn_layer_norm.weight"), c.hiddenSize);
    layer.norm1Bias = WidenVector(w.Get(p + "self_attn_layer_norm.bias"), c.hiddenSize);
    layer.norm2Weight = WidenVector(w.Get(p + "final_layer_norm.weight"), c.hiddenSize);
    layer.norm2Bias = WidenVector(w.Get(p + "final_layer_norm.bias"), c.hiddenSize);
    layer.q = LoadLinear(w, p + "self_attn.q_proj", c.hiddenSize, c.hiddenSize);
    layer.k = LoadLinear(w, p + "self_attn.k_proj", c.hiddenSize, c.hiddenSize);
    layer.v = LoadLinear(w, p + "self_attn.v_proj", c.hiddenSize, c.hiddenSize);
    layer.o = LoadLinear(w, p + "self_attn.out_proj", c.hiddenSize, c.hiddenSize);
    layer.up = LoadLinear(w, p + "fc1", c.hiddenSize, c.intermediateSize);
    layer.down = LoadLinear(w, p + "fc2", c.intermediateSize, c.hiddenSize);
    layers_.push_back(std::move(layer));
  }
  if (c.finalLayerNorm) {
    finalNormWeight_ = WidenVector(w.Get(root + "final_layer_norm.weight"), c.hiddenSize);
    finalNormBias_ = WidenVector(w.Get(root + "final_layer_norm.bias"), c.hiddenSize);
  }
  if (!c.tieWordEmbeddings && w.Find("lm_head.weight")) {
    lmHead_ = LoadLinear(w, "lm_head", projDim, c.vocabSize);
  } else {
    lmHead_ = std::make_unique<DenseLinear>(embedTokens_, std::vector<float>());
  }
}

KvCache Model::NewCache(int64_t capacity) const {
  return KvCache(config_.layers, config_.kvHeads, config_.headDim, capacity);
}

int64_t Model::positionLimit() const {
  return config_.family == Family::Opt ? config_.maxPositions : config_.slidingWindow;
}

std::string Model::positionLimitReason() const {
  return config_.family == Family::Opt ? "learned positions (max_position_embeddings)"
                                       : "sliding-window attention span (sliding_window)";
}

void Model::Norm(const std::vector<float>& weight, const std::vector<float>& bias, const float* x, int64_t m,
                 float* out) const {
  if (config_.family == Family::Llama) kernels::RmsNorm(x, m, config_.hiddenSize, weight.data(), config_.normEps, out);
  else kernels::LayerNorm(x, m, config_.hiddenSize, weight.data(), bias.data(), config_.normEps, out);
}

void Model::Embed(const int32_t* ids, int64_t m, int64_t pos0, float* x) const {
  const int64_t width = embedTokens_.cols;
  std::vector<float> tokens(static_cast<size_t>(m * width));
  for (int64_t i = 0; i < m; ++i) kernels::WidenRow(embedTokens_, ids[i], tokens.data() + i * width);
  if (config_.family == Family::Llama) {
    std::copy(tokens.begin(), tokens.end(), x);
    return;
  }
  if (projectIn_) projectIn_->Forward(tokens.data(), m, x);
  else std::copy(tokens.begin(), tokens.end(), x);
  std::vector<float> position(static_cast<size_t>(config_.hiddenSize));
  for (int64_t i = 0; i < m; ++i) {
    kernels::WidenRow(embedPositions_, pos0 + i + 2, position.data());  // OPT's learned positions start at 2
    kernels::AddInPlace(x + i * config_.hiddenSize, position.data(), config_.hiddenSize);
  }
}

LayerLinears Model::LinearsOf(const Layer& layer) {
  return {layer.q.get(), layer.k.get(), layer.v.get(), layer.o.get(), layer.gate.get(), layer.up.get(),
          layer.down.get()};
}

void Model::AttentionBlock(const LayerLinears& layer, int64_t index, const float* h, int64_t m, KvCache& cache,
                           float* out, std::vector<float>* tap) const {
  const ModelConfig& c = config_;
  const int64_t qWidth = c.heads * c.headDim, kvWidth = c.kvHeads * c.headDim;
  std::vector<float> q(static_cast<size_t>(m * qWidth)), k(static_cast<size_t>(m * kvWidth)),
      v(static_cast<size_t>(m * kvWidth)), attended(static_cast<size_t>(m * qWidth));
  layer.q->Forward(h, m, q.data());
  layer.k->Forward(h, m, k.data());
  layer.v->Forward(h, m, v.data());
  const int64_t pos0 = cache.length();
  if (c.family == Family::Llama) {
    for (int64_t i = 0; i < m; ++i) {
      kernels::ApplyRope(q.data() + i * qWidth, c.heads, c.headDim, pos0 + i, ropeInvFreq_.data());
      kernels::ApplyRope(k.data() + i * kvWidth, c.kvHeads, c.headDim, pos0 + i, ropeInvFreq_.data());
    }
  }
  cache.Store(index, k.data(), v.data(), m);
  const kernels::AttentionShape shape{c.heads, c.kvHeads, c.headDim, cache.capacity()};
  kernels::Attention(q.data(), m, pos0, cache.keys(index), cache.values(index), shape,
                     1.0f / std::sqrt(static_cast<float>(c.headDim)), attended.data());
  layer.o->Forward(attended.data(), m, out);
  if (tap) *tap = std::move(attended);
}

void Model::MlpBlock(const LayerLinears& layer, const float* h, int64_t m, float* out, std::vector<float>* tap) const {
  const int64_t width = config_.intermediateSize;
  std::vector<float> up(static_cast<size_t>(m * width));
  layer.up->Forward(h, m, up.data());
  if (config_.family == Family::Llama) {
    std::vector<float> gate(static_cast<size_t>(m * width));
    layer.gate->Forward(h, m, gate.data());
    kernels::SiluMul(gate.data(), up.data(), m * width);
    layer.down->Forward(gate.data(), m, out);
    if (tap) *tap = std::move(gate);
  } else {
    kernels::Relu(up.data(), m * width);
    layer.down->Forward(up.data(), m, out);
    if (tap) *tap = std::move(up);
  }
}

void Model::EmbedSequence(const int32_t* ids, int64_t m, float* x) const {
  for (int64_t i = 0; i < m; ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocabSize) {
      throw std::runtime_error("token id " + std::to_string(ids[i]) + " is outside the vocabulary (vocab_size " +
                               std::to_string(config_.vocabSize) + ")");
    }
  }
  Embed(ids, m, 0, x);
}

LayerNorms Model::layerNorms(int64_t index) const {
  const Layer& l = layers_.at(static_cast<size_t>(index));
  return {l.norm1Weight, l.norm1Bias, l.norm2Weight, l.norm2Bias};
}

void Model::RunAttention(const LayerLinears& linears, const float* h, int64_t m, float* out, LayerTaps* taps) const {
  KvCache cache(1, config_.kvHeads, config_.headDim, m);
  AttentionBlock(linears, 0, h, m, cache, out, taps ? &taps->oIn : nullptr);
}

void Model::RunMlp(const LayerLinears& linears, const float* h, int64_t m, float* out, LayerTaps* taps) const {
  MlpBlock(linears, h, m, out, taps ? &taps->downIn : nullptr);
}

// The same block order as Forward, for one layer.
void Model::RunLayer(const LayerLinears& linears, const LayerNorms& norms, const float* x, int64_t m, float* out,
                     LayerTaps* taps) const {
  const int64_t hidden = config_.hiddenSize;
  const size_t size = static_cast<size_t>(m * hidden);
  std::vector<float> h(size), delta(size);
  std::copy(x, x + size, out);
  const bool preNorm = config_.family == Family::Llama || config_.layerNormBefore;
  if (preNorm) Norm(norms.norm1Weight, norms.norm1Bias, out, m, h.data());
  const float* attnIn = preNorm ? h.data() : out;
  if (taps) taps->attnIn.assign(attnIn, attnIn + size);
  RunAttention(linears, attnIn, m, delta.data(), taps);
  kernels::AddInPlace(out, delta.data(), m * hidden);
  if (!preNorm) Norm(norms.norm1Weight, norms.norm1Bias, out, m, out);
  if (preNorm) Norm(norms.norm2Weight, norms.norm2Bias, out, m, h.data());
  const float* mlpIn = preNorm ? h.data() : out;
  if (taps) taps->mlpIn.assign(mlpIn, mlpIn + size);
  RunMlp(linears, mlpIn, m, delta.data(), taps);
  kernels::AddInPlace(out, delta.data(), m * hidden);
  if (!preNorm) Norm(norms.norm2Weight, norms.norm2Bias, out, m, out);
}

void Model::Forward(const int32_t* ids, int64_t m, KvCache& cache, float* logits, bool allRows) const {
  const ModelConfig& c = config_;
  const int64_t pos0 = cache.length();
  if (m <= 0) throw std::runtime_error("forward needs at least one token");
  if (pos0 + m > cache.capacity()) {
    throw std::runtime_error("the sequence needs " + std::to_string(pos0 + m) + " positions but the KV cache holds " +
                             std::to_string(cache.capacity()));
  }
  if (positionLimit() > 0 && pos0 + m > positionLimit()) {
    throw std::runtime_error(c.architecture + " runs at most " + std::to_string(positionLimit()) + " tokens (its " +
                             positionLimitReason() + "); the sequence needs " + std::to_string(pos0 + m));
  }
  for (int64_t i = 0; i < m; ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocabSize) {
      throw std::runtime_error("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                               " is outside the vocabulary (vocab_size " + std::to_string(c.vocabSize) + ")");
    }
  }
  const int64_t hidden = c.hiddenSize;
  const size_t size = static_cast<size_t>(m * hidden);
  std::vector<float> x(size), h(size), delta(size);
  Embed(ids, m, pos0, x.data());
  const bool preNorm = c.family == Family::Llama || c.layerNormBefore;
  for (int64_t l = 0; l < c.layers; ++l) {
    const Layer& layer = layers_[static_cast<size_t>(l)];
    if (preNorm) Norm(layer.norm1Weight, layer.norm1Bias, x.data(), m, h.data());
    AttentionBlock(LinearsOf(layer), l, preNorm ? h.data() : x.data(), m, cache, delta.data());
    kernels::AddInPlace(x.data(), delta.data(), m * hidden);
    if (!preNorm) Norm(layer.norm1Weight, layer.norm1Bias, x.data(), m, x.data());
    if (preNorm) Norm(layer.norm2Weight, layer.norm2Bias, x.data(), m, h.data());
    MlpBlock(LinearsOf(layer), preNorm ? h.data() : x.data(), m, delta.data());
    kernels::AddInPlace(x.data(), delta.data(), m * hidden);
    if (!preNorm) Norm(layer.norm2Weight, layer.norm2Bias, x.data(), m, x.data());
  }
  cache.Advance(m);
  const int64_t rows = allRows ? m : 1;
  const float* last = x.data() + (allRows ? 0 : (m - 1) * hidden);
  const float* final = last;
  if (!finalNormWeight_.empty()) {
    Norm(finalNormWeight_, finalNormBias_, last, rows, h.data());
    final = h.data();
  }
  if (projectOut_) {
    std::vector<float> projected(static_cast<size_t>(rows * projectOut_->outFeatures()));
    projectOut_->Forward(final, rows, projected.data());
    lmHead_->Forward(projected.data(), rows, logits);
    return;
  }
  lmHead_->Forward(final, rows, logits);
}

}  // namespace quantstudio::runtime
