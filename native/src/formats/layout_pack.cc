#include "formats/layout_pack.h"

#include <type_traits>
#include <variant>

#include "formats/awq.h"
#include "formats/bnb.h"
#include "formats/gptq.h"

namespace quantstudio::formats {

namespace {

// Feed's order is the variant's, so a result's kind is its index.
template <Feed F, class T>
constexpr bool kFeedIs = std::is_same_v<std::variant_alternative_t<static_cast<size_t>(F), quant::QuantResult>, T>;
static_assert(kFeedIs<Feed::Group, quant::GroupQuantized> && kFeedIs<Feed::Bnb4, quant::Bnb4Quantized> &&
              kFeedIs<Feed::Int8, quant::Int8Quantized>);

std::string WrongFeed(const std::string& prefix, const CheckpointLayout& layout, Feed given) {
  return prefix + ": layout " + layout.name + " packs a '" + FeedName(layout.feed) + "' result, not a '" +
         FeedName(given) + "' one";
}

// The layouts the runtime only loads (compressed-tensors) have no packer, unpacker or config writer.
void RequireWritten(const std::string& prefix, const CheckpointLayout& layout) {
  if (!layout.engineWrites) {
    throw FormatError(prefix + ": the " + layout.name + " layout is loaded by the runtime only; the engine writes " +
                      LayoutNames(true));
  }
}

}  // namespace

Feed FeedOf(const quant::QuantResult& r) { return static_cast<Feed>(r.index()); }

TensorSet PackGroupLayout(LayoutId id, const std::string& prefix, const quant::GroupQuantized& q, bool gptqV2Zeros) {
  RequireWritten(prefix, LayoutOf(id));
  switch (id) {
    case LayoutId::Gptq: return PackGptq(prefix, q, gptqV2Zeros);
    case LayoutId::AwqGemm: return PackAwq(prefix, q, AwqVersion::Gemm);
    case LayoutId::AwqGemv: return PackAwq(prefix, q, AwqVersion::Gemv);
    default: throw FormatError(WrongFeed(prefix, LayoutOf(id), Feed::Group));
  }
}

TensorSet PackLayout(LayoutId id, const std::string& prefix, const quant::QuantResult& r, DType computeDtype,
                     bool gptqV2Zeros) {
  const CheckpointLayout& layout = LayoutOf(id);
  RequireWritten(prefix, layout);
  if (FeedOf(r) != layout.feed) throw FormatError(WrongFeed(prefix, layout, FeedOf(r)));
  switch (layout.feed) {
    case Feed::Group: return PackGroupLayout(id, prefix, std::get<quant::GroupQuantized>(r), gptqV2Zeros);
    case Feed::Bnb4: return PackBnb4(prefix, std::get<quant::Bnb4Quantized>(r), computeDtype);
    case Feed::Int8: return PackBnb8(prefix, std::get<quant::Int8Quantized>(r));
  }
  return {};
}

quant::QuantResult UnpackLayout(LayoutId id, const TensorLookup& lookup, const std::string& prefix, int bits,
                                int64_t groupSize, bool gptqV2Zeros) {
  RequireWritten(prefix, LayoutOf(id));
  switch (id) {
    case LayoutId::Gptq: return UnpackGptq(lookup, prefix, bits, groupSize, gptqV2Zeros);
    case LayoutId::AwqGemm: return UnpackAwq(lookup, prefix, groupSize, AwqVersion::Gemm);
    case LayoutId::AwqGemv: return UnpackAwq(lookup, prefix, groupSize, AwqVersion::Gemv);
    case LayoutId::Bnb4: return UnpackBnb4(lookup, prefix);
    case LayoutId::Bnb8: return UnpackBnb8(lookup, prefix);
    case LayoutId::CtPacked: break;
  }
  return {};
}

}  // namespace quantstudio::formats
