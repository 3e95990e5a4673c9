// Mixed precision by sensitivity, the measuring half: how far the model's next-token distributions move from the
// full-precision model's when one decoder layer alone is rounded to a width. native/model/bitsAllocation.ts spends a
// bits-per-weight budget on the layers whose loss falls most per stored bit and writes the choice as GPTQModel's
// `dynamic`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"
#include "quant/job.h"

namespace quantstudio::pipeline {

struct LayerWidthLoss {
  std::string layer;       // e.g. model.layers.3
  std::vector<double> kl;  // mean KL(fp ‖ quantized) per predicted calibration token with this layer at each width
};

struct WidthSensitivity {
  double fpNll = 0.0;   // the full-precision model's mean NLL of the windows' next tokens
  int64_t samples = 0;  // calibration windows measured
  int64_t tokens = 0;   // predicted tokens per measurement
  std::vector<LayerWidthLoss> layers;
  double seconds = 0.0;
};

/** For each decoder layer and each of `widths`: the layer's quantized linears rounded to nearest on GPTQ's grid of the
 *  job (its group size, sym and mse, each module's `dynamic` rule; a rule that sets bits keeps them), the calibration
 *  windows of `options` run through it and the full-precision layers after it, and the mean KL divergence of their
 *  next-token distributions from the full-precision model's. Skipped modules stay as stored. Progress counts layers;
 * throws as Quantize does (quant::Cancelled when ctx's flag was raised). */
WidthSensitivity MeasureWidthSensitivity(const PipelineOptions& options, const std::vector<int>& widths,
                                         const std::function<void(int64_t done, int64_t total)>& progress,
                                         const quant::JobContext& ctx);

}  // namespace quantstudio::pipeline
