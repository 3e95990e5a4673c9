// LoRA as PEFT 0.21.2's LoraLayer computes it: y = base(x) + scale · (x·Aᵀ)·Bᵀ with A [r, in] and B [out, r] in
// fp32. It wraps any base Linear, so an adapter runs over dense and quantized weights alike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "runtime/linear.h"

namespace quantstudio::runtime {

/** One adapted module as the adapter config resolves it: its name in the model (model.layers.0.self_attn.q_proj),
 *  its rank and its scaling (lora_alpha / r, or lora_alpha / √r with use_rslora, after rank/alpha patterns). */
struct LoraModule {
  std::string name;
  int64_t rank = 0;
  double scale = 0.0;
};

/** A module's A and B widened to fp32, with its scaling. */
struct LoraWeights {
  std::vector<float> a;  // [rank, in]
  std::vector<float> b;  // [out, rank]
  int64_t rank = 0, in = 0, out = 0;
  float scale = 0.0f;
};

/** The tensor names PEFT's save_pretrained gives a module's factors (no adapter name in the file). */
std::string LoraTensorName(const std::string& module, char factor);

/** Reads `module`'s lora_A [rank, in] and lora_B [out, rank] from the adapter file; throws std::runtime_error naming
 *  the file, the tensor and both shapes when a factor is missing or disagrees with the [out, in] linear. */
LoraWeights ReadLoraWeights(const io::SafetensorsFile& file, const LoraModule& module, int64_t in, int64_t out);

/** W += scale · B·A on an fp32 [out, in] weight (merge then quantize), in double per element. */
void MergeLora(const LoraWeights& lora, float* weight);

class LoraLinear final : public Linear {
 public:
  LoraLinear(std::unique_ptr<Linear> base, LoraWeights lora);
  int64_t inFeatures() const override { return base_->inFeatures(); }
  int64_t outFeatures() const override { return base_->outFeatures(); }
  void Forward(const float* x, int64_t m, float* y) const override;

 private:
  std::unique_ptr<Linear> base_;
  LoraWeights lora_;
};

}  // namespace quantstudio::runtime
