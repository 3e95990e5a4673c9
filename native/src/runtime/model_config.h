// The shape of a decoder-only model, parsed from config.json on the TS side (native/lib/runtime-config.ts)
// and passed in as a plain object, so the engine never parses JSON.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/rope.h"

namespace quantstudio::runtime {

enum class Family { Llama, Opt };  // Llama also covers Mistral, Qwen2 and Qwen3: same block, biases by presence

struct ModelConfig {
  Family family = Family::Llama;
  std::string architecture;    // for messages
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;  // OPT: ffn_dim
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t vocabSize = 0;
  int64_t maxPositions = 0;     // OPT: learned positions available; Llama: informational
  float normEps = 1e-5f;
  RopeSettings rope;             // Llama family
  bool qkNorm = false;           // Qwen3: an RMSNorm over each head of q and k (q_norm, k_norm) before RoPE
  bool tieWordEmbeddings = false;
  int64_t slidingWindow = 0;    // Llama family (Mistral): attention span; 0 = full. Longer sequences are refused.
  // OPT only
  bool layerNormBefore = true;
  bool finalLayerNorm = true;
  int64_t wordEmbedProjDim = 0;
};

}  // namespace quantstudio::runtime
