#include "runtime/model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/elementwise.h"
#include "runtime/project.h"

namespace quantstudio::runtime {
namespace {

std::string LayerPrefix(const std::string& base, int64_t index) { return base + std::to_string(index) + "."; }

// A norm's weight as the norm multiplies: Gemma stores the offset from one (its RMSNorm computes x · (1 + w)).
std::vector<float> NormVector(const ModelConfig& c, const io::TensorView& t, int64_t n) {
  std::vector<float> w = WidenVector(t, n);
  if (c.normOffset) {
    for (float& v : w) v = 1.0f + v;
  }
  return w;
}

// √hidden_size in fp32, rounded to the embedding's dtype as transformers' Gemma does before multiplying.
float EmbeddingScale(int64_t hidden, DType storage) {
  const float s = static_cast<float>(std::sqrt(static_cast<double>(hidden)));
  if (storage == DType::F16) return F16ToF32(F32ToF16(s));
  if (storage == DType::BF16) return Bf16ToF32(F32ToBf16(s));
  return s;
}

}  // namespace

std::unique_ptr<Model> Model::Load(const std::string& folder, const ModelConfig& config) {
  if (config.hiddenSize <= 0 || config.layers <= 0 || config.heads <= 0 || config.kvHeads <= 0 || config.headDim <= 0 ||
      config.vocabSize <= 0) {
    throw std::runtime_error(folder +
                             "/config.json: hidden_size, num_hidden_layers, num_attention_heads, "
                             "num_key_value_heads, head_dim and vocab_size must all be positive");
  }
  if (config.heads % config.kvHeads != 0) {
    throw std::runtime_error(folder + "/config.json: num_attention_heads (" + std::to_string(config.heads) +
                             ") must be a multiple of num_key_value_heads (" + std::to_string(config.kvHeads) + ")");
  }
  std::unique_ptr<Model> model(new Model());
  model->config_ = config;
  model->weights_ = io::ModelWeights::Open(folder);
  if (config.family == Family::Llama)
    model->LoadLlama();
  else
    model->LoadOpt();
  return model;
}

void Model::LoadLlama() {
  const ModelConfig& c = config_;
  const LinearOptions linear{c.gptqV2Zeros};
  const io::ModelWeights& w = *weights_;
  const int64_t qWidth = c.heads * c.headDim, kvWidth = c.kvHeads * c.headDim;
  embedTokens_ = DenseMatrix(w.Get("model.embed_tokens.weight"), c.vocabSize, c.hiddenSize);
  if (c.scaleEmbeddings) embedScale_ = EmbeddingScale(c.hiddenSize, embedTokens_.dtype);
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix("model.layers.", i);
    Layer layer;
    layer.norms.norm1Weight = NormVector(c, w.Get(p + "input_layernorm.weight"), c.hiddenSize);
    if (c.sandwichNorms) {
      layer.norms.postAttnWeight = NormVector(c, w.Get(p + "post_attention_layernorm.weight"), c.hiddenSize);
      layer.norms.norm2Weight = NormVector(c, w.Get(p + "pre_feedforward_layernorm.weight"), c.hiddenSize);
      layer.norms.postMlpWeight = NormVector(c, w.Get(p + "post_feedforward_layernorm.weight"), c.hiddenSize);
    } else {
      layer.norms.norm2Weight = NormVector(c, w.Get(p + "post_attention_layernorm.weight"), c.hiddenSize);
    }
    if (c.qkNorm) {
      layer.norms.qNormWeight = NormVector(c, w.Get(p + "self_attn.q_norm.weight"), c.headDim);
      layer.norms.kNormWeight = NormVector(c, w.Get(p + "self_attn.k_norm.weight"), c.headDim);
    }
    if (c.fusedProjections) {
      layer.qkv = LoadLinear(w, p + "self_attn.qkv_proj", c.hiddenSize, qWidth + 2 * kvWidth, linear);
      // GPTQModel writes Phi-3's MLP as gate_proj and up_proj; the model itself (and AWQ, bitsandbytes) fuses them.
      if (w.Find(p + "mlp.gate_up_proj.weight") || w.Find(p + "mlp.gate_up_proj.qweight")) {
        layer.gateUp = LoadLinear(w, p + "mlp.gate_up_proj", c.hiddenSize, 2 * c.intermediateSize, linear);
      } else {
        layer.gate = LoadLinear(w, p + "mlp.gate_proj", c.hiddenSize, c.intermediateSize, linear);
        layer.up = LoadLinear(w, p + "mlp.up_proj", c.hiddenSize, c.intermediateSize, linear);
      }
    } else {
      layer.q = LoadLinear(w, p + "self_attn.q_proj", c.hiddenSize, qWidth, linear);
      layer.k = LoadLinear(w, p + "self_attn.k_proj", c.hiddenSize, kvWidth, linear);
      layer.v = LoadLinear(w, p + "self_attn.v_proj", c.hiddenSize, kvWidth, linear);
    }
    layer.o = LoadLinear(w, p + "self_attn.o_proj", qWidth, c.hiddenSize, linear);
    if (c.moe.Sparse(i)) {
      LoadMoe(p, layer);
    } else if (!c.fusedProjections) {
      layer.gate = LoadLinear(w, p + "mlp.gate_proj", c.hiddenSize, c.intermediateSize, linear);
      layer.up = LoadLinear(w, p + "mlp.up_proj", c.hiddenSize, c.intermediateSize, linear);
    }
    if (!c.moe.Sparse(i)) layer.down = LoadLinear(w, p + "mlp.down_proj", c.intermediateSize, c.hiddenSize, linear);
    layers_.push_back(std::move(layer));
  }
  finalNormWeight_ = NormVector(c, w.Get("model.norm.weight"), c.hiddenSize);
  // Tied (or lm_head.weight absent): the head is the embedding matrix.
  if (!c.tieWordEmbeddings && (w.Find("lm_head.weight") || w.Find("lm_head.qweight"))) {
    lmHead_ = LoadLinear(w, "lm_head", c.hiddenSize, c.vocabSize, linear);
  } else {
    lmHead_ = std::make_unique<DenseLinear>(embedTokens_, std::vector<float>());
  }
  if (c.rope.rotaryDim > c.headDim) {
    throw std::runtime_error("RoPE rotates " + std::to_string(c.rope.rotaryDim) + " dimensions of a " +
                             std::to_string(c.headDim) + "-wide head");
  }
  try {
    rope_ = BuildRopeTable(c.rope);
    if (c.hasSlidingRope) slidingRope_ = BuildRopeTable(c.slidingRope);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("config.json: ") + e.what());
  }
}

// The experts as the Hub checkpoints and transformers 5.23's save_pretrained name them, one linear each (5.23 fuses
// them into 3-D experts.gate_up_proj / down_proj in memory only): Mixtral's under block_sparse_moe. (or mlp., the
// name 5.23 renames it to) as w1 (gate), w3 (up), w2 (down); Qwen's, and GPTQModel 7.7's Mixtral, under mlp. as
// gate_proj, up_proj, down_proj.
void Model::LoadMoe(const std::string& p, Layer& layer) {
  const ModelConfig& c = config_;
  const io::ModelWeights& w = *weights_;
  const MoeSettings& moe = c.moe;
  const LinearOptions linear{c.gptqV2Zeros};
  const std::string block =
      moe.mixtralNames && w.Find(p + "block_sparse_moe.gate.weight") ? p + "block_sparse_moe." : p + "mlp.";
  const char* names[3] = {"gate_proj", "up_proj", "down_proj"};
  if (w.Find(block + "experts.0.w1.weight") || w.Find(block + "experts.0.w1.qweight"))
    names[0] = "w1", names[1] = "w3", names[2] = "w2";
  layer.router = LoadLinear(w, block + "gate", c.hiddenSize, moe.experts, linear);
  const int64_t width = moe.expertIntermediateSize;
  for (int64_t e = 0; e < moe.experts; ++e) {
    const std::string ep = block + "experts." + std::to_string(e) + ".";
    layer.experts.push_back(LoadLinear(w, ep + names[0], c.hiddenSize, width, linear));
    layer.experts.push_back(LoadLinear(w, ep + names[1], c.hiddenSize, width, linear));
    layer.experts.push_back(LoadLinear(w, ep + names[2], width, c.hiddenSize, linear));
  }
  if (moe.sharedExpertIntermediateSize > 0) {
    const int64_t shared = moe.sharedExpertIntermediateSize;
    layer.gate = LoadLinear(w, block + "shared_expert.gate_proj", c.hiddenSize, shared, linear);
    layer.up = LoadLinear(w, block + "shared_expert.up_proj", c.hiddenSize, shared, linear);
    layer.down = LoadLinear(w, block + "shared_expert.down_proj", shared, c.hiddenSize, linear);
    layer.sharedExpertGate = LoadLinear(w, block + "shared_expert_gate", c.hiddenSize, 1, linear);
  }
}

void Model::LoadOpt() {
  const ModelConfig& c = config_;
  const LinearOptions linear{c.gptqV2Zeros};
  const io::ModelWeights& w = *weights_;
  // Checkpoints name the decoder "model.decoder." (transformers) or "decoder." (early facebook/opt-* files).
  const std::string root = w.Find("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
  const int64_t projDim = c.wordEmbedProjDim > 0 ? c.wordEmbedProjDim : c.hiddenSize;
  embedTokens_ = DenseMatrix(w.Get(root + "embed_tokens.weight"), c.vocabSize, projDim);
  embedPositions_ = DenseMatrix(w.Get(root + "embed_positions.weight"), c.maxPositions + 2, c.hiddenSize);
  if (projDim != c.hiddenSize) {
    projectIn_ = LoadLinear(w, root + "project_in", projDim, c.hiddenSize, linear);
    projectOut_ = LoadLinear(w, root + "project_out", c.hiddenSize, projDim, linear);
  }
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = LayerPrefix(root + "layers.", i);
    Layer layer;
    layer.norms.norm1Weight = WidenVector(w.Get(p + "self_attn_layer_norm.weight"), c.hiddenSize);
    layer.norms.norm1Bias = WidenVector(w.Get(p + "self_attn_layer_norm.bias"), c.hiddenSize);
    layer.norms.norm2Weight = WidenVector(w.Get(p + "final_layer_norm.weight"), c.hiddenSize);
    layer.norms.norm2Bias = WidenVector(w.Get(p + "final_layer_norm.bias"), c.hiddenSize);
    layer.q = LoadLinear(w, p + "self_attn.q_proj", c.hiddenSize, c.hiddenSize, linear);
    layer.k = LoadLinear(w, p + "self_attn.k_proj", c.hiddenSize, c.hiddenSize, linear);
    layer.v = LoadLinear(w, p + "self_attn.v_proj", c.hiddenSize, c.hiddenSize, linear);
    layer.o = LoadLinear(w, p + "self_attn.out_proj", c.hiddenSize, c.hiddenSize, linear);
    layer.up = LoadLinear(w, p + "fc1", c.hiddenSize, c.intermediateSize, linear);
    layer.down = LoadLinear(w, p + "fc2", c.intermediateSize, c.hiddenSize, linear);
    layers_.push_back(std::move(layer));
  }
  if (c.finalLayerNorm) {
    finalNormWeight_ = WidenVector(w.Get(root + "final_layer_norm.weight"), c.hiddenSize);
    finalNormBias_ = WidenVector(w.Get(root + "final_layer_norm.bias"), c.hiddenSize);
  }
  if (!c.tieWordEmbeddings && w.Find("lm_head.weight")) {
    lmHead_ = LoadLinear(w, "lm_head", projDim, c.vocabSize, linear);
  } else {
    lmHead_ = std::make_unique<DenseLinear>(embedTokens_, std::vector<float>());
  }
}

void Model::SetLmHead(std::unique_ptr<Linear> head) {
  if (head->inFeatures() != lmHead_->inFeatures() || head->outFeatures() != lmHead_->outFeatures()) {
    throw std::invalid_argument("SetLmHead: the new lm_head's shape differs from the model's");
  }
  lmHead_ = std::move(head);
}

KvCache Model::NewCache(int64_t capacity) const {
  return KvCache(config_.layers, config_.kvHeads, config_.headDim, capacity, config_.kvCacheDtype);
}

int64_t Model::positionLimit() const {
  if (config_.family == Family::Opt) return config_.maxPositions;
  if (config_.rope.type == "dynamic") return config_.maxPositions;
  return 0;
}

std::string Model::positionLimitReason() const {
  if (config_.family == Family::Opt) return "learned positions (max_position_embeddings)";
  return "max_position_embeddings: past it dynamic NTK RoPE changes its frequencies with the sequence length";
}

LayerLinears Model::LinearsOf(const Layer& layer) {
  LayerLinears l;
  l.q = layer.q.get();
  l.k = layer.k.get();
  l.v = layer.v.get();
  l.qkv = layer.qkv.get();
  l.o = layer.o.get();
  l.gate = layer.gate.get();
  l.up = layer.up.get();
  l.gateUp = layer.gateUp.get();
  l.down = layer.down.get();
  l.router = layer.router.get();
  l.sharedExpertGate = layer.sharedExpertGate.get();
  for (size_t e = 0; e + 2 < layer.experts.size(); e += 3) {
    l.experts.push_back({layer.experts[e].get(), layer.experts[e + 1].get(), layer.experts[e + 2].get()});
  }
  return l;
}

void Model::EmbedSequence(const int32_t* ids, int64_t m, float* x) const {
  for (int64_t i = 0; i < m; ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocabSize) {
      throw std::runtime_error("token id " + std::to_string(ids[i]) + " is outside the vocabulary (vocab_size " +
                               std::to_string(config_.vocabSize) + ")");
    }
  }
  const int64_t start = 0;
  Embed(ids, 1, m, &start, x);
}

LayerNorms Model::layerNorms(int64_t index) const { return layers_.at(static_cast<size_t>(index)).norms; }

void Model::RunAttention(int64_t layer, const LayerLinears& linears, const LayerNorms& norms, const float* h, int64_t m,
                         float* out, LayerTaps* taps) const {
  KvCache cache(1, config_.kvHeads, config_.headDim, m);
  AttentionBlock(linears, norms, layer, 0, h, m, std::vector<KvCache*>{&cache}, out, taps ? &taps->oIn : nullptr);
}

void Model::RunMlp(const LayerLinears& linears, const float* h, int64_t m, float* out, LayerTaps* taps) const {
  if (linears.router)
    MoeBlock(linears, h, m, out, taps);
  else
    MlpBlock(linears, h, m, out, taps ? &taps->downIn : nullptr);
}

void Model::FinishAttention(const LayerLinears& linears, const LayerNorms& norms, const float* oIn, int64_t m, float* x,
                            float* mlpIn) const {
  std::vector<float> delta(static_cast<size_t>(m * config_.hiddenSize));
  Project(*linears.o, oIn, m, delta.data());
  const float* in = AttentionResidual(norms, delta.data(), x, m, mlpIn);
  if (in != mlpIn) std::copy(in, in + m * config_.hiddenSize, mlpIn);
}

void Model::FinishMlp(const LayerLinears& linears, const LayerNorms& norms, const float* downIn, int64_t m,
                      float* x) const {
  std::vector<float> delta(static_cast<size_t>(m * config_.hiddenSize));
  Project(*linears.down, downIn, m, delta.data());
  MlpResidual(norms, delta.data(), x, m);
}

void Model::RunLayer(int64_t layer, const LayerLinears& linears, const LayerNorms& norms, const float* x, int64_t m,
                     float* out, LayerTaps* taps) const {
  std::copy(x, x + m * config_.hiddenSize, out);
  KvCache cache(1, config_.kvHeads, config_.headDim, m);
  DecoderLayer(linears, norms, layer, 0, out, m, std::vector<KvCache*>{&cache}, taps);
}

}  // namespace quantstudio::runtime
