// bitsandbytes 4-bit layers (NF4 / FP4, with or without double quant), as Linear4bit saves them.
#pragma once

#include <memory>
#include <string>

#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.weight.quant_state.bitsandbytes__nf4` (or `__fp4`) exists. */
std::unique_ptr<QuantLinear> LoadBnb4Linear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions& options);

}  // namespace quantstudio::runtime
