// The shape of a decoder-only model, parsed from config.json on the TS side (native/lib/runtime-config.ts)
// and passed in as a plain object, so the engine never parses JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  // Llama family: each layer's sliding window (a token sees itself and window − 1 earlier positions); empty or
  // 0 = full attention. Mistral: every layer; Qwen2/Qwen3 with use_sliding_window: layers past max_window_layers.
  std::vector<int64_t> layerWindows;
  // OPT only
  bool layerNormBefore = true;
  bool finalLayerNorm = true;
  int64_t wordEmbedProjDim = 0;
};

}  // namespace quantstudio::runtime
