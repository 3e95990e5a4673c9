// A decoder-only model on CPU: Llama family (Llama, Mistral, Qwen2/3, Phi-3, Gemma 2/3, Mixtral, Qwen2/3-MoE) and OPT.
// Weights stay in the mapped safetensors files in their stored dtype; activations and the KV cache are fp32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/matmul.h"
#include "runtime/kv_cache.h"
#include "runtime/linear.h"
#include "runtime/lora.h"
#include "runtime/model_config.h"
#include "runtime/rope.h"

namespace quantstudio::runtime {

/** One MoE expert's SwiGLU linears (Mixtral: w1, w3, w2). */
struct ExpertLinears {
  const Linear* gate = nullptr;
  const Linear* up = nullptr;
  const Linear* down = nullptr;
};

/** The linears of one decoder layer by role (OPT: gate is null, up = fc1, down = fc2). Non-owning, so a
 *  caller can run a layer with substitute weights (e.g. partially quantized copies). A MoE layer has a router
 *  and its experts; its gate/up/down are Qwen2-MoE's shared expert (null without one). */
struct LayerLinears {
  const Linear* q = nullptr;
  const Linear* k = nullptr;
  const Linear* v = nullptr;
  const Linear* qkv = nullptr;     // Phi-3: q, k and v in one product (q, k, v null)
  const Linear* gateUp = nullptr;  // Phi-3: gate and up in one product (gate, up null)
  const Linear* o = nullptr;
  const Linear* gate = nullptr;
  const Linear* up = nullptr;
  const Linear* down = nullptr;
  const Linear* router = nullptr;            // MoE: [experts × hidden], kept full precision
  const Linear* sharedExpertGate = nullptr;  // Qwen2-MoE: [1 × hidden], sigmoid-gates the shared expert
  std::vector<ExpertLinears> experts;
};

/** The norm parameters of one decoder layer (biases empty for RMSNorm; q/k norms empty unless qkNorm). */
struct LayerNorms {
  std::vector<float> norm1Weight, norm1Bias, norm2Weight, norm2Bias;
  std::vector<float> qNormWeight, kNormWeight;       // [headDim] each
  std::vector<float> postAttnWeight, postMlpWeight;  // Gemma's norms on the attention and MLP outputs
};

/** The inputs each linear of a layer saw, [m × in] row-major: q/k/v share attnIn, gate/up share mlpIn;
 *  oIn is the attention output, downIn the MLP product (OPT: relu(fc1)). */
struct LayerTaps {
  std::vector<float> attnIn, oIn, mlpIn, downIn;
  // MoE: per expert, the rows routed to it ([n × hidden]) and its down_proj input ([n × width]); a shared expert's
  // inputs are mlpIn and downIn.
  std::vector<std::vector<float>> expertIn, expertDownIn;
  /** Per expert, the rows each calibration sequence routed to it (the quantize pipeline fills it when it concatenates
   *  the sequences' taps). */
  std::vector<std::vector<int64_t>> expertRowsBySequence;
};

class Model {
 public:
  /** Opens the weights of `folder` and checks every tensor against `config`; throws std::runtime_error
   *  (or io::IoError) naming the tensor and what is wrong. */
  static std::unique_ptr<Model> Load(const std::string& folder, const ModelConfig& config);

  const ModelConfig& config() const { return config_; }
  KvCache NewCache(int64_t capacity) const;
  /** Longest sequence the model runs exactly (OPT: its learned positions; dynamic NTK RoPE: max_position_embeddings,
   *  past which its frequencies would change; 0: unbounded). */
  int64_t positionLimit() const;
  /** Why positionLimit() exists, for messages. */
  std::string positionLimitReason() const;

  /** Runs caches.size() sequences of m tokens together: ids [batch × m], sequence b at the next positions of
   *  *caches[b] (lengths may differ), appended to it. Every linear sees all batch·m rows in one product, so
   *  its weights are read once per call for the whole batch; attention runs per sequence against its own
   *  cache. logits receives [batch × m × vocab] when allRows, else each sequence's last row [batch × vocab].
   *  A raised `cancel` (core/cancel.h) stops between layers with std::runtime_error("cancelled"), the caches then
   * unusable. */
  void Forward(const int32_t* ids, int64_t m, const std::vector<KvCache*>& caches, float* logits, bool allRows,
               const int32_t* cancel = nullptr) const;
  /** One sequence: the batch-of-one case of the above. */
  void Forward(const int32_t* ids, int64_t m, KvCache& cache, float* logits, bool allRows) const;
  /** For error messages: runs ids[0..m) from position 0 and returns the first stage whose output holds NaN or
   *  Inf: -1 the embedding, 0..layers-1 a decoder layer, layers the head; layers + 1 when all stay finite. */
  int64_t FirstNonFiniteStage(const int32_t* ids, int64_t m) const;

  // Layer-by-layer access for calibration: each call runs one sequence from position 0 with its own cache.

  /** The input of layer 0 for ids[0..m) at positions 0.. (token + OPT position embeddings), x [m × hidden]. */
  void EmbedSequence(const int32_t* ids, int64_t m, float* x) const;
  /** fp32 copies of layer `index`'s norm parameters, as the norms multiply: with normOffset the stored weight
   *  plus one (Gemma), so writing one back subtracts it again. */
  LayerNorms layerNorms(int64_t index) const;
  /** Runs decoder layer `layer` with the given linears and norms (e.g. a partially quantized copy of it)
   *  on x [m × hidden] → out [m × hidden]; taps (optional) receives each linear's input. */
  void RunLayer(int64_t layer, const LayerLinears& linears, const LayerNorms& norms, const float* x, int64_t m,
                float* out, LayerTaps* taps = nullptr) const;
  /** The model's own linears of layer `index`, for RunLayer. */
  LayerLinears layerLinears(int64_t index) const { return LinearsOf(layers_.at(static_cast<size_t>(index))); }
  /** The final norm, OPT's project_out and lm_head on `rows` rows of the last layer's output → [rows × vocab]. */
  void Head(const float* x, int64_t rows, float* logits) const;
  /** The attention block alone (h: the normed input) → its output after o_proj; taps->oIn when given. norms
   *  supplies the q/k norms where the model has them. out null: stops before o_proj (taps->oIn only). */
  void RunAttention(int64_t layer, const LayerLinears& linears, const LayerNorms& norms, const float* h, int64_t m,
                    float* out, LayerTaps* taps = nullptr) const;
  /** The MLP block alone (h: the normed input) → its output after down_proj; taps->downIn when given. out null:
   *  stops before down_proj (taps->downIn only). A MoE layer's view (with its router) runs the MoE block, its taps
   *  as RunLayer's. */
  void RunMlp(const LayerLinears& linears, const float* h, int64_t m, float* out, LayerTaps* taps = nullptr) const;
  /** The rest of a decoder layer from its captured linear inputs, as RunLayer computes it: o_proj on oIn [m × q
   *  width], the residual into x [m × hidden] (the layer input, updated in place) and the MLP's input into mlpIn. */
  void FinishAttention(const LayerLinears& linears, const LayerNorms& norms, const float* oIn, int64_t m, float* x,
                       float* mlpIn) const;
  /** down_proj on downIn [m × width] and the residual into x (FinishAttention's x): x becomes the layer output. */
  void FinishMlp(const LayerLinears& linears, const LayerNorms& norms, const float* downIn, int64_t m, float* x) const;
  /** The RoPE table layer `index` rotates with (Gemma 3's sliding layers: their own), and its attention window (0:
   *  every earlier position). */
  const RopeTable& ropeOf(int64_t index) const;
  int64_t windowOf(int64_t index) const;
  const io::ModelWeights& weights() const { return *weights_; }
  /** The lm_head (the tied embedding when the model ties them). */
  const Linear& lmHead() const { return *lmHead_; }
  /** Replaces the lm_head by another Linear of its shape (an int8 copy for decode: pipeline/int8_lm_head.h). */
  void SetLmHead(std::unique_ptr<Linear> head);
  /** Wraps each listed module's linear in a LoraLinear with its factors from `adapter` (model_lora.cc). Throws
   *  std::runtime_error naming the tensor when a module is not a linear of this model, a factor's shape disagrees,
   *  or the file holds a tensor no listed module reads. */
  void ApplyLora(const io::SafetensorsFile& adapter, const std::vector<LoraModule>& modules);

 private:
  struct Layer {
    LayerNorms norms;
    std::unique_ptr<Linear> q, k, v, o, qkv, gateUp;
    std::unique_ptr<Linear> gate, up, down;  // Llama: gate/up/down; OPT: up = fc1, down = fc2; MoE: shared expert
    std::unique_ptr<Linear> router, sharedExpertGate;
    std::vector<std::unique_ptr<Linear>> experts;  // MoE: gate, up, down of expert 0, then expert 1, ...
  };

  Model() = default;
  void LoadLlama();
  void LoadOpt();
  /** Layer 0's input for `batch` sequences of m ids, sequence b at positions pos0[b].. (OPT adds them). */
  void Embed(const int32_t* ids, int64_t batch, int64_t m, const int64_t* pos0, float* x) const;
  /** h: [caches.size() · m × hidden], sequence b's rows attending over *caches[b]. */
  /** `layer`: the model layer (its attention window); `slot`: its slot in the caches. */
  void AttentionBlock(const LayerLinears& layer, const LayerNorms& norms, int64_t layerIndex, int64_t slot,
                      const float* h, int64_t m, const std::vector<KvCache*>& caches, float* out,
                      std::vector<float>* attended = nullptr) const;
  void MlpBlock(const LayerLinears& layer, const float* h, int64_t m, float* out,
                std::vector<float>* product = nullptr) const;
  /** The MoE block (moe_forward.cc): routing in fp32, each expert on the rows routed to it only, plus Qwen2-MoE's
   *  gated shared expert. */
  void MoeBlock(const LayerLinears& layer, const float* h, int64_t rows, float* out, LayerTaps* taps = nullptr) const;
  void LoadMoe(const std::string& prefix, Layer& layer);
  static LayerLinears LinearsOf(const Layer& layer);
  /** Every linear an adapter may target, by its module name in the checkpoint (PEFT's names). */
  std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> NamedLinears();
  void Norm(const std::vector<float>& weight, const std::vector<float>& bias, const float* x, int64_t m,
            float* out) const;
  /** The residual steps around the blocks (delta: a block's output, normed in place where the model norms it):
   *  after attention x += delta, and h receives the MLP input, which is h or x (returned); after the MLP x += delta. */
  const float* AttentionResidual(const LayerNorms& norms, float* delta, float* x, int64_t rows, float* h) const;
  void MlpResidual(const LayerNorms& norms, float* delta, float* x, int64_t rows) const;
  /** One decoder layer in place on x [caches.size() · m × hidden] (cache slot `index`); the body of both
   *  Forward and RunLayer. */
  void DecoderLayer(const LayerLinears& linears, const LayerNorms& norms, int64_t layerIndex, int64_t slot, float* x,
                    int64_t m, const std::vector<KvCache*>& caches, LayerTaps* taps) const;
  void CheckForward(const int32_t* ids, int64_t m, const std::vector<KvCache*>& caches) const;

  ModelConfig config_;
  std::unique_ptr<io::ModelWeights> weights_;
  kernels::MatrixRef embedTokens_{};
  kernels::MatrixRef embedPositions_{};             // OPT
  std::unique_ptr<Linear> projectIn_, projectOut_;  // OPT with word_embed_proj_dim != hidden_size
  std::vector<Layer> layers_;
  std::vector<float> finalNormWeight_, finalNormBias_;
  std::unique_ptr<Linear> lmHead_;
  RopeTable rope_;
  RopeTable slidingRope_;  // Gemma 3's sliding layers; empty: every layer uses rope_
  float embedScale_ = 1.0f;
};

}  // namespace quantstudio::runtime
