// GPTQ v1 layers (AutoGPTQ / GPTQModel "gptq" checkpoint format): `<prefix>.qweight`, `.qzeros`,
// `.scales`, `.g_idx` (optional: without it groups are in column order). Bits and group count come from
// the shapes, so no config is needed here.
#pragma once

#include <memory>
#include <string>

#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.qweight` exists with `<prefix>.g_idx`, or without it in GPTQ's shapes. */
std::unique_ptr<QuantLinear> LoadGptqLinear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions& options);

}  // namespace quantstudio::runtime
