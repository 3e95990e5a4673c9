#include "runtime/linear_bnb4.h"

#include "formats/bnb.h"
#include "formats/layouts.h"
#include "kernels/qmatmul_bnb.h"

namespace quantstudio::runtime {
namespace {

// The per-block scale bitsandbytes' dequantize_4bit uses: with double quant, absmax was stored as 8-bit
// codes into the nested map, scaled per nested block, with the mean (offset) added back.
std::vector<float> BlockScales(const quant::Bnb4Quantized& q) {
  if (!q.nested) return q.absmax;
  std::vector<float> out(q.absmaxCodes.size());
  for (size_t b = 0; b < out.size(); ++b) {
    out[b] = q.nestedCode[q.absmaxCodes[b]] * q.nestedAbsmax[b / static_cast<size_t>(q.nestedBlocksize)] + q.offset;
  }
  return out;
}

}  // namespace

std::unique_ptr<QuantLinear> LoadBnb4Linear(const io::ModelWeights& weights, const std::string& prefix,
                                            const LinearOptions&) {
  const std::string state = prefix + ".weight.quant_state.bitsandbytes__";
  if (!weights.Find(state + "nf4") && !weights.Find(state + "fp4")) return nullptr;
  // The unpacker validates the quant state and every tensor's dtype and shape; the codes are then read
  // in place from the mapping, not from its copy.
  const quant::Bnb4Quantized q = formats::UnpackBnb4(formats::LookupIn(weights), prefix);
  if (q.shape.size() != 2) {
    throw formats::FormatError(prefix + ".weight: quant state shape " + formats::ShapeString(q.shape) +
                               " is not a [out, in] matrix");
  }
  kernels::Bnb4Packed p{
      weights.Get(prefix + ".weight").data, BlockScales(q), q.code, q.shape[1], q.shape[0], q.blocksize};
  const int64_t out = p.out;
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::Bnb4).name,
                                       kernels::MakeBnb4Matrix(std::move(p)), OptionalBias(weights, prefix, out));
}

}  // namespace quantstudio::runtime
