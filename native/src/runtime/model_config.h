// The shape of a decoder-only model, parsed from config.json on the TS side (native/model/runtimeConfig.ts)
// and passed in as a plain object, so the engine never parses JSON.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include <vector>

#include "runtime/rope.h"

namespace quantstudio::runtime {

enum class Family { Llama, Opt };  // Llama also covers Mistral, Qwen2 and Qwen3: same block, biases by presence

/** Mixture-of-Experts MLPs (Mixtral, Qwen2-MoE, Qwen3-MoE): a router picks topK of `experts` SwiGLU experts per token.
 */
struct MoeSettings {
  int64_t experts = 0;                 // 0: every layer has a dense MLP
  int64_t topK = 0;                    // num_experts_per_tok
  int64_t expertIntermediateSize = 0;  // each expert's width (Mixtral: intermediate_size; Qwen: moe_intermediate_size)
  bool normTopkProb = false;           // the top-k probabilities renormalised to sum to one (Mixtral always)
  int64_t sharedExpertIntermediateSize = 0;  // Qwen2-MoE's shared expert (with its sigmoid gate); 0 = none
  bool mixtralNames = false;          // block_sparse_moe.experts.N.w1/w3/w2, else mlp.experts.N.gate/up/down_proj
  std::vector<int64_t> sparseLayers;  // per layer: 1 = MoE block, 0 = dense MLP (mlp_only_layers, decoder_sparse_step)

  bool Sparse(int64_t layer) const {
    return experts > 0 && static_cast<size_t>(layer) < sparseLayers.size() && sparseLayers[layer] != 0;
  }
};

struct ModelConfig {
  Family family = Family::Llama;
  std::string architecture;  // for messages
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;  // OPT: ffn_dim
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t vocabSize = 0;
  int64_t maxPositions = 0;  // OPT: learned positions available; Llama: informational
  float normEps = 1e-5f;
  RopeSettings rope;            // Llama family (Gemma 3: its full-attention layers)
  bool hasSlidingRope = false;  // Gemma 3: the sliding layers rotate with their own RoPE, slidingRope
  RopeSettings slidingRope;
  bool fusedProjections =
      false;            // Phi-3: one qkv_proj (q, k, v rows stacked) and one gate_up_proj (gate rows, then up)
  bool qkNorm = false;  // Qwen3, Gemma 3: an RMSNorm over each head of q and k (q_norm, k_norm) before RoPE
  // Gemma 2 / 3
  bool normOffset = false;  // RMSNorm multiplies by 1 + weight (the stored weight is the offset)
  bool sandwichNorms =
      false;              // norms after attention and MLP too (post_attention / pre_ and post_feedforward_layernorm)
  bool geluTanh = false;  // GeGLU with gelu_pytorch_tanh instead of SwiGLU
  bool scaleEmbeddings = false;   // embeddings × √hidden_size (the factor rounded to the embedding's dtype)
  double attentionScale = 0.0;    // query_pre_attn_scalar^-0.5; 0 = head_dim^-0.5
  double attentionSoftcap = 0.0;  // attn_logit_softcapping; 0 = none
  double finalSoftcap = 0.0;      // final_logit_softcapping; 0 = none
  bool tieWordEmbeddings = false;
  bool gptqV2Zeros = false;  // quantization_config.checkpoint_format "gptq_v2" (GPTQModel): zero points stored as is
  MoeSettings moe;
  // Llama family: each layer's sliding window (a token sees itself and window − 1 earlier positions); empty or
  // 0 = full attention. Mistral: every layer; Qwen2/Qwen3 with use_sliding_window: layers past max_window_layers.
  std::vector<int64_t> layerWindows;
  // Run options, not the checkpoint's: the KV cache's element type (F32, or F16 at half the bytes per step), and
  // a dense lm_head quantized to int8 at load (pipeline/int8_lm_head.h; the binding that opens the model applies it).
  DType kvCacheDtype = DType::F32;
  bool lmHeadInt8 = false;
  // OPT only
  bool layerNormBefore = true;
  bool finalLayerNorm = true;
  int64_t wordEmbedProjDim = 0;
};

}  // namespace quantstudio::runtime
