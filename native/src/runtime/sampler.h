// Picks the next token from a row of logits: greedy, or temperature → top-k → top-p sampling (the order
// transformers applies its warpers in), from a seeded generator so a seed reproduces a run exactly.
#pragma once

#include <cstdint>
#include <vector>

namespace quantstudio::runtime {

struct SamplingOptions {
  float temperature = 0.0f;  // <= 0: greedy
  int64_t topK = 0;          // 0: off
  float topP = 1.0f;         // 1: off
  uint64_t seed = 0;
};

/** splitmix64: tiny, fast and identical on every platform (std distributions are not). */
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  /** Uniform in [0, 1) with 53 random bits. */
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {}
  int32_t Sample(const float* logits, int64_t vocab);

 private:
  SamplingOptions options_;
  Rng rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

/** Index of the largest logit (the first one on ties). */
int32_t ArgMax(const float* logits, int64_t vocab);

}  // namespace quantstudio::runtime
