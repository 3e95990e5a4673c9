#include "runtime/linear_ct.h"

#include "formats/compressed_tensors.h"
#include "formats/layouts.h"
#include "kernels/qmatmul_ct.h"

namespace quantstudio::runtime {

std::unique_ptr<QuantLinear> LoadCtPackedLinear(const io::ModelWeights& weights, const std::string& prefix,
                                                const LinearOptions&) {
  if (!weights.Find(prefix + ".weight_packed")) return nullptr;
  const CtPacked t = formats::ReadCtPacked(formats::LookupIn(weights), prefix);
  return std::make_unique<QuantLinear>(formats::LayoutOf(formats::LayoutId::CtPacked).name,
                                       kernels::MakeCtPackedMatrix(t), OptionalBias(weights, prefix, t.out));
}

}  // namespace quantstudio::runtime
