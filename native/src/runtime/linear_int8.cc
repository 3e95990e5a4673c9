#include "runtime/linear_int8.h"

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

}  // namespace quantstudio::runtime
