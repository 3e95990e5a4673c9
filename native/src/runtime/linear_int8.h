// bitsandbytes 8-bit layers (LLM.int8), as Linear8bitLt saves them: `<prefix>.weight` int8 + `<prefix>.SCB`.
#pragma once

#include <memory>
#include <string>

#include "kernels/qmatmul_bnb.h"
#include "runtime/linear_quant.h"

namespace quantstudio::runtime {

/** nullptr unless `<prefix>.SCB` exists. */
std::unique_ptr<QuantLinear> LoadInt8Linear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions& options);

/** A Linear over LLM.int8 codes it keeps ([out, in] int8 and each row's absmax): a dense layer quantized at load. */
std::unique_ptr<QuantLinear> MakeInt8Linear(std::unique_ptr<const kernels::Int8Codes> codes, int64_t out, int64_t in,
                                            std::vector<float> bias);

}  // namespace quantstudio::runtime
