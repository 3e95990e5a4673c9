#include "runtime/batch.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "core/cancel.h"
#include "runtime/non_finite.h"
#include "runtime/sampler.h"

namespace quantstudio::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

/** The length of each of `batch` equal sequences in `count` ids. */
int64_t SequenceLength(const char* call, int64_t count, int64_t batch) {
  if (batch < 1)
    throw std::runtime_error(std::string(call) + ": batch must be at least 1, got " + std::to_string(batch));
  if (count == 0) throw std::runtime_error(std::string(call) + ": the id list is empty");
  if (count % batch != 0) {
    throw std::runtime_error(std::string(call) + ": " + std::to_string(count) + " ids do not split into " +
                             std::to_string(batch) + " sequences of equal length (the ids must be batch × length)");
  }
  return count / batch;
}

void CheckPositions(const Model& model, const char* call, int64_t positions, const std::string& detail) {
  const int64_t limit = model.positionLimit();
  if (limit > 0 && positions > limit) {
    throw std::runtime_error(std::string(call) + ": each sequence needs " + std::to_string(positions) + " positions (" +
                             detail + "), " + model.config().architecture + " runs at most " + std::to_string(limit) +
                             " (its " + model.positionLimitReason() + ")");
  }
}

void ThrowIfCancelled(const int32_t* cancel) {
  if (CancelRaised(cancel)) throw std::runtime_error("cancelled");
}

/** `batch` empty caches of `capacity` positions and the pointer list Model::Forward takes. */
struct Caches {
  Caches(const Model& model, int64_t batch, int64_t capacity) {
    owned.reserve(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) owned.push_back(model.NewCache(capacity));
    for (KvCache& cache : owned) pointers.push_back(&cache);
  }
  std::vector<KvCache> owned;
  std::vector<KvCache*> pointers;
};

/** Each sequence's last-position logits [batch × vocab] checked like single-sequence generate; `generated`
 *  holds each sequence's tokens so far ([batch × stride], the first `done` of each row). */
void CheckFiniteRows(const Model& model, const char* call, const float* logits, const int32_t* prompts, int64_t length,
                     int64_t batch, const std::vector<int32_t>& generated, int64_t stride, int64_t done) {
  const int64_t vocab = model.config().vocabSize;
  for (int64_t b = 0; b < batch; ++b) {
    const auto row = generated.begin() + b * stride;
    CheckFiniteLogits(model, logits + b * vocab, vocab,
                      std::string(call) + ": the logits of sequence " + std::to_string(b), prompts + b * length, length,
                      std::vector<int32_t>(row, row + done));
  }
}

}  // namespace

BatchForwardResult ForwardBatch(const Model& model, const int32_t* ids, int64_t count, int64_t batch,
                                const int32_t* cancel) {
  const int64_t length = SequenceLength("forwardBatch", count, batch);
  CheckPositions(model, "forwardBatch", length, "its length");
  Caches caches(model, batch, length);
  BatchForwardResult result;
  result.logits.resize(static_cast<size_t>(batch * model.config().vocabSize));
  ThrowIfCancelled(cancel);
  const auto started = Clock::now();
  model.Forward(ids, length, caches.pointers, result.logits.data(), false, cancel);
  result.seconds = Seconds(started);
  CheckFiniteRows(model, "forwardBatch", result.logits.data(), ids, length, batch, {}, 0, 0);
  return result;
}

BatchGenerateResult GenerateBatch(const Model& model, const int32_t* prompts, int64_t count, int64_t batch,
                                  int64_t newTokens, const int32_t* cancel,
                                  const std::function<void(int64_t done)>& onStep) {
  const int64_t length = SequenceLength("generateBatch", count, batch);
  if (newTokens < 1) {
    throw std::runtime_error("generateBatch: newTokens must be at least 1, got " + std::to_string(newTokens));
  }
  // The last new token is never fed back, so the caches hold prompt + newTokens − 1 positions.
  const int64_t positions = length + newTokens - 1;
  CheckPositions(model, "generateBatch", positions,
                 std::to_string(length) + " prompt tokens + " + std::to_string(newTokens) + " new tokens − 1");
  const int64_t vocab = model.config().vocabSize;
  Caches caches(model, batch, positions);
  std::vector<float> logits(static_cast<size_t>(batch * vocab));
  std::vector<int32_t> next(static_cast<size_t>(batch));
  BatchGenerateResult result;
  result.tokens.resize(static_cast<size_t>(batch * newTokens));
  ThrowIfCancelled(cancel);
  auto started = Clock::now();
  model.Forward(prompts, length, caches.pointers, logits.data(), false, cancel);
  result.prefillSeconds = Seconds(started);
  started = Clock::now();
  for (int64_t step = 0;; ++step) {
    CheckFiniteRows(model, "generateBatch", logits.data(), prompts, length, batch, result.tokens, newTokens, step);
    for (int64_t b = 0; b < batch; ++b) {
      next[b] = ArgMax(logits.data() + b * vocab, vocab);
      result.tokens[static_cast<size_t>(b * newTokens + step)] = next[b];
    }
    if (onStep) onStep(step + 1);
    if (step + 1 == newTokens) break;
    ThrowIfCancelled(cancel);
    model.Forward(next.data(), 1, caches.pointers, logits.data(), false, cancel);
  }
  result.decodeSeconds = Seconds(started);
  return result;
}

}  // namespace quantstudio::runtime
