#include "runtime/linear_int8.h"

#include <stdexcept>

#include "formats/bnb.h"
#include "formats/layouts.h"
#include "kernels/qmatmul_bnb.h"

namespace quantstudio::runtime {

// transformers' bnb 8-bit layer (Linear8bitLt with has_fp16_weights=False) runs LLM.int8() at inference:
// the input columns holding any activation whose magnitude exceeds llm_int8_threshold (6.0 by default)
// are split off and multiplied in fp16 against those columns of the dequantized weight, while the rest
// goes through int8 × int8 with row-wise scales for both activations and weights. We do not quantize
// activations: every column is multiplied in fp32 against W = q · SCB / 127, which is what the outlier
// path computes for all columns, so our result is the outlier-free ideal (closer to fp16 than bnb's).
std::unique_ptr<QuantLinear> LoadInt8Linear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions&) {
  if (!weights.Find(prefix + ".SCB")) return nullptr;
  const quant::Int8Quantized q = formats::UnpackBnb8(formats::LookupIn(weights), prefix);  // validates; a copy
  const kernels::Int8Packed p{weights.Get(prefix + ".weight").data, weights.Get(prefix + ".SCB").data, q.cols, q.rows};
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::Bnb8).name, kernels::MakeInt8Matrix(p),
                                       OptionalBias(weights, prefix, q.rows));
}

std::unique_ptr<QuantLinear> MakeInt8Linear(std::unique_ptr<const kernels::Int8Codes> codes, int64_t out, int64_t in,
                                            std::vector<float> bias) {
  if (static_cast<int64_t>(codes->weight.size()) != out * in || static_cast<int64_t>(codes->scb.size()) != out) {
    throw std::invalid_argument("int8 linear: the codes do not hold " + std::to_string(out) + " × " +
                                std::to_string(in) + " weights");
  }
  const kernels::Int8Packed p{reinterpret_cast<const uint8_t*>(codes->weight.data()),
                              reinterpret_cast<const uint8_t*>(codes->scb.data()), in, out};
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::Bnb8).name,
                                       kernels::MakeInt8Matrix(p, std::move(codes)), std::move(bias));
}

}  // namespace quantstudio::runtime
