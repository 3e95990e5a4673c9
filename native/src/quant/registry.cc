#include "quant/registry.h"

#include "quant/rtn.h"

namespace quantstudio::quant {
namespace {

QuantResult Rtn(const WeightMatrix& w, const QuantOptions& o, const JobContext& ctx) {
  return QuantizeRtn(w, RtnOptions{o.bits, o.groupSize, o.sym}, ctx);
}

template <Bnb4Type kType>
QuantResult Bnb4(const WeightMatrix& w, const QuantOptions& o, const JobContext& ctx) {
  Bnb4Options options;
  options.type = kType;
  options.blocksize = o.blocksize;
  options.doubleQuant = o.doubleQuant;
  return QuantizeBnb4(w, options, ctx);
}

QuantResult Int8(const WeightMatrix& w, const QuantOptions& o, const JobContext& ctx) {
  return QuantizeInt8(w, Int8Options{o.threshold}, ctx);
}

const struct {
  const char* name;
  QuantizerFn fn;
} kQuantizers[] = {
    {"rtn", Rtn},
    {"nf4", Bnb4<Bnb4Type::NF4>},
    {"fp4", Bnb4<Bnb4Type::FP4>},
    {"int8", Int8},
};

}  // namespace

QuantizerFn FindQuantizer(const std::string& name) {
  for (const auto& q : kQuantizers) {
    if (name == q.name) return q.fn;
  }
  return nullptr;
}

std::vector<std::string> QuantizerNames() {
  std::vector<std::string> names;
  for (const auto& q : kQuantizers) names.emplace_back(q.name);
  return names;
}

}  // namespace quantstudio::quant
