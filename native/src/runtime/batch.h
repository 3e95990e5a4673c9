// Batched runs for benchmarks: B sequences of equal length prefilled together, then decoded greedily one
// step at a time, each step one Model::Forward over all B sequences, so every weight is read once per step
// for the whole batch (what makes batch 16 faster per token than batch 1).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/model.h"

namespace quantstudio::runtime {

struct BatchForwardResult {
  std::vector<float> logits;  // [batch × vocab]: each sequence's last position
  double seconds = 0.0;       // the forward alone (caches allocated before the clock starts)
};

/** Prefill of `batch` sequences of count / batch ids each, every one from position 0 with a fresh cache.
 *  Throws std::runtime_error naming the problem (batch, lengths, position limit, token ids, "cancelled", logits
 *  that are not finite: the sequence, and the stage where its numbers first went bad; `cancel` is the word of
 *  core/cancel.h). */
BatchForwardResult ForwardBatch(const Model& model, const int32_t* ids, int64_t count, int64_t batch,
                                const int32_t* cancel);

struct BatchGenerateResult {
  std::vector<int32_t> tokens;  // [batch × newTokens]
  double prefillSeconds = 0.0;  // the batched prompt pass
  double decodeSeconds = 0.0;   // every step after it (newTokens − 1 forwards and the argmaxes)
};

/** Greedy generation of exactly `newTokens` tokens after each of `batch` prompts of count / batch ids (no stop
 *  on eos). onStep(done) runs after each step with the tokens produced per sequence so far (1..newTokens).
 *  Throws like ForwardBatch (each step's logits are checked before the argmax); "cancelled" is checked before
 *  each step and between layers. */
BatchGenerateResult GenerateBatch(const Model& model, const int32_t* prompts, int64_t count, int64_t batch,
                                  int64_t newTokens, const int32_t* cancel,
                                  const std::function<void(int64_t done)>& onStep);

}  // namespace quantstudio::runtime
