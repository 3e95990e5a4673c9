// A Llama-family decoder layer's forward pass with its activations kept, and the backward pass from a loss on its
// output to its seven linears' weights: what learned rounding needs to fit a layer's quantized weights to the
// full-precision layer's outputs. The arithmetic is the runtime's (model_forward.cc): pre-norm RMSNorm, q/k/v with
// their biases, q/k norms where the model has them, RoPE, causal GQA attention (sliding window too), o_proj, the
// gated MLP (SiLU or GELU-tanh), the residuals. Models whose layer differs (Mixture-of-Experts, Phi-3's fused
// projections, Gemma's sandwich norms, soft-capped attention, OPT) are refused by Unsupported().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace quantstudio::pipeline {

enum BlockRole { kQ, kK, kV, kO, kGate, kUp, kDown, kBlockRoles };

/** The slot role of each BlockRole ("q", ..., "down"), as WorkingLayer names them. */
const char* BlockRoleName(BlockRole role);

/** One linear's fp32 weight [rows × cols] and optional bias [rows]. */
struct BlockLinear {
  const float* weight = nullptr;
  const float* bias = nullptr;
  int64_t rows = 0, cols = 0;
};
using BlockLinears = std::array<BlockLinear, kBlockRoles>;

/** Why layer `layer` of the model cannot be differentiated here (a sentence naming what), or "" when it can. */
std::string BlockGradientUnsupported(const runtime::Model& model, int64_t layer);

class BlockGradient {
 public:
  BlockGradient(const runtime::Model& model, int64_t layer, const runtime::LayerNorms& norms);

  /** x: windows sequences of seqLen rows [windows·seqLen × hidden], each from position 0 → out (same shape). Keeps
   *  what Backward reads. */
  void Forward(const BlockLinears& linears, const float* x, int64_t windows, int64_t seqLen, float* out);
  /** From dL/d(out) of the last Forward: dL/dW of each linear into grads[role] (rows × cols, resized). */
  void Backward(const BlockLinears& linears, const float* gradOut, std::array<std::vector<float>, kBlockRoles>& grads);

 private:
  struct HeadTask;
  void LoadHead(HeadTask& task, int64_t window, int64_t kvHead) const;
  void Probabilities(HeadTask& task, const float* lse, float* lseOut) const;
  void Attention(int64_t rows);
  void AttentionBackward(int64_t rows, const float* dOut, float* dq, float* dk, float* dv) const;

  const runtime::ModelConfig& c_;
  const runtime::LayerNorms& norms_;
  const runtime::RopeTable& rope_;
  int64_t window_ = 0;
  float scale_ = 1.0f;
  int64_t windows_ = 0, seqLen_ = 0;
  // The forward's activations, [rows × width] each.
  std::vector<float> x_, inv1_, n1_, qPre_, kPre_, invQ_, invK_, q_, k_, v_, lse_, attended_, y_, inv2_, n2_, gate_,
      up_, product_;
};

}  // namespace quantstudio::pipeline
