// The block gradient against finite differences, on a real model's layer: what the tests hold BlockGradient to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

namespace quantstudio::pipeline {

struct RoleGradientCheck {
  std::string role;
  double analytic = 0.0;  // Σ dL/dW · D for a random direction D
  double numeric = 0.0;   // (L(W + εD) − L(W − εD)) / 2ε
};

struct BlockGradientCheck {
  /** max |BlockGradient::Forward − Model::RunLayer| over the outputs, and max |RunLayer| for scale. */
  double forwardMaxDiff = 0.0, outputMaxAbs = 0.0;
  double loss = 0.0;
  std::vector<RoleGradientCheck> roles;
};

/** Layer `layer` of options.source on the calibration windows (embedded, as layer 0 sees them), with the loss the mean
 *  squared distance of its output to a fixed target (the output shifted by a deterministic pattern). */
BlockGradientCheck CheckBlockGradient(const PipelineOptions& options, int64_t layer);

}  // namespace quantstudio::pipeline
