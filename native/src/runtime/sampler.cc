#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace quantstudio::runtime {

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int32_t ArgMax(const float* logits, int64_t vocab) {
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

int32_t Sampler::Sample(const float* logits, int64_t vocab) {
  if (options_.temperature <= 0.0f) return ArgMax(logits, vocab);
  candidates_.resize(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) candidates_[i] = {logits[i] / options_.temperature, static_cast<int32_t>(i)};
  auto byLogit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t kept = candidates_.size();
  if (options_.topK > 0 && static_cast<size_t>(options_.topK) < kept) {
    kept = static_cast<size_t>(options_.topK);
    std::partial_sort(candidates_.begin(), candidates_.begin() + kept, candidates_.end(), byLogit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), byLogit);
  }
  // Probabilities of the kept candidates (sorted, largest first).
  const float mx = candidates_[0].first;
  std::vector<double> probs(kept);
  double sum = 0.0;
  for (size_t i = 0; i < kept; ++i) sum += probs[i] = std::exp(static_cast<double>(candidates_[i].first - mx));
  if (options_.topP < 1.0f) {
    // Smallest prefix whose mass reaches top_p; always at least one token.
    double mass = 0.0;
    size_t cut = 0;
    while (cut < kept) {
      mass += probs[cut] / sum;
      ++cut;
      if (mass >= options_.topP) break;
    }
    kept = cut;
    sum = 0.0;
    for (size_t i = 0; i < kept; ++i) sum += probs[i];
  }
  double r = rng_.Uniform() * sum;
  for (size_t i = 0; i < kept; ++i) {
    r -= probs[i];
    if (r < 0.0) return candidates_[i].second;
  }
  return candidates_[kept - 1].second;
}

}  // namespace quantstudio::runtime
