// A decoder-only model on CPU: Llama family (Llama, Mistral, Qwen2) and OPT. Weights stay in the mapped
// safetensors files in their stored dtype; activations and the KV cache are fp32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "kernels/matmul.h"
#include "runtime/kv_cache.h"
#include "runtime/linear.h"
#include "runtime/model_config.h"

namespace quantstudio::runtime {

class Model {
 public:
  /** Opens the weights of `folder` and checks every tensor against `config`; throws std::runtime_error
   *  (or io::IoError) naming the tensor and what is wrong. */
  static std::unique_ptr<Model> Load(const std::string& folder, const ModelConfig& config);

  const ModelConfig& config() const { return config_; }
  KvCache NewCache(int64_t capacity) const;
  /** Longest sequence the model runs exactly (OPT: its learned positions; Mistral: its sliding window,
   *  which this runtime does not apply, so it stops there; 0: unbounded). */
  int64_t positionLimit() const;
  /** Why positionLimit() exists, for messages. */
  std::string positionLimitReason() const;

  /** Runs ids[0..m) at the next positions of `cache` and appends them to it. logits receives [m, vocab]
   *  when allRows, else the last row only [vocab]. */
  void Forward(const int32_t* ids, int64_t m, KvCache& cache, float* logits, bool allRows) const;

 private:
  struct Layer {
    std::vector<float> norm1Weight, norm1Bias, norm2Weight, norm2Bias;
    std::unique_ptr<Linear> q, k, v, o;
    std::unique_ptr<Linear> gate, up, down;  // Llama: gate/up/down; OPT: up = fc1, down = fc2
  };

  Model() = default;
  void LoadLlama();
  void LoadOpt();
  void Embed(const int32_t* ids, int64_t m, int64_t pos0, float* x) const;
  void AttentionBlock(const Layer& layer, int64_t index, const float* h, int64_t m, KvCache& cache, float* out) const;
  void MlpBlock(const Layer& layer, const float* h, int64_t m, float* out) const;
  void Norm(const std::vector<float>& weight, const std::vector<float>& bias, const float* x, int64_t m, float* out) const;

  ModelConfig config_;
  std::unique_ptr<io::ModelWeights> weights_;
  kernels::MatrixRef embedTokens_{};
  kernels::MatrixRef embedPositions_{};  // OPT
  std::unique_ptr<Linear> projectIn_, projectOut_;  // OPT with word_embed_proj_dim != hidden_size
  std::vector<Layer> layers_;
  std::vector<float> finalNormWeight_, finalNormBias_;
  std::unique_ptr<Linear> lmHead_;
  std::vector<float> ropeInvFreq_;
};

}  // namespace quantstudio::runtime
