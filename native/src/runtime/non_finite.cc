#include "runtime/non_finite.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace quantstudio::runtime {
namespace {

/** Where a sequence's numbers first went non-finite, for the message. */
std::string FirstBadStage(const Model& model, const std::vector<int32_t>& ids) {
  const int64_t layers = model.config().layers;
  const int64_t stage = model.FirstNonFiniteStage(ids.data(), static_cast<int64_t>(ids.size()));
  if (stage < 0) return "; first in the token embeddings";
  if (stage < layers)
    return "; first in the output of layer " + std::to_string(stage) + " (model.layers." + std::to_string(stage) + ")";
  if (stage == layers) return "; first in the final norm or lm_head";
  return "";
}

}  // namespace

void CheckFiniteLogits(const Model& model, const float* logits, int64_t vocab, const std::string& subject,
                       const int32_t* prompt, int64_t promptLength, const std::vector<int32_t>& generated) {
  const float* end = logits + vocab;
  const float* bad = std::find_if(logits, end, [](float x) { return !std::isfinite(x); });
  if (bad == end) return;
  std::vector<int32_t> ids(prompt, prompt + promptLength);
  ids.insert(ids.end(), generated.begin(), generated.end());
  const std::string where =
      generated.empty() ? "after the prompt" : "after " + std::to_string(generated.size()) + " generated tokens";
  throw std::runtime_error(subject + " are not finite (" + std::to_string(*bad) + " at vocabulary index " +
                           std::to_string(bad - logits) + ") " + where + FirstBadStage(model, ids) +
                           "; the weights hold NaN or Inf values, or the activations overflow");
}

}  // namespace quantstudio::runtime
