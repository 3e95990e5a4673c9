// compressed-tensors "pack-quantized" layers (llm-compressor's W4A16 / W8A16): `<prefix>.weight_packed`,
// `.weight_scale`, `.weight_shape` and, when asymmetric, `.weight_zero_point`. Bits and group size come from
// the shapes; config.json's scheme is checked before loading (model/runtimeConfig.ts).
#pragma once

#include <memory>
#include <string>

#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.weight_packed` exists. */
std::unique_ptr<QuantLinear> LoadCtPackedLinear(const io::ModelWeights& weights, const std::string& prefix,
                                                const LinearOptions& options);

}  // namespace quantstudio::runtime
