// bitsandbytes 8-bit layers (LLM.int8), as Linear8bitLt saves them: `<prefix>.weight` int8 + `<prefix>.SCB`.
#pragma once

#include <memory>
#include <string>

#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.SCB` exists. */
std::unique_ptr<QuantLinear> LoadInt8Linear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions& options);

}  // namespace quantstudio::runtime
