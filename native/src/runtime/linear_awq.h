// AutoAWQ layers, GEMM or GEMV layout: `<prefix>.qweight`, `.qzeros`, `.scales` (no g_idx). The layout
// and group size come from the shapes.
#pragma once

#include <memory>
#include <string>

#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.qweight` exists without `<prefix>.g_idx` (tried after GPTQ). */
std::unique_ptr<QuantLinear> LoadAwqLinear(const io::ModelWeights& weights, const std::string& prefix,
                                           const LinearOptions& options);

}  // namespace quantstudio::runtime
